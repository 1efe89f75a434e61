"""Benchmarks: each prints a table of measured numbers and ratios; none is a test."""
