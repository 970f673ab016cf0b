"""Photos and videos of reports: safe intake, privacy-clean derivatives, storage."""
