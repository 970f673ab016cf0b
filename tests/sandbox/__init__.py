"""Tests of the hackathon sandbox."""
