"""Citizen reports: intake, public reads, supports, the event trail."""
