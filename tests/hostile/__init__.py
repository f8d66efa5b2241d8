"""Helpers and data for the sandbox tests and the hostile-submission suite."""
