"""Fleet scenarios as data: what ``fleet simulate`` and ``fleet demo`` roll out, to whom, where.

A scenario is a YAML file (``fleet-scenario.yaml`` in the workspace, or any file given with
``--scenario``)::

    fleet_size: 10000            # vehicles when --vehicles is not given
    vin_prefix: LMD              # world manufacturer identifier (ISO 3780): 3 of A–Z/0–9 but I, O, Q
    seed: 7                      # same seed, same fleet, same answers
    start: 2026-11-02            # the first campaign starts at 00:00 UTC that day
    window: ["01:00", "05:00"]   # daily local-time maintenance window, or null for any time
    market_shares: {CN: 0.85, DE: 0.15}   # optional, leaf markets; must sum to 1 (an error, never normalised)
    releases:                    # rolled out one after the other
      - {component: hub-os, version: 1.7.0}
      - {component: adas-high, version: 2.5.0, crash_cohort: su7/max, crash_rate: 0.05}
    failures: {install_failure: 0.004}   # optional: FailureModel probabilities per offer

Every name is checked against the workspace (component, market, trim), every error names
file:line, and an unknown key says which known one was probably meant. A market's share weights
the trims it sells by their planned ``volume_per_year``; a market without a share registers no
vehicles. Without ``market_shares`` the shares are the market files' own ``fleet_share``
(``workspace_shares``: markets that declare none split what is left equally; equal shares when no
market declares one). A workspace without a scenario file gets one derived from itself
(``derive_scenario``): each compatible component's version bumped as a release, the workspace's
shares, no bad release — and ``Scenario.notes`` says so, so no output passes a guess off as a plan.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from evplatform.errors import EvplatformError, FleetError, SourceError, WorkspaceError
from evplatform.fleet.gates import MaintenanceWindow
from evplatform.fleet.link import FailureModel
from evplatform.workspace import Workspace
from evplatform.workspace.sources import LineDict, LineList, read_yaml_mapping

SCENARIO_FILE = "fleet-scenario.yaml"
START = datetime(2026, 11, 2, tzinfo=UTC)
DEFAULT_FLEET_SIZE = 10_000
DEFAULT_WINDOW = ("01:00", "05:00")
#: Shares may be written with rounded decimals; beyond this the file is wrong, not rounded.
SHARE_TOLERANCE = 1e-6
WMI_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{3}\Z")
TOP_KEYS = ("description", "fleet_size", "vin_prefix", "seed", "start", "window", "market_shares", "releases",
            "failures")
RELEASE_KEYS = ("component", "version", "crash_cohort", "crash_rate")
FAILURE_KEYS = ("download_interruption", "install_failure", "power_loss", "postpone", "offline")


class ScenarioError(FleetError, SourceError):
    """A scenario file that cannot be run, located at its file and line."""

    http_status = 400


@dataclass(frozen=True, slots=True)
class ScenarioRelease:
    """A release the scenario rolls out: a new version of one workspace software component."""

    component: str
    version: str
    crash_cohort: str | None = None  # "model/trim" whose new software crashes
    crash_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario. ``source`` says where it came from; ``notes`` what was derived."""

    releases: tuple[ScenarioRelease, ...]
    market_shares: Mapping[str, float]
    vin_prefix: str
    fleet_size: int = DEFAULT_FLEET_SIZE
    window: tuple[str, str] | None = DEFAULT_WINDOW
    failures: FailureModel = field(default_factory=FailureModel)
    seed: int = 7
    start: datetime = START
    source: str = ""
    derived: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "derived": self.derived,
            "notes": list(self.notes),
            "fleet_size": self.fleet_size,
            "vin_prefix": self.vin_prefix,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "window": list(self.window) if self.window else None,
            "market_shares": dict(self.market_shares),
            "releases": [
                {"component": r.component, "version": r.version, "crash_cohort": r.crash_cohort,
                 "crash_rate": r.crash_rate}
                for r in self.releases
            ],
        }


