"""Uploaded feature models analysed in a worker process with a time limit (issue 15 section 2).

``configurator.analyse_upload`` runs every analysis of ``fm analyze``; a hostile or just huge
file can keep it busy for long (a 5,001-level tree took 14.6 s, measured) and a thread cannot be
stopped. So the analysis runs in a child process: past ``TIME_LIMIT_SECONDS`` the child is killed
and the caller gets a 503 saying so; at most ``MAX_WORKERS`` analyses run at once and a further
upload is a 503 at once (the server's two cores are shared). Children are forked from a
``forkserver`` — a clean single-threaded process that has already imported the engine — so a child
starts in milliseconds and never inherits the web server's threads or locks.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from evplatform.errors import EvplatformError
from evplatform.service.configurator import ModelFileError, analyse_upload

logger = logging.getLogger(__name__)

TIME_LIMIT_SECONDS = 10.0
MAX_WORKERS = 2
_PRELOAD = ["evplatform.service.configurator"]
_slots = threading.BoundedSemaphore(MAX_WORKERS)
_context_lock = threading.Lock()
_context: Any = None


class AnalysisTimeout(EvplatformError):
    """The analysis did not finish within the time limit; the worker was stopped."""

    http_status = 503


class AnalysisBusy(EvplatformError):
    """Every analysis worker is busy."""

    http_status = 503


def _mp() -> Any:
    """The forkserver context, its preload set before the server process starts (once)."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def _child(connection: Connection, filename: str, data: bytes) -> None:
    """Run in the worker: the analysis, or the error's fields, sent back through the pipe."""
    try:
        connection.send(("ok", analyse_upload(filename, data)))
    except ModelFileError as error:
        connection.send(("model", error.message, error.file, error.line, error.column))
    except EvplatformError as error:
        connection.send(("error", str(error)))
    except MemoryError:
        connection.send(("error", "the model needs more memory than an analysis may take"))
    finally:
        connection.close()


def analyse_upload_bounded(filename: str, data: bytes, limit: float | None = None) -> dict[str, Any]:
    """``analyse_upload`` in a worker process stopped after ``limit`` seconds (default ``TIME_LIMIT_SECONDS``)."""
    seconds = TIME_LIMIT_SECONDS if limit is None else limit
    if not _slots.acquire(blocking=False):
        raise AnalysisBusy(f"{MAX_WORKERS} model analyses are running; try again in a few seconds")
    try:
        return _run(filename, data, seconds)
    finally:
        _slots.release()


def _run(filename: str, data: bytes, seconds: float) -> dict[str, Any]:
    context = _mp()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, filename, data), daemon=True)
    start = time.perf_counter()
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise AnalysisTimeout(f"the analysis of {filename!r} did not finish within {seconds:g} s and was "
                                  "stopped: the model is too large or too deep for this server; analyse it with "
                                  "`evplatform fm analyze` instead")
        try:
            answer = receiver.recv()
        except EOFError:  # the child died without an answer (killed for memory, a crash in a native library)
            raise AnalysisTimeout(f"the analysis of {filename!r} stopped without an answer "
                                  f"(exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
        logger.info("upload analysis of %s: %.2f s", filename, time.perf_counter() - start,
                    extra={"event": "fm_upload_analysis"})
    kind = answer[0]
    if kind == "ok":
        result: dict[str, Any] = answer[1]
        return result
    if kind == "model":
        _, message, file, line, column = answer
        raise ModelFileError(message, file, line, column)
    raise ModelFileError(answer[1], filename)
