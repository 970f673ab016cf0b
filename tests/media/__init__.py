"""Tests of media handling."""
