"""Directorates, their units, external bodies, programs and categories."""
