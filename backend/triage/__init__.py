"""Directorate triage: agents work their queue; every change is traced."""
