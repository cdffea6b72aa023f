"""Telemetry as Parquet partitions for analytics: ``category=…/day=YYYY-MM-DD/model=…/part-….parquet``.

The database stays the record (idempotent, audited); these files are a columnar copy the
after-sales analytics read with pyarrow or pandas without touching the operational store. The
ingester appends one file per committed chunk, only for batches that were new, so a redelivered
batch adds no rows here either. A crash between the commit and the file write leaves those rows
out of the copy (never twice); the store holds them.

Data categories decide retention: ``driving`` (state of charge, odometer — personal data under the
GDPR, kept shorter) and ``safety`` (health events, crash reports — kept longer as evidence).
``purge_partitions`` deletes whole day partitions past a category's limit, by the server clock.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from evplatform.errors import FleetError

log = logging.getLogger(__name__)

CATEGORY_OF_KIND = {"soc": "driving", "odometer": "driving", "health": "safety", "crash": "safety"}
CATEGORIES = ("driving", "safety")
PARTITIONING = ds.partitioning(pa.schema([("category", pa.string()), ("day", pa.string()), ("model", pa.string())]),
                               flavor="hive")
SCHEMA = pa.schema([
    ("vin", pa.string()), ("kind", pa.string()), ("at", pa.timestamp("us", tz="UTC")), ("value", pa.float64()),
    ("release_id", pa.string()), ("category", pa.string()), ("day", pa.string()), ("model", pa.string()),
])


def write_rows(root: Path, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append rows (vin, kind, at, value, release_id, model) as one new file per partition touched."""
    if not rows:
        return 0
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for row in rows:
        at: datetime = row["at"]
        columns["vin"].append(row["vin"])
        columns["kind"].append(row["kind"])
        columns["at"].append(at)
        columns["value"].append(row.get("value"))
        columns["release_id"].append(row.get("release_id"))
        columns["category"].append(CATEGORY_OF_KIND[row["kind"]])
        columns["day"].append(at.date().isoformat())
        columns["model"].append(row["model"])
    table = pa.table(columns, schema=SCHEMA)
    ds.write_dataset(table, root, format="parquet", partitioning=PARTITIONING,
                     basename_template=f"part-{uuid.uuid4().hex}-{{i}}.parquet",
                     existing_data_behavior="overwrite_or_ignore")
    return int(table.num_rows)


def read_table(root: Path) -> pa.Table:
    """Every partition as one table (analytics and tests)."""
    return ds.dataset(root, format="parquet", partitioning=PARTITIONING).to_table()


@dataclass(frozen=True, slots=True)
class PartitionPurge:
    category: str
    keep_days: int
    cutoff: date
    partitions: int


def parse_keep(items: Sequence[str]) -> dict[str, int]:
    """``["driving=30", "safety=365"]`` → days per category (FleetError naming a bad item)."""
    out: dict[str, int] = {}
    for item in items:
        category, _, days = item.partition("=")
        if category not in CATEGORIES or not days.isdigit() or not 1 <= int(days) <= 36_500:
            raise FleetError(f"--keep-category {item!r}: expected CATEGORY=DAYS with CATEGORY one of "
                             f"{', '.join(CATEGORIES)} and 1–36500 days")
        out[category] = int(days)
    return out


def purge_partitions(root: Path, keep: Mapping[str, int], now: datetime, *,
                     dry_run: bool = False) -> list[PartitionPurge]:
    """Delete the day partitions of each category older than its limit (whole folders, server clock)."""
    results = []
    for category, days in sorted(keep.items()):
        cutoff = (now - timedelta(days=days)).date()
        found = 0
        for folder in sorted((root / f"category={category}").glob("day=*")):
            try:
                day = date.fromisoformat(folder.name.removeprefix("day="))
            except ValueError:
                continue
            if day < cutoff:
                found += 1
                if not dry_run:
                    shutil.rmtree(folder)
        log.info("parquet retention %s: %d day partitions before %s", category, found, cutoff)
        results.append(PartitionPurge(category, days, cutoff, found))
    return results
