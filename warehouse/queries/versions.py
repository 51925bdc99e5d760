"""Model versions: a job writes each run's rows under a new ``model_version``
(``core.versions``), readers take the site's newest run, and old runs are
pruned (``delete_versions``)."""

from __future__ import annotations


def newest_run(table: str, where: str = "") -> str:
    """A subquery for the newest ``model_version`` of the site's rows in ``table``
    (``{site_id:String}`` bound; ``where`` narrows it further)."""
    return (
        f"(SELECT max(model_version) FROM {table} WHERE site_id = {{site_id:String}}{' AND ' + where if where else ''})"
    )


# Per-person scores halve every 30 days (``recommender.mining``), in nanoseconds of model version.
PERSON_HALF_LIFE_NS = 30 * 86400 * 10**9

# The site's newest per-person model (``rec_models`` is small: a row per run).
NEWEST_PERSON_MODEL = newest_run("rec_models", "model = 'person'")


def newest_person_model(warehouse, site_id: str) -> int:
    """The site's newest per-person run (0 without one), read first and then bound: a scalar
    subquery in ``person_model``'s scores would break its reads over a cluster of 18.16 servers."""
    return int(warehouse.scalar(f"SELECT {NEWEST_PERSON_MODEL}", {"site_id": site_id}) or 0)


def person_model(version: str, people: str = "") -> str:
    """A subquery for the per-person model as of ``version`` (SQL): ``person_id, item_id, score``.

    A full run writes every person's list under its version; a later run
    writes only the people whose history changed, and an empty marker row
    (``item_id = ''``) for those left with no list. So each person's list is
    the one of their newest recorded run up to ``version``; its scores are
    a sum of weights with one half-life, decayed here from that run to
    ``version``, which is what a full run at ``version`` computes from the
    same neighbours. Only recorded runs count: rows of a run that stopped
    half-way are never read. Nor are runs before the last full one (its
    version is the generation in the person job's mark): it wrote a list or
    a marker for everyone an older run had. ``people`` (SQL naming person
    ids) narrows it. ``{site_id:String}`` is bound.
    """
    recorded = person_runs(version)
    scope = f"site_id = {{site_id:String}} AND model_version IN {recorded}"
    if people:
        scope += f" AND person_id IN ({people})"
    return f"""
        SELECT person_id, item_id,
               score * exp2(-toFloat64({version} - model_version) / {PERSON_HALF_LIFE_NS}) AS score
        FROM rec_person_items
        WHERE {scope} AND item_id != ''
          AND (person_id, model_version) IN (
              SELECT person_id, max(model_version) FROM rec_person_items WHERE {scope} GROUP BY person_id)
    """


def person_runs(version: str) -> str:
    """A subquery for the per-person runs read as of ``version`` (SQL): the recorded ones since the last full run."""
    last_full = (
        "(SELECT argMax(generation, version) FROM mining_marks WHERE site_id = {site_id:String} "
        f"AND job = 'person' AND version <= {version})"
    )
    return (
        "(SELECT model_version FROM rec_models WHERE site_id = {site_id:String} AND model = 'person' "
        f"AND model_version <= {version} AND model_version >= {last_full})"
    )


def delete_versions(warehouse, table: str, condition: str, params: dict, below: int) -> None:
    """Delete the rows of ``table`` that ``condition`` (SQL, ``params`` bound) selects, all of
    them older than version ``below``. The model tables keep each run in a partition of its
    own (migrations 0168 and 0172): a run every row of which goes is dropped whole, where a
    mutation would read and rewrite it. One mutation takes what is left (another site's run
    shares its partition with a kept one), and none is started when nothing is."""
    runs = warehouse.query(
        f"SELECT model_version FROM {table} WHERE model_version < {{below:UInt64}} "
        f"GROUP BY model_version HAVING countIf(NOT ({condition})) = 0",
        {**params, "below": below},
    )
    for run in runs:
        warehouse.execute(f"ALTER TABLE {table} DROP PARTITION {int(run['model_version'])}")
    if warehouse.scalar(f"SELECT count() FROM {table} WHERE {condition}", params):
        warehouse.execute(f"ALTER TABLE {table} DELETE WHERE {condition}", params)
