"""The fleet list: one filter query (typed, or built from the page's dropdowns), sorted, paged, exported.

Everything that narrows the list goes through ``fleet.query`` — the dropdowns and the VIN box only
write query text — so the page, the API, the CLI, saved groups and campaign targets agree on what
a filter means. A page past the end is an empty page that says how many pages there are, never an
error nor a made-up range.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from evplatform.fleet.query import (
    CAMPAIGN_STATES,
    Catalogue,
    StoreCatalogue,
    compile_query,
    conjunction,
    quote,
    workspace_ids,
)
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import vehicle_query as vq
from evplatform.store.vehicles import VehicleRecord
from evplatform.workspace.model import Workspace

SORTS = vq.SORTS
MAX_PAGE_SIZE = 1_000
MAX_CSV_ROWS = 100_000
#: The page's "last seen" and "telemetry health" dropdowns: option -> (label, query text).
SEEN_CHOICES: dict[str, tuple[str, str]] = {
    "1d": ("within 1 day", "last_seen < 1d"),
    "7d": ("within 7 days", "last_seen < 7d"),
    "stale7d": ("more than 7 days ago", "last_seen > 7d"),
    "stale30d": ("more than 30 days ago", "last_seen > 30d"),
    "never": ("never", "last_seen = never"),
}
HEALTH_CHOICES: dict[str, tuple[str, str]] = {
    "crashed7d": ("crash reported in 7 days", "crashes(7d) > 0"),
    "clean7d": ("no crash in 7 days", "crashes(7d) = 0"),
    "crashed30d": ("crash reported in 30 days", "crashes(30d) > 0"),
}


@dataclass(frozen=True, slots=True)
class ListedVehicle:
    record: VehicleRecord
    last_seen: datetime | None
    crashes_7d: int


@dataclass(frozen=True, slots=True)
class FleetPage:
    query: str
    total: int
    offset: int
    limit: int
    sort: str
    descending: bool
    vehicles: list[ListedVehicle] = field(default_factory=list)

    @property
    def page(self) -> int:
        """The page shown, from 0 (pages of ``limit`` vehicles)."""
        return self.offset // self.limit

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    @property
    def past_end(self) -> bool:
        return self.offset > 0 and self.offset >= self.total

    @property
    def first(self) -> int:
        """1-based position of the first vehicle shown (0 when none)."""
        return self.offset + 1 if self.vehicles else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.vehicles) if self.vehicles else 0

    @property
    def note(self) -> str | None:
        if self.past_end:
            return (f"Page {self.page + 1:,} is past the end: {self.total:,} vehicle{'s' if self.total != 1 else ''} "
                    f"fill {self.pages:,} page{'s' if self.pages != 1 else ''}.")
        return None


def catalogue_for(store: Store, ws: Workspace | None = None) -> StoreCatalogue:
    return StoreCatalogue(store, workspace_ids(ws) if ws is not None else None)


def search(store: Store, query: str, *, now: datetime, sort: str = "vin", descending: bool = False,
           offset: int = 0, limit: int = 50, catalogue: Catalogue | None = None) -> FleetPage:
    """The ``limit`` vehicles from ``offset`` matching ``query`` and their total; QueryError for a bad
    query. An offset past the end gives an empty page (``note`` says so), not an error."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    condition = compile_query(query, catalogue or catalogue_for(store), now)
    total = vq.count_matching(store, condition)
    if offset >= total:
        return FleetPage(query, total, offset, limit, sort, descending)
    records = vq.list_matching(store, condition, sort=sort, descending=descending, limit=limit, offset=offset)
    seen = vq.seen_and_crashes(store, [r.id for r in records], now - timedelta(days=7))
    listed = [ListedVehicle(r, *(seen.get(r.id) or (None, 0))) for r in records]
    return FleetPage(query, total, offset, limit, sort, descending, listed)


def count(store: Store, query: str, *, now: datetime, catalogue: Catalogue | None = None) -> int:
    return vq.count_matching(store, compile_query(query, catalogue or catalogue_for(store), now))


def matching_ids(store: Store, query: str, *, now: datetime, catalogue: Catalogue | None = None) -> list[int]:
    return vq.matching_ids(store, compile_query(query, catalogue or catalogue_for(store), now))


@dataclass(frozen=True, slots=True)
class FilterForm:
    """What the fleet page's controls hold; ``query_text`` turns them into one query."""

    vin: str = ""
    model: str = ""
    trim: str = ""
    market: str = ""
    ecu: str = ""
    version: str = ""
    campaign: str = ""
    campaign_state: str = ""
    seen: str = ""
    health: str = ""
    q: str = ""

    def parts(self) -> list[str]:
        parts: list[str] = []
        if self.vin.strip():
            vin = self.vin.strip()
            parts.append(f"vin = {quote(vin)}" if len(vin) == 17 else f"vin ~ {quote(vin)}")
        for name in ("model", "trim", "market"):
            value = getattr(self, name).strip()
            if value:
                parts.append(f"{name} = {quote(value)}")
        if self.ecu and self.version:
            parts.append(f"version({quote(self.ecu)}) = {quote(self.version)}")
        if self.campaign:
            state = self.campaign_state or "any"
            parts.append(f"campaign({self.campaign}) = {quote(state)}" if self.campaign.isdigit()
                         else f"campaign_state = {quote(state)}")
        elif self.campaign_state:
            parts.append(f"campaign_state = {quote(self.campaign_state)}")
        if self.seen in SEEN_CHOICES:
            parts.append(SEEN_CHOICES[self.seen][1])
        if self.health in HEALTH_CHOICES:
            parts.append(HEALTH_CHOICES[self.health][1])
        if self.q.strip():
            parts.append(self.q.strip())
        return parts

    def query_text(self) -> str:
        return conjunction(self.parts())


