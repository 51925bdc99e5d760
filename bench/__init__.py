"""Benchmarks: each module prints figures and the ratio to a baseline measured in the same run.

Run them from the checkout as modules, so that they import the project and
``tests.support`` (servers, data sets, factories) like the tests do::

    .venv/bin/python -m bench.collector
"""
