"""Checks that the benchmarks run and report what they promise (no timed assertions)."""
