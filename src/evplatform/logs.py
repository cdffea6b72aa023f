"""Logging set-up for the programs (the CLI and the server); the library itself only logs.

Every module logs through its own ``logging.getLogger(__name__)`` and never configures logging:
that is the application's choice, made here once, when a command starts. Two formats:

- ``text``: one readable line an event, for a person at a terminal;
- ``json``: one JSON object a line (JSON Lines) with ``time`` (UTC, ISO 8601), ``level``,
  ``logger``, ``message`` and every ``extra`` field the call passed, for a log pipeline.

Security-relevant events (key loads, published metadata, verification and authentication
failures, campaign state changes) carry their facts as ``extra`` fields, so a pipeline can
filter on ``event`` without parsing prose. A line logged while the server answers a request
carries that request's ``request_id`` (``request_id_var``, set by the API's ``RequestObserver``),
so an error line can be joined to its access line.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
#: The id of the HTTP request being answered in this context (None outside a request).
request_id_var: ContextVar[str | None] = ContextVar("evplatform_request_id", default=None)

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message",  # color_message: uvicorn's ANSI copy of the message
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed with ``extra=`` (every attribute a plain record does not have)."""
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}
    request_id = request_id_var.get()
    if request_id is not None:
        extras.setdefault("request_id", request_id)
    return extras


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a record; ``extra`` fields become keys (values that JSON lacks become strings)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …`` with the extra fields at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        return f"{line} {extras}" if extras else line


def configure_logging(level: str = "warning", log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Send every logger's records (ours and uvicorn's) to one handler on stderr in the chosen format.

    Called by the programs, never on import. Replaces handlers a previous call installed, so a
    test or an embedding application can call it more than once.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_evplatform", False)]:
        root.removeHandler(old)
    handler._evplatform = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