def load_scenario(ws: Workspace, path: str | Path | None = None) -> Scenario:
    """The scenario in ``path``, else the workspace's ``fleet-scenario.yaml``, else one derived from it."""
    if path is not None:
        return read_scenario(Path(path), ws)
    own = ws.root / SCENARIO_FILE
    if not own.is_file():
        return derive_scenario(ws)
    # named from the workspace folder, so the same workspace reports the same source wherever it lies
    return replace(read_scenario(own, ws), source=f"{ws.root.name}/{SCENARIO_FILE}")


def read_scenario(path: Path, ws: Workspace) -> Scenario:
    """Parse and check a scenario file against the workspace; every error names file:line."""
    try:
        spec = read_yaml_mapping(path, "fleet scenario")
    except WorkspaceError as error:
        raise ScenarioError(error.message, error.file, error.line, error.column) from None
    _known_keys(spec, TOP_KEYS, path, "scenario")
    notes: tuple[str, ...] = ()
    if "market_shares" in spec:
        shares = _market_shares(spec, path, ws)
    else:
        shares, note = workspace_shares(ws)
        notes = (f"market shares from the workspace: {note}",)
    releases = _releases(spec, path, ws)
    return Scenario(
        releases=releases,
        market_shares=shares,
        vin_prefix=_vin_prefix(spec.get("vin_prefix"), path, spec.line_of("vin_prefix")),
        fleet_size=_integer(spec, "fleet_size", DEFAULT_FLEET_SIZE, path, minimum=1),
        window=_window(spec, path),
        failures=_failures(spec, path),
        seed=_integer(spec, "seed", 7, path, minimum=0),
        start=_start(spec, path),
        source=str(path),
        notes=notes,
    )


def derive_scenario(ws: Workspace) -> Scenario:
    """A plausible scenario from the workspace alone, with notes saying what was assumed."""
    configs = list(ws.configurations.values())
    releases = []
    skipped = []
    for component in ws.software.values():
        if any(component.compatible.evaluate(c) for c in configs):
            releases.append(ScenarioRelease(component.id, bump_version(component.version)))
        else:
            skipped.append(component.id)
    shares, share_note = workspace_shares(ws)
    prefix = wmi_from_name(ws.platform.name)
    notes = [
        f"no {SCENARIO_FILE} in {ws.root}: scenario derived from the workspace (write one, or pass --scenario)",
        "releases: " + (", ".join(f"{r.component} {ws.software[r.component].version} → {r.version}"
                                  for r in releases) or "none (no component is compatible with any trim)"),
        "no bad release: every campaign is expected to complete",
        f"market shares: {share_note} (each weighted by the planned volumes of the trims it sells)",
        f"VIN prefix {prefix} (from the platform name {ws.platform.name!r})",
    ]
    if skipped:
        notes.append(f"not released (compatible with no trim): {', '.join(skipped)}")
    return Scenario(tuple(releases), shares, prefix, source=f"derived from {ws.root}", derived=True,
                    notes=tuple(notes))


def workspace_shares(ws: Workspace) -> tuple[dict[str, float], str]:
    """Market shares from the market files' ``fleet_share``, and a note saying how they were made.

    Declared shares are taken as written; the selling markets that declare none split what is left
    equally; with no declaration at all every selling market gets an equal share. Declared shares
    summing above 1, or all declared and not summing to 1, are an error (never normalised).
    """
    leaves = leaf_markets(ws)
    for market in ws.markets.values():
        if market.fleet_share is not None and market.id not in leaves:
            raise ScenarioError(f"market {market.id} only groups others: fleet_share belongs to its members",
                                market.file, _fleet_share_line(market.file))
    sellers = [m for m in leaves if any((t.key, m) in ws.configurations for t in ws.trims())]
    declared = {m: s for m in leaves if (s := ws.markets[m].fleet_share) is not None}
    if not declared:
        shares = {m: 1.0 / len(sellers) for m in sellers} if sellers else {}
        return shares, "equal, " + _shares_text(shares) + " (no market file declares a fleet_share)"
    total = sum(declared.values())
    rest = [m for m in sellers if m not in declared]
    first = ws.markets[next(iter(declared))].file
    if total > 1.0 + SHARE_TOLERANCE or (not rest and abs(total - 1.0) > SHARE_TOLERANCE):
        raise ScenarioError(f"the markets' fleet_share sum to {total:.6g}, not 1 ("
                            + _shares_text(declared) + "; they are not normalised for you)",
                            first, _fleet_share_line(first))
    shares = {**declared, **{m: max(0.0, 1.0 - total) / len(rest) for m in rest}}
    note = "the market files' fleet_share, " + _shares_text(shares)
    return shares, note + (f" ({', '.join(rest)} declare none: they split the rest)" if rest else "")


