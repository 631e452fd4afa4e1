"""Tooling for the NumPy for deep learning course: checks, verdicts, sandbox, grading."""
