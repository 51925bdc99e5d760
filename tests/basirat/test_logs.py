"""Structured logs: BASIRAT_LOG_FORMAT=json gives one JSON object a line."""

import json

import pytest

from tests.support.live import LiveServer, basirat


@pytest.mark.process
def test_json_logs_from_a_real_server(tmp_path):
    server = LiveServer(tmp_path / "data", env={"BASIRAT_LOG_FORMAT": "json"}).start()
    server.stop()
    lines = (tmp_path / "data" / "serve.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    loggers = {entry["logger"] for entry in logged}
    assert "basirat.serve" in loggers and "gunicorn.error" in loggers, lines
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in logged)
    # Everything that is not the banner printed for people is JSON.
    assert [line for line in lines if not line.startswith("{")] == [lines[0]]


@pytest.mark.process
def test_an_unknown_log_format_is_a_one_line_error(tmp_path):
    result = basirat(tmp_path, "migrate", check=False, env={"BASIRAT_LOG_FORMAT": "xml"})
    assert result.returncode == 1 and "BASIRAT_LOG_FORMAT" in result.stderr and "Traceback" not in result.stderr


def test_log_records_are_json_with_tracebacks(capsys):
    import logging

    from core import logs

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("json")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("basirat.test").exception("failed with %s", "détails")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["message"] == "failed with détails" and entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]