def _shares_text(shares: Mapping[str, float]) -> str:
    return ", ".join(f"{m} {v:.0%}" for m, v in shares.items())


def _fleet_share_line(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return read_yaml_mapping(path, "market").line_of("fleet_share")
    except WorkspaceError:
        return None


def leaf_markets(ws: Workspace) -> list[str]:
    """Markets that register vehicles: not the ones that only group others (a region like EU)."""
    parents = {m.parent for m in ws.markets.values() if m.parent}
    return [m for m in ws.markets if m not in parents]


def bump_version(version: str) -> str:
    """The next minor version of a dotted numeric version (1.6.0 → 1.7.0); else ``<version>.1``."""
    parts = version.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts):
        return ".".join([parts[0], str(int(parts[1]) + 1), *["0"] * (len(parts) - 2)])
    return f"{version}.1"


def wmi_from_name(name: str) -> str:
    """Three VIN characters from a platform name (letters and digits, no I, O, Q), padded with X."""
    letters = [c for c in name.upper() if c.isascii() and c.isalnum() and c not in "IOQ"]
    return ("".join(letters[:3]) + "XXX")[:3]


# --- the file's fields ----------------------------------------------------------------------


def _known_keys(spec: LineDict, known: tuple[str, ...], path: Path, what: str) -> None:
    for key in spec:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            raise ScenarioError(f"unknown key {key!r} in the {what}{hint}", path, spec.line_of(key))


def _unknown(kind: str, name: str, known: list[str], path: Path, line: int) -> ScenarioError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ScenarioError(f"unknown {kind} {name!r} ({hint}known: {', '.join(known)})", path, line)


def _number(value: Any, path: Path, line: int, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ScenarioError(f"{what} must be a number from {low:g} to {high:g}, got {value!r}", path, line)
    return float(value)


def _integer(spec: LineDict, key: str, default: int, path: Path, *, minimum: int) -> int:
    value: object = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"{key} must be a whole number ≥ {minimum}, got {value!r}", path, spec.line_of(key))
    return value


def _vin_prefix(value: Any, path: Path, line: int) -> str:
    if not isinstance(value, str) or not WMI_RE.match(value):
        raise ScenarioError(
            f"vin_prefix must be 3 characters of A–Z/0–9 without I, O, Q (ISO 3780 WMI), got {value!r}", path, line
        )
    return value


def _start(spec: LineDict, path: Path) -> datetime:
    value = spec.get("start", START)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ScenarioError(f"start must be a date (YYYY-MM-DD), got {value!r}", path, spec.line_of("start"))


def _window(spec: LineDict, path: Path) -> tuple[str, str] | None:
    if "window" in spec and spec["window"] is None:
        return None
    value = spec.get("window", list(DEFAULT_WINDOW))
    line = spec.line_of("window")
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f'window must be two quoted local times like ["01:00", "05:00"] or null, got {value!r}',
                            path, line)
    try:
        MaintenanceWindow.parse(value[0], value[1])
    except EvplatformError as error:
        raise ScenarioError(str(error), path, line) from None
    return value[0], value[1]


def _failures(spec: LineDict, path: Path) -> FailureModel:
    value = spec.get("failures") or LineDict()
    if not isinstance(value, LineDict):
        raise ScenarioError("failures must be a mapping of probabilities", path, spec.line_of("failures"))
    _known_keys(value, FAILURE_KEYS, path, "failures")
    given = {k: _number(v, path, value.line_of(k), f"failures.{k}", 0.0, 1.0) for k, v in value.items()}
    defaults = {f.name: getattr(FailureModel(), f.name) for f in fields(FailureModel) if f.name in FAILURE_KEYS}
    return FailureModel(**{**defaults, **given})


