"""A trim's own ``targets`` (models/<id>.yaml) against what the simulation gives.

Target keys the simulator answers, with the side that is better and the tolerance a miss must
exceed before ``check`` warns:

===================================  ===========  ===========  ==========================================
key                                  better       tolerance    simulated as
===================================  ===========  ===========  ==========================================
``<cycle>_range_km``                 higher       5 %          range by that cycle's homologation rule
  (``wltc``/``wltp``, ``cltc``,                                 (``epa``: the 55/45 label × 0.7)
  ``nedc``, ``epa``)
``range_km``                         higher       5 %          range on the market's homologation cycle
``accel_0_100_s``                    lower        0.3 s        0–100 km/h at full power
``dc_10_80_min``                     lower        10 %         DC charge 10–80 % on the charge curve
  (also ``charge_10_80_min``)
``top_speed_kmh``                    higher       3 %          power- or limiter-bound top speed
``curb_mass_kg``                     lower        3 %          the configuration's summed feature masses
===================================  ===========  ===========  ==========================================

Why these tolerances: they sit just above what the model cannot know, so a warning points at a
wrong attribute rather than at modelling noise. Range is an energy balance with estimated road
load and drivetrain efficiencies; a few per cent is its honest resolution (type-approval
conformity-of-production checks on CO2/energy work at a similar 4–5 % margin). 0–100 km/h times
are quoted to 0.1 s and depend on launch control and tyre grip the model idealises: 0.3 s.
Charging time follows a piecewise charge curve and the pack's thermal state: 10 %. Top speed and
mass are sums and limits of attributes, known to a few per cent: 3 %.

A target is *met* when the simulation is at least as good, *within* tolerance when worse by no
more than the tolerance, and *missed* otherwise; keys the simulator does not compute are
*unknown* and reported as such, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evplatform.errors import EvplatformError, WorkspaceError
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.simulate import HOMOLOGATION_CYCLE, simulate_vehicles, trim_params, workspace_cycle
from evplatform.workspace.check import Finding
from evplatform.workspace.sources import LineDict, read_yaml_mapping

if TYPE_CHECKING:
    from evplatform.workspace.model import Trim, Workspace


@dataclass(frozen=True, slots=True)
class TargetRule:
    """How one target key is simulated and judged."""

    result_key: str  # key of a ``simulate`` result row, or "curb_mass_kg"
    unit: str
    higher_is_better: bool
    tolerance: float
    relative: bool  # tolerance as a share of the target (else in the unit)

    def tolerance_text(self) -> str:
        return f"{self.tolerance:.0%}" if self.relative else f"{self.tolerance:g} {self.unit}"


RANGE = TargetRule("range_km", "km", True, 0.05, True)
RULES: dict[str, TargetRule] = {
    "range_km": RANGE,
    "accel_0_100_s": TargetRule("accel_0_100_s", "s", False, 0.3, False),
    "dc_10_80_min": TargetRule("charge_10_80_min", "min", False, 0.10, True),
    "charge_10_80_min": TargetRule("charge_10_80_min", "min", False, 0.10, True),
    "top_speed_kmh": TargetRule("top_speed_kmh", "km/h", True, 0.03, True),
    "curb_mass_kg": TargetRule("curb_mass_kg", "kg", False, 0.03, True),
}
#: A range target's prefix names the cycle whose homologation rule gives the range.
RANGE_CYCLES = {"wltc": "wltc", "wltp": "wltc", "cltc": "cltc", "nedc": "nedc", "epa": "udds"}


@dataclass(frozen=True, slots=True)
class TargetCheck:
    trim: str
    key: str
    target: float
    simulated: float | None
    unit: str
    market: str | None
    cycle: str | None  # the drive cycle of a range target (None: the figure does not depend on one)
    status: str  # met | within | missed | unknown
    shortfall: float | None  # how much worse than the target (0 when met), in the unit
    tolerance: str | None
    reason: str | None = None  # why an "unknown" target was not simulated

    @property
    def difference(self) -> float | None:
        """Simulated minus target, in the unit (sign as is: an overshoot shows too)."""
        return None if self.simulated is None else round(self.simulated - self.target, 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trim": self.trim, "target": self.key, "unit": self.unit, "target_value": self.target,
            "simulated": self.simulated, "difference": self.difference, "shortfall": self.shortfall,
            "tolerance": self.tolerance, "status": self.status, "market": self.market, "cycle": self.cycle,
            "reason": self.reason,
        }

    def message(self) -> str:
        """One line for ``check``: what was missed, by how much, against what tolerance."""
        where = f"on {self.cycle.upper()} in {self.market}" if self.cycle else f"in its {self.market} configuration"
        return (f"{self.trim} misses its target {self.key} = {self.target:g} {self.unit}: simulated "
                f"{self.simulated:g} {self.unit} {where} (worse by {self.shortfall:g} {self.unit}, "
                f"tolerance {self.tolerance})")


def rule_of(key: str) -> tuple[TargetRule, str | None] | None:
    """The rule of a target key and, for a range, the cycle its prefix names (None: the market's)."""
    if key in RULES:
        return RULES[key], None
    prefix, _, rest = key.partition("_")
    if rest == "range_km" and prefix in RANGE_CYCLES:
        return RANGE, RANGE_CYCLES[prefix]
    return None


def compare_targets(ws: Workspace, trims: Iterable[Trim] | None = None, market: str | None = None
                    ) -> list[TargetCheck]:
    """Every target of every trim (default: all) against the simulation, one simulation per cycle and market.

    A trim is simulated in ``market`` (default: the first market that sells it whose homologation
    cycle is the target's, else the base market if it sells it, else the first that does).
    """
    out: list[TargetCheck] = []
    wanted: dict[tuple[str, str], list[tuple[Trim, str, TargetRule]]] = {}
    for trim in trims if trims is not None else ws.trims():
        for key in trim.targets:
            found = rule_of(key)
            if found is None:
                out.append(TargetCheck(trim.key, key, trim.targets[key], None, "", None, None, "unknown", None, None,
                                       "not a figure the simulator computes"))
                continue
            rule, cycle = found
            where = _market_for(ws, trim, market, cycle)
            if where is None:
                out.append(TargetCheck(trim.key, key, trim.targets[key], None, rule.unit, market, cycle, "unknown",
                                       None, rule.tolerance_text(), f"not sold in {market}"))
                continue
            wanted.setdefault((where, cycle or workspace_cycle(ws, where)), []).append((trim, key, rule))
    for (where, cycle), items in wanted.items():
        rows = _simulate(ws, [t for t, _, _ in items], where, cycle)
        for trim, key, rule in items:
            row = rows[trim.key]
            if isinstance(row, str):
                out.append(TargetCheck(trim.key, key, trim.targets[key], None, rule.unit, where, cycle, "unknown",
                                       None, rule.tolerance_text(), row))
            else:
                out.append(_judge(trim, key, rule, row, where, cycle))
    order = {t.key: i for i, t in enumerate(ws.trims())}
    return sorted(out, key=lambda c: (order.get(c.trim, 0), list(ws.trim(c.trim).targets).index(c.key)))


def _market_for(ws: Workspace, trim: Trim, market: str | None, cycle: str | None) -> str | None:
    sold = [m for m in ws.markets if (trim.key, m) in ws.configurations]
    if market is not None:
        return market if market in sold else None
    if cycle is not None:
        for m in sold:
            if HOMOLOGATION_CYCLE.get(ws.markets[m].homologation_cycle.upper()) == cycle:
                return m
    base = ws.platform.base_market
    return base if base in sold else (sold[0] if sold else None)


def _simulate(ws: Workspace, trims: list[Trim], market: str, cycle: str) -> dict[str, dict[str, Any] | str]:
    """Result rows by trim key, in one batch; a trim that cannot be simulated gets the reason instead."""
    out: dict[str, dict[str, Any] | str] = {}
    params: list[VehicleParams] = []
    for trim in {t.key: t for t in trims}.values():
        try:
            params.append(trim_params(ws, trim, market))
        except EvplatformError as error:  # a configuration without the attributes a vehicle needs
            out[trim.key] = f"cannot simulate: {error}"
    if params:
        for row, p in zip(simulate_vehicles(params, cycle).results, params, strict=True):
            row["curb_mass_kg"] = round(p.mass_kg, 1)
            out[p.name] = row
    return out


def _judge(trim: Trim, key: str, rule: TargetRule, row: dict[str, Any], market: str, on: str) -> TargetCheck:
    target = trim.targets[key]
    cycle = on if rule is RANGE else None  # only a range depends on the cycle
    value = row.get(rule.result_key)
    if value is None:  # never reaches 100 km/h: as far from any acceleration target as can be
        return TargetCheck(trim.key, key, target, None, rule.unit, market, cycle, "missed", None,
                           rule.tolerance_text())
    worse = (target - value) if rule.higher_is_better else (value - target)
    allowed = rule.tolerance * abs(target) if rule.relative else rule.tolerance
    status = "met" if worse <= 0 else "within" if worse <= allowed + 1e-9 else "missed"
    return TargetCheck(trim.key, key, target, float(value), rule.unit, market, cycle, status,
                       round(max(worse, 0.0), 3), rule.tolerance_text())


# --- findings for `evplatform check` --------------------------------------------------------


def target_findings(ws: Workspace) -> list[Finding]:
    """A warning for each target a trim's simulation misses beyond tolerance; info for keys not simulated."""
    out = []
    for check in compare_targets(ws):
        if check.status not in ("missed", "unknown"):
            continue
        model = ws.models[ws.trim(check.trim).model_id]
        file = _relative(ws, model.file) if model.file else f"models/{model.id}.yaml"
        line = _target_line(ws, check.trim, check.key)
        if check.status == "unknown" and check.reason and check.reason.startswith("cannot simulate"):
            out.append(Finding("warning", file, line, f"{check.trim}: target {check.key} not checked, "
                                                      f"{check.reason}"))
        elif check.status == "unknown":
            out.append(Finding("info", file, line, f"{check.trim}: target {check.key} is not one the simulator "
                                                   "computes (range_km, <cycle>_range_km, accel_0_100_s, "
                                                   "dc_10_80_min, top_speed_kmh, curb_mass_kg): not checked"))
        elif check.simulated is None:
            out.append(Finding("warning", file, line, f"{check.trim} misses its target {check.key} = "
                                                      f"{check.target:g} {check.unit}: never reaches 100 km/h"))
        else:
            out.append(Finding("warning", file, line, check.message()))
    return out


def _target_line(ws: Workspace, trim_key: str, key: str) -> int | None:
    """The line of one target key in the model file (the loader keeps only the trim's line)."""
    trim = ws.trim(trim_key)
    model = ws.models[trim.model_id]
    if model.file is None:
        return trim.line or None
    try:
        targets = read_yaml_mapping(model.file, "model").get("trims", {}).get(trim.id, {}).get("targets")
    except (WorkspaceError, AttributeError):
        return trim.line or None
    return targets.line_of(key) if isinstance(targets, LineDict) else trim.line or None


def _relative(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)
