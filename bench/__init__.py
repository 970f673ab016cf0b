"""Benchmarks: each prints its figures measured side by side in one run."""
