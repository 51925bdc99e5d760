"""Helpers shared by the tests and the benchmarks: factories, live servers, data sets."""

from pathlib import Path

# The checkout: the folder that holds pyproject.toml, tests/ and bench/.
ROOT = Path(__file__).resolve().parents[2]
