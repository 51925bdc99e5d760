"""Customer records from many sources resolved into people.

Pure functions: standardise raw values (``standardise``), find candidate pairs
and weigh them (``rules`` for the deterministic tier and the guard rails,
``linkage`` for Fellegi-Sunter through Splink), and decide which pairs become
identity links and which go to an operator (``decide``). I/O lives in
``mining.matching``; SQL in ``warehouse.queries.matching``.
"""
