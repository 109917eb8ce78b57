"""Benchmarks run by `make bench`: synthetic exports imported through the real path."""
