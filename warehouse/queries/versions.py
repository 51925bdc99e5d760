"""The read side of model versions: a job writes each run's rows under a new
``model_version`` (``core.versions``), and readers take the site's newest run."""

from __future__ import annotations


def newest_run(table: str, where: str = "") -> str:
    """A subquery for the newest ``model_version`` of the site's rows in ``table``
    (``{site_id:String}`` bound; ``where`` narrows it further)."""
    return (
        f"(SELECT max(model_version) FROM {table} WHERE site_id = {{site_id:String}}{' AND ' + where if where else ''})"
    )
