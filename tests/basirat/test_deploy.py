"""docker-compose.yml and the Dockerfile, checked against the code they run.

No Docker engine runs here, so the files are parsed and every command they
name is looked up in the project: ``basirat`` subcommands in the real CLI's
``--help``, gunicorn apps and config modules as importable modules that define
what is named. The admin app then runs under a real gunicorn.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from core import settings
from tests.support import ROOT
from tests.support.servers import free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if s.get("build") or s.get("image", "").startswith("basirat")}
DOCKERFILE = (ROOT / "Dockerfile").read_text()
VARIABLE = re.compile(r"\bBASIRAT_([A-Z0-9_]+)")


def cli_commands() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "basirat", "--help"], capture_output=True, text=True, timeout=60)
    section = out.stdout.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.strip()}


def module_defines(module: str, name: str) -> bool:
    """The module exists in the project and assigns ``name`` at module level."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    tree = ast.parse(Path(spec.origin).read_text())
    targets = [t for node in tree.body if isinstance(node, ast.Assign) for t in node.targets]
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def gunicorn_parts(command: list[str]) -> tuple[str | None, str]:
    """(config module or None, app) of a gunicorn command line."""
    config, positional, args = None, [], iter(command[1:])
    for arg in args:
        if arg == "--config":
            arg = "--config=" + next(args)
        if arg.startswith("--config="):
            config = arg.split("=", 1)[1].removeprefix("python:")
        elif not arg.startswith("-"):
            positional.append(arg)
    assert len(positional) == 1, command
    return config, positional[0]


@pytest.mark.process
@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_service_command_exists_in_the_project(name):
    command = APP_SERVICES[name]["command"]
    if command[0] == "basirat":
        assert command[1] in cli_commands(), f"{name}: no `basirat {command[1]}` command"
    else:
        assert command[0] == "gunicorn", f"{name}: unknown program {command[0]}"
        config, app = gunicorn_parts(command)
        module, _, attribute = app.partition(":")
        assert module_defines(module, attribute or "application"), f"{name}: {app} does not exist"
        if config:
            assert importlib.util.find_spec(config) is not None, f"{name}: no config module {config}"


def test_every_basirat_variable_is_a_declared_setting():
    named = set(VARIABLE.findall((ROOT / "docker-compose.yml").read_text())) | set(VARIABLE.findall(DOCKERFILE))
    assert named and named <= set(settings.BY_NAME), named - set(settings.BY_NAME)


def test_clickhouse_is_private_and_has_a_password():
    clickhouse = SERVICES["clickhouse"]
    assert "ports" not in clickhouse and "network_mode" not in clickhouse
    assert clickhouse["environment"]["CLICKHOUSE_PASSWORD"].startswith("${CLICKHOUSE_PASSWORD:?")
    assert clickhouse["image"].startswith("clickhouse/clickhouse-server:")
    assert "clickhouse-data:/var/lib/clickhouse" in clickhouse["volumes"]


def test_one_loader_one_scheduler_and_health_checks():
    commands = {name: s["command"] for name, s in APP_SERVICES.items()}
    assert [n for n, c in commands.items() if c[:2] == ["basirat", "scheduler"]] == ["scheduler"]
    assert [n for n, c in commands.items() if c[:2] == ["basirat", "loader"]] == ["loader"]
    for name in ("scheduler", "loader"):
        assert SERVICES[name].get("deploy", {}).get("replicas", 1) == 1
    for name, service in APP_SERVICES.items():
        if service["command"][0] == "gunicorn":
            assert service["healthcheck"]["test"], name
    assert SERVICES["clickhouse"]["healthcheck"]["test"]
    spool = {v for s in (SERVICES["collector"], SERVICES["loader"]) for v in s["volumes"]}
    assert spool == {"spool:/var/lib/basirat/spool"} and set(COMPOSE["volumes"]) == {"clickhouse-data", "spool"}


def test_services_start_after_the_schema_is_migrated():
    assert APP_SERVICES["migrate"]["command"] == ["basirat", "migrate"]
    for name, service in APP_SERVICES.items():
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


@pytest.mark.process
def test_readme_production_commands_exist():
    """The copy-paste of the README's production section names real services and commands."""
    section = re.split(r"^## Production$", (ROOT / "README.md").read_text(), flags=re.M)[1].split("\n## ", 1)[0]
    calls = re.findall(r"docker compose exec (\w+) basirat (\w+)(?: (\w+))?", section)
    assert calls
    commands = cli_commands()
    for service, command, sub in calls:
        assert service in APP_SERVICES and command in commands, (service, command)
        if sub:
            out = subprocess.run([sys.executable, "-m", "basirat", command, sub, "--help"], capture_output=True)
            assert out.returncode == 0, (command, sub)


@pytest.mark.process
def test_dockerfile_copies_every_package_and_runs_unprivileged():
    copied = set(re.findall(r"^COPY (\w+) \1$", DOCKERFILE, re.M))
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests", "bench"}
    assert packages <= copied, packages - copied
    assert re.search(r"^USER basirat$", DOCKERFILE, re.M)
    cmd = re.search(r'^CMD \["basirat", "(\w+)"', DOCKERFILE, re.M).group(1)
    assert cmd in cli_commands()


@pytest.mark.process
def test_admin_app_runs_under_gunicorn(server_warehouse, tmp_path):
    """What the admin service runs, with the command line of docker-compose.yml."""
    port = free_port()
    command = [
        "--bind=127.0.0.1:%d" % port if arg.startswith("--bind=") else arg for arg in APP_SERVICES["admin"]["command"]
    ]
    env = {**os.environ, "BASIRAT_WAREHOUSE_URL": server_warehouse.url, "BASIRAT_SECRET_KEY": "test-secret"}
    env["BASIRAT_LOG_FORMAT"] = "json"
    with open(tmp_path / "admin.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *command], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        status, deadline = None, time.monotonic() + 60
        while status is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                time.sleep(0.3)
        assert status is not None and status < 500, (tmp_path / "admin.log").read_text()[-2000:]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0
