"""CSV text as every table export writes it (RFC 4180, formula-like cells neutralised), shared by the
dashboard's downloads and the API's ``?format=csv`` answers, so both layers write the same file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

Table = tuple[list[str], list[list[Any]]]


def safe_cell(cell: Any) -> Any:
    """``None`` as an empty cell; a text a spreadsheet would run as a formula (OWASP CSV injection:
    ``=``, ``+``, ``-``, ``@``, tab, CR first) behind a quote; numbers and number texts unchanged."""
    if cell is None:
        return ""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(cell)
        except ValueError:
            return "'" + cell
    return cell


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """RFC 4180 text (CRLF line ends); ``None`` is an empty cell, formula-like texts are neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def vehicle_commands_table(rows: list[dict[str, Any]]) -> Table:
    """A vehicle's commands (``GET /api/fleet/vehicles/{vin}/commands``); server times, ISO 8601 with offset."""
    times = [f"{name} at (server clock, ISO 8601)" for name in ("issued", "expires", "answered")]
    header = ["id", "action", "state", "issued by", *times, "detail"]
    return header, [[r["id"], r["action"], r["state"], r["issued_by"], r["issued_at"], r["expires_at"],
                     r["answered_at"], r["detail"]] for r in rows]
