"""Signal93 test suite."""
