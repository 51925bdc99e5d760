"""Helpers shared by the tests and the benchmarks: factories, live servers, data sets."""
