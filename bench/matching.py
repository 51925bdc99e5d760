"""Benchmark: `basirat import customers` and the matching job on synthetic customer records.

Each size runs in a child process of its own, on its own chDB folder, so its
peak memory (ru_maxrss, which counts DuckDB's and chDB's memory too) is its
own. Records come from ``bench.customers`` (four channels, typos, swapped
names, missing fields, reformatted phones, households sharing a landline):

    python -m bench.matching [--sizes 100000,1000000]

Figures per size: seconds to import (parse, standardise, write) and to match
(read, both tiers, decide, write, stitch), peak memory, the pairs compared
beside all n(n-1)/2 pairs, and the pairwise precision and recall of the people
that end in the identity map against the generator's truth, beside the
deterministic tier alone (exact standardised email or phone) on the same records.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def pairwise(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    frame = pd.DataFrame({"t": truth, "p": predicted})
    pairs = lambda sizes: int((sizes * (sizes - 1) // 2).sum())  # noqa: E731
    both, got, real = (
        pairs(frame.groupby(["p", "t"]).size()),
        pairs(frame.groupby("p").size()),
        pairs(frame.groupby("t").size()),
    )
    return (both / got if got else 1.0), (both / real if real else 1.0)


def one_size(n: int) -> dict:
    from click.testing import CliRunner

    from basirat.cli import main
    from basirat.commands._common import data_settings
    from bench.customers import records
    from core import connect, settings
    from matching.decide import deterministic_pairs, guard_shared
    from matching.standardise import standardise
    from mining.matching import match_site
    from warehouse.engine.migrate import migrate
    from warehouse.queries import identity, sites

    frame = records(n)
    folder = Path(tempfile.mkdtemp(prefix="bench-matching-"))
    files = {}
    for source, rows in frame.groupby("source"):
        files[source] = folder / f"{source}.csv"
        columns = [
            "source_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address",
            "city",
            "postcode",
            "birth_date",
        ]
        rows[columns].to_csv(files[source], index=False)
    config = settings.load({**data_settings(str(folder / "data")), "MATCH_DEFAULT_REGION": "US"}, environ={})
    warehouse = connect(config)
    migrate(warehouse)
    site_id = sites.create_site(warehouse, "bench")["site_id"]
    warehouse.close()
    started = time.perf_counter()
    runner = CliRunner()
    for source, path in files.items():
        flag = ["--unverified-ids"] if source == "newsletter" else []
        result = runner.invoke(
            main,
            [
                "--data",
                str(folder / "data"),
                "import",
                "customers",
                str(path),
                "--site",
                site_id,
                "--source",
                source,
                "--region",
                "US",
                "--no-match",
                *flag,
            ],
            catch_exceptions=False,
        )
        if result.exit_code:
            raise SystemExit(result.output)
    imported = time.perf_counter() - started
    warehouse = connect(config)
    started = time.perf_counter()
    outcome = match_site(warehouse, site_id, config, progress=lambda line: print("   ", line, file=sys.stderr))
    matched = time.perf_counter() - started
    assigned = identity.current_map(warehouse, site_id).set_index("identity")["person_id"]
    uid = "record:" + frame["source"] + "/" + frame["source_id"]
    people = assigned.reindex(uid).fillna(pd.Series(uid.to_numpy(), index=uid.to_numpy())).to_numpy()
    precision, recall = pairwise(frame["person"].to_numpy(), people)
    std = standardise(frame.drop(columns=["person"]), "US").assign(uid=uid.to_numpy())
    exact = deterministic_pairs(guard_shared(std, 4)[0])
    exact = exact[exact["tier"] != "name_birth"]
    from matching.decide import clusters

    groups = clusters(std["uid"], exact.assign(decision="link")).reindex(std["uid"]).to_numpy()
    base_p, base_r = pairwise(frame["person"].to_numpy(), groups)
    return {
        "records": len(frame),
        "import_s": round(imported, 1),
        "match_s": round(matched, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "linked_pairs": outcome["links"],
        "review_pairs": outcome["review"],
        "all_pairs": len(frame) * (len(frame) - 1) // 2,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "exact_precision": round(base_p, 4),
        "exact_recall": round(base_r, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Record counts, comma-separated.")
    parser.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))
        return
    print(
        f"{'records':>9} {'import s':>9} {'match s':>8} {'total s':>8} {'peak MB':>8} {'linked':>8} {'review':>7}"
        f" {'P':>7} {'R':>7} {'exact P':>8} {'exact R':>8}"
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        child = subprocess.run(
            [sys.executable, "-m", "bench.matching", "--one", str(size)], capture_output=True, text=True, check=False
        )
        sys.stderr.write(child.stderr[-2000:])
        if child.returncode:
            print(f"{size}: failed (exit {child.returncode})")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"{r['records']:>9} {r['import_s']:>9} {r['match_s']:>8} {r['import_s'] + r['match_s']:>8.1f}"
            f" {r['peak_mb']:>8} {r['linked_pairs']:>8} {r['review_pairs']:>7} {r['precision']:>7} {r['recall']:>7}"
            f" {r['exact_precision']:>8} {r['exact_recall']:>8}"
        )


if __name__ == "__main__":
    main()
