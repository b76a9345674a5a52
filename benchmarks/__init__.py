"""Benchmarks: run by hand, print figures (see README.md here); never part of the tests."""
