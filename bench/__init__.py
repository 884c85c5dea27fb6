"""Benchmarks: figures printed, never asserted. ``python -m bench [--json] [--quick]``."""
