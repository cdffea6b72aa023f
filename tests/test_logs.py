"""The programs' logging set-up: JSON Lines carry the extra fields; nothing is configured on import."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evplatform.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_level_logger_message_and_extra_fields() -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    logging.getLogger("evplatform.api.auth").warning("refused %s", "token", extra={"event": "auth_failed", "vin": "X"})
    logging.getLogger("evplatform.api.auth").debug("not shown below the level")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "warning"
    assert entry["logger"] == "evplatform.api.auth"
    assert entry["message"] == "refused token"
    assert entry["event"] == "auth_failed" and entry["vin"] == "X"
    assert entry["time"].endswith("+00:00")


def test_text_format_appends_extra_fields_and_a_second_call_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", "text", first)
    configure_logging("info", "text", second)
    logging.getLogger("evplatform.fleet").info("campaign halted", extra={"campaign": 7})
    assert first.getvalue() == ""
    assert "INFO evplatform.fleet: campaign halted campaign=7" in second.getvalue()


def test_unknown_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure_logging("info", "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        configure_logging("loud", "text")


def test_importing_the_package_configures_no_logging() -> None:
    code = ("import logging, evplatform.api, evplatform.fleet, evplatform.ota.director, evplatform.cli.main;"
            "print(len(logging.getLogger().handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_the_cli_logs_json_lines_when_asked(tmp_path: Path) -> None:
    env = {**os.environ, "EVPLATFORM_LOG_FORMAT": "json", "EVPLATFORM_LOG_LEVEL": "info"}
    done = subprocess.run([sys.executable, "-m", "evplatform", "ota", "keys", "init", str(tmp_path / "keys"),
                           "--insecure-demo-keys"],
                          capture_output=True, text=True, env=env, check=True, timeout=120)
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    [created] = [e for e in events if e.get("event") == "keys_created"]
    assert created["logger"] == "evplatform.ota.keys" and created["offline_encrypted"] is False
