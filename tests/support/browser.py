"""Headless Chromium for browser tests: Debian's chromium driven by Playwright.

Playwright's own browser download does not work here, so the launch names
Debian's binary. Screenshots go to ``test-artifacts/`` (kept by make test).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
