"""Benchmarks: scripts that build a realistic database and time real requests against it."""
