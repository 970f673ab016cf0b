"""Which directorate unit, or which external body, receives a report."""
