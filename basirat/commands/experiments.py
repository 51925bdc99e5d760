"""``basirat experiments …``: A/B tests of recommendation strategies, split by browser id."""

from __future__ import annotations

import json

import click

from ._common import fail, known_site, migrated


@click.group()
def experiments() -> None:
    """A/B tests of recommendation strategies."""


@experiments.command("arms")
def experiments_arms() -> None:
    """The arms an experiment may compare."""
    from recommender.experiments import ARMS

    for name, help_text in ARMS.items():
        click.echo(f"{name:<10} {help_text}")


@experiments.command("start")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--arms", required=True, help="Two or more arms, comma-separated, the control first (see `arms`).")
@click.option("--name", default="", help="Name of the experiment (a new name splits visitors afresh).")
@click.pass_context
def experiments_start(ctx: click.Context, site_id: str, arms: str, name: str) -> None:
    """Split the site's visitors between ARMS from now on (replacing any running experiment)."""
    from recommender.experiments import check_arms, check_name
    from warehouse.queries import rec_experiments as store

    try:
        chosen = check_arms([a.strip() for a in arms.split(",") if a.strip()])
        name = check_name(name, chosen)
    except ValueError as exc:
        fail(str(exc))
    store.set_experiment(migrated(ctx), known_site(ctx, site_id), name, chosen, active=True)
    click.echo(f"experiment {name} started on {site_id}: {', '.join(chosen)} (endpoints pick it up within seconds)")


@experiments.command("stop")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def experiments_stop(ctx: click.Context, site_id: str) -> None:
    """Serve everyone the usual way again; the results stay."""
    from warehouse.queries import rec_experiments as store

    running = store.experiment(migrated(ctx), known_site(ctx, site_id))
    if not running or not int(running["active"]):
        fail(f"no experiment is running on {site_id}")
    store.set_experiment(migrated(ctx), site_id, running["name"], list(running["arms"]), active=False)
    click.echo(f"experiment {running['name']} stopped on {site_id}")


@experiments.command("show")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--json", "as_json", is_flag=True, help="Print the arms as JSON.")
@click.pass_context
def experiments_show(ctx: click.Context, site_id: str, as_json: bool) -> None:
    """Impressions, CTR and attributed revenue per arm, with 95% intervals."""
    from recommender.experiments import compare_arms
    from warehouse.queries import rec_experiments as store

    wh = migrated(ctx)
    running = store.experiment(wh, known_site(ctx, site_id))
    if not running:
        fail(f"{site_id} has never run an experiment")
    arms = compare_arms(store.arm_results(wh, site_id, running["name"]), running["arms"][0])
    if as_json:
        click.echo(json.dumps({"experiment": running["name"], "active": bool(running["active"]), "arms": arms}))
        return
    click.echo(
        f"{running['name']} ({'running' if int(running['active']) else 'stopped'}), control {running['arms'][0]}"
    )
    for a in arms:
        flag = {True: "differs from control", False: "no significant difference", None: "control"}
        click.echo(
            f"{a['arm']:<10} answers {int(a['answers']):>7,}  impressions {int(a['impressions']):>7,}"
            f"  CTR {a['ctr']:.2%} [{a['ctr_ci'][0]:.2%}, {a['ctr_ci'][1]:.2%}] ({flag[a['ctr_significant']]})"
            f"  revenue {float(a['revenue']):,.2f}, per answer {a['revenue_per_answer']:.3f}"
            f" [{a['revenue_ci'][0]:.3f}, {a['revenue_ci'][1]:.3f}] ({flag[a['revenue_significant']]})"
        )
