"""Basirat: composes the rooms (collector, recommender, webapp) over the warehouse."""

__version__ = "0.1.0"
