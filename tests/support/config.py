"""Settings for code under test: the defaults, untouched by the environment of the run."""

from core import settings

CONFIG = settings.load(environ={})


def config(**overrides) -> dict:
    """The defaults with some settings changed (by name, without ``BASIRAT_``)."""
    return settings.load(overrides, environ={})
