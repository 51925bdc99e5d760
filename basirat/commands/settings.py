"""``basirat settings``: every setting, its default and its meaning."""

from __future__ import annotations

import click

from core import settings


@click.command("settings")
def show_settings() -> None:
    """Every setting with its default and meaning."""
    for s in settings.SETTINGS:
        click.echo(f"BASIRAT_{s.name} (default {s.default!r})\n    {s.help}")