def _market_shares(spec: LineDict, path: Path, ws: Workspace) -> dict[str, float]:
    value = spec.get("market_shares")
    line = spec.line_of("market_shares")
    if not isinstance(value, LineDict) or not value:
        raise ScenarioError("market_shares must map markets to their share of the fleet (summing to 1)", path, line)
    leaves = leaf_markets(ws)
    shares: dict[str, float] = {}
    for market, share in value.items():
        at = value.line_of(market)
        if market not in ws.markets:
            raise _unknown("market", market, list(ws.markets), path, at)
        if market not in leaves:
            members = [m.id for m in ws.markets.values() if m.parent == market]
            raise ScenarioError(f"market {market} only groups {', '.join(members)}: give shares to those", path, at)
        shares[market] = _number(share, path, at, f"market_shares.{market}", 0.0, 1.0)
        if shares[market] > 0 and not any((t.key, market) in ws.configurations for t in ws.trims()):
            raise ScenarioError(f"market {market} sells no trim: it cannot register vehicles", path, at)
    total = sum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ScenarioError(f"market_shares sum to {total:.6g}, not 1 (they are not normalised for you)", path, line)
    return shares


def _releases(spec: LineDict, path: Path, ws: Workspace) -> tuple[ScenarioRelease, ...]:
    value = spec.get("releases")
    line = spec.line_of("releases")
    if not isinstance(value, LineList) or not value:
        raise ScenarioError("releases must be a list of {component, version} entries", path, line)
    out: list[ScenarioRelease] = []
    for index, item in enumerate(value):
        at = value.line_of(index)
        if not isinstance(item, LineDict):
            raise ScenarioError("a release must be a mapping with component and version", path, at)
        release = _release(item, path, ws)
        if any((r.component, r.version) == (release.component, release.version) for r in out):
            raise ScenarioError(f"release {release.component} {release.version} is listed twice", path, at)
        out.append(release)
    return tuple(out)


def _release(item: LineDict, path: Path, ws: Workspace) -> ScenarioRelease:
    _known_keys(item, RELEASE_KEYS, path, "release")
    for key in ("component", "version"):
        if key not in item:
            raise ScenarioError(f"a release needs {key!r}", path, item.line)
    name, version = item["component"], item["version"]
    if not isinstance(name, str) or name not in ws.software:
        raise _unknown("software component", str(name), list(ws.software), path, item.line_of("component"))
    component = ws.software[name]
    if not isinstance(version, str) or not version:
        raise ScenarioError(f"version must be a quoted string like \"1.7.0\", got {version!r}", path,
                            item.line_of("version"))
    if version == component.version:
        raise ScenarioError(f"{name} {version} is the version already in production (software.yaml line "
                            f"{component.line}): a release must change it", path, item.line_of("version"))
    if ("crash_cohort" in item) != ("crash_rate" in item):
        raise ScenarioError("a bad release needs both crash_cohort (model/trim) and crash_rate", path, item.line)
    if "crash_cohort" not in item:
        return ScenarioRelease(name, version)
    cohort = item["crash_cohort"]
    keys = [t.key for t in ws.trims()]
    if cohort not in keys:
        raise _unknown("trim", str(cohort), keys, path, item.line_of("crash_cohort"))
    sold = [c for (trim, _), c in ws.configurations.items() if trim == cohort]
    if not any(component.compatible.evaluate(c) for c in sold):
        raise ScenarioError(f"{name} is not compatible with {cohort} ({component.compatible_text}): the crash "
                            "would never be offered", path, item.line_of("crash_cohort"))
    rate = _number(item["crash_rate"], path, item.line_of("crash_rate"), "crash_rate", 0.0, 1.0)
    return ScenarioRelease(name, version, crash_cohort=cohort, crash_rate=rate)