def installed_software(census: Mapping[str, Mapping[tuple[str, str], int]], ecus: Sequence[str],
                       vehicles: int) -> dict[str, dict[str, int]]:
    """ECU -> ``"component version"`` -> vehicles (``none``: vehicles without that ECU), for the page's
    per-ECU summary; from one ``store.vehicle_query.software_census``."""
    out: dict[str, dict[str, int]] = {}
    for ecu in ecus:
        counts = {f"{c} {v}".strip() or "none": n for (c, v), n in sorted(census.get(ecu, {}).items())}
        missing = vehicles - sum(counts.values())
        if missing > 0:
            counts = {"none": missing, **counts}
        if counts and vehicles:
            out[ecu] = counts
    return out


def filter_options(store: Store, ws: Workspace | None,
                   census: Mapping[str, Mapping[tuple[str, str], int]] | None = None) -> dict[str, Any]:
    """The dropdowns' choices, from the workspace and the fleet: models, trims, markets (regions with
    their members), installed versions per ECU (from ``census`` when given), campaigns and their states."""
    catalogue = catalogue_for(store, ws)
    parents = catalogue.market_parents()
    members: dict[str, list[str]] = {}
    for market, parent in parents.items():
        if parent:
            members.setdefault(parent, []).append(market)
    markets = [{"id": m, "label": f"{m} (region: {', '.join(sorted(members[m]))})" if m in members else m}
               for m in catalogue.values("market")]
    if census is None:
        versions = {ecu: list(catalogue.versions(ecu)) for ecu in catalogue.ecus()}
    else:
        versions = {ecu: sorted({v for (_c, v) in found if v}) for ecu, found in sorted(census.items())}
    campaigns = [{"id": c.id, "label": f"{c.id}: {c.release_id} ({c.state})"} for c in cdb.list_campaigns(store)]
    models, trims = list(catalogue.values("model")), list(catalogue.values("trim_key"))
    return {"models": models, "trims": trims, "example": query_example(models, trims, members, markets, versions),
            "markets": markets, "versions": {k: v for k, v in versions.items() if v}, "campaigns": campaigns,
            "campaign_states": list(CAMPAIGN_STATES),
            "seen": {k: label for k, (label, _) in SEEN_CHOICES.items()},
            "health": {k: label for k, (label, _) in HEALTH_CHOICES.items()}}


def query_example(models: Sequence[str], trims: Sequence[str], members: Mapping[str, Sequence[str]],
                  markets: Sequence[Mapping[str, Any]], versions: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """A query the help text shows, made of this platform's own names (never the demo's)."""
    model = models[0] if models else "model"
    region = next(iter(members), markets[0]["id"] if markets else "market")
    ecu, found = next(((e, v) for e, v in versions.items() if v), ("ecu", ["1.0"]))
    return {"model": model, "trim": trims[0] if trims else f"{model}/trim", "region": region, "ecu": ecu,
            "query": f'model = {model} and market in ({region}) and version("{ecu}") < "{found[-1]}" '
                     "and last_seen < 7d",
            "group": f"{region}-{model}-old".lower()}


CSV_COLUMNS = ("vin", "model", "trim", "market", "registered_at", "last_seen", "crashes_7d", "consent_updates",
               "consent_telemetry", "software")


def csv_text(store: Store, query: str, *, now: datetime, sort: str = "vin", descending: bool = False,
             catalogue: Catalogue | None = None) -> str:
    """Every matching vehicle (up to ``MAX_CSV_ROWS``) as CSV, software as ``ecu=component version;…``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    chosen = catalogue or catalogue_for(store)
    condition = compile_query(query, chosen, now)
    for offset in range(0, MAX_CSV_ROWS, 5_000):
        records = vq.list_matching(store, condition, sort=sort, descending=descending, limit=5_000, offset=offset)
        seen = vq.seen_and_crashes(store, [r.id for r in records], now - timedelta(days=7))
        for r in records:
            last, crashes = seen.get(r.id) or (None, 0)
            writer.writerow([r.vin, r.model, r.trim, r.market, r.registered_at.isoformat(),
                             last.isoformat() if last else "", crashes, r.consent_updates, r.consent_telemetry,
                             software_text(r.software)])
        if len(records) < 5_000:
            break
    return out.getvalue()


def software_text(software: Mapping[str, Mapping[str, str]]) -> str:
    return "; ".join(f"{ecu}={s.get('component', '')} {s.get('version', '')}".strip()
                     for ecu, s in sorted(software.items()))


def page_numbers(current: int, pages: int, around: int = 2) -> Sequence[int | None]:
    """Page numbers (from 0) to link: the first, the last, ``around`` either side of the current;
    None where numbers are skipped."""
    wanted = {0, pages - 1, *range(current - around, current + around + 1)}
    shown = sorted(p for p in wanted if 0 <= p < pages)
    out: list[int | None] = []
    for number in shown:
        if out and out[-1] is not None and number - out[-1] > 1:
            out.append(None)
        out.append(number)
    return out
