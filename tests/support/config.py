"""Settings for code under test: the defaults, untouched by the environment of the run.

One exception: ``SEGMENT_HISTORY_DAYS`` is 0, because the session's warehouse holds hundreds of
small sites and each one's first segments run would replay 30 past days; the tests of that replay
set it themselves.
"""

from core import settings

CONFIG = settings.load({"SEGMENT_HISTORY_DAYS": 0}, environ={})


def config(**overrides) -> dict:
    """The defaults (replay as above) with some settings changed (by name, without ``BASIRAT_``)."""
    return settings.load({"SEGMENT_HISTORY_DAYS": 0, **overrides}, environ={})


def only(*site_ids: str) -> dict:
    """The settings above for a job run on these sites alone (``basirat jobs run --site``): the
    session's warehouse holds every test's sites, and a test mines its own."""
    return {**CONFIG, "sites": list(site_ids)}
