"""Which app may run on which trim in which market, and why not (``evplatform apps check``).

For every app × trim × market configuration of the workspace the verdict lists every reason it
cannot run, each with a code a dashboard or a script can filter on:

- ``features``: the app's feature expression is false for the configuration;
- ``signal``: it reads, actuates or provides a signal that trim's hub does not provide (the hub's
  services come from the configuration's feature roles, ``vehicle.hub.provided``);
- ``market``: the app is not offered in the market (nor in a parent market), or the store policy
  forbids one of its data categories there;
- ``policy``: it asks for more than the store policy allows (actuating or providing a forbidden
  signal such as steering, braking or propulsion; collecting a consent category without asking);
- ``hub_version``: the configuration's hub software is older than the app needs, or absent.

Per-configuration facts (signals, hub version, market lineage) are computed once and per-app policy
reasons once, so a check is apps × configurations set operations (100 × 37 well under a second).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evplatform.apps.manifest import parse_version
from evplatform.apps.model import AppCatalogue, AppManifest, StorePolicy
from evplatform.vehicle.hub.provided import provided_signals
from evplatform.vehicle.hub.services import build_hub
from evplatform.vehicle.simulate import trim_params
from evplatform.workspace.model import Workspace

logger = logging.getLogger(__name__)

REASON_CODES = ("features", "signal", "market", "policy", "hub_version")


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ConfigurationFacts:
    """What an app check needs to know of one trim × market configuration."""

    trim: str
    market: str
    features: frozenset[str]
    signals: frozenset[str]
    hub_version: tuple[int, ...] | None
    hub_version_text: str | None
    lineage: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    app: str
    trim: str
    market: str
    reasons: tuple[Reason, ...]

    @property
    def compatible(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.app, "trim": self.trim, "market": self.market, "compatible": self.compatible,
                "reasons": [{"code": r.code, "message": r.message} for r in self.reasons]}


def configuration_facts(ws: Workspace, policy: StorePolicy | None) -> list[ConfigurationFacts]:
    """Every trim × market configuration with the signals its hub provides and its hub version."""
    facts: list[ConfigurationFacts] = []
    trims = {t.key: t for t in ws.trims()}
    hub = ws.software.get(policy.hub_component) if policy is not None and policy.hub_component else None
    for (trim_key, market), configuration in ws.configurations.items():
        trim = trims[trim_key]
        signals = provided_signals(build_hub(configuration, trim_params(ws, trim, market), ws.roles))
        version: tuple[int, ...] | None = None
        version_text: str | None = None
        if hub is not None and hub.compatible.evaluate(configuration):
            version_text = hub.version
            version = parse_version(hub.version, ws.root / "software", hub.line, f"{hub.id} version")
        facts.append(ConfigurationFacts(trim_key, market, configuration, signals, version, version_text,
                                        tuple(ws.lineage(market))))
    return facts


def policy_reasons(app: AppManifest, policy: StorePolicy) -> list[Reason]:
    """What the app asks for beyond the store policy, whatever the configuration."""
    out: list[Reason] = []
    for signal in app.actuates:
        pattern = policy.forbidden_actuation(signal)
        if pattern is not None:
            out.append(Reason("policy", f"actuates {signal}: no app may actuate {pattern} (store policy)"))
    for signal in app.provides:
        pattern = policy.forbidden_provision(signal)
        if pattern is not None:
            out.append(Reason("policy", f"provides {signal}: no app may provide {pattern} (store policy)"))
    for category in app.data_categories:
        if policy.data_categories[category].consent and not app.owner_consent:
            out.append(Reason("policy", f"collects {category} without asking the owner's consent (store policy)"))
    return out


def check_app(app: AppManifest, facts: ConfigurationFacts, policy: StorePolicy,
              fixed: list[Reason]) -> Verdict:
    """Every reason ``app`` cannot run in one configuration (``fixed``: its policy reasons)."""
    reasons: list[Reason] = []
    if not app.features.evaluate(facts.features):
        reasons.append(Reason("features", f"needs {app.features_text}, false for this configuration"))
    missing = app.signals - facts.signals
    for signal in sorted(missing):
        reasons.append(Reason("signal", f"{signal} is not provided by this trim's hub"))
    reasons.extend(_market_reasons(app, facts, policy))
    reasons.extend(fixed)
    reasons.extend(_hub_reasons(app, facts, policy))
    return Verdict(app.id, facts.trim, facts.market, tuple(reasons))


def _market_reasons(app: AppManifest, facts: ConfigurationFacts, policy: StorePolicy) -> list[Reason]:
    """Not offered in the market nor a parent; a category the market (or a parent) forbids."""
    out: list[Reason] = []
    if not any(m in app.markets for m in facts.lineage):
        out.append(Reason("market", f"not offered in {facts.market} (offered in {', '.join(app.markets)})"))
    for market in facts.lineage:
        rule = policy.markets.get(market)
        if rule is not None:
            out.extend(Reason("market", f"{market} forbids apps collecting {category}: {rule.reason}")
                       for category in app.data_categories if category in rule.forbid_data_categories)
    return out


def _hub_reasons(app: AppManifest, facts: ConfigurationFacts, policy: StorePolicy) -> list[Reason]:
    """The configuration's hub software is absent or older than the app needs."""
    if facts.hub_version is None:
        if policy.hub_component is None:
            return []
        return [Reason("hub_version", f"no {policy.hub_component} software for this configuration")]
    if facts.hub_version < app.min_hub_version:
        return [Reason("hub_version", f"hub {facts.hub_version_text} is older than the "
                                      f"{app.min_hub_version_text} the app needs")]
    return []


def check_apps(ws: Workspace, catalogue: AppCatalogue,
               facts: list[ConfigurationFacts] | None = None) -> list[Verdict]:
    """Every app × configuration verdict, apps in id order, configurations in workspace order."""
    policy = catalogue.policy
    if policy is None or not catalogue.apps:
        return []
    facts = facts if facts is not None else configuration_facts(ws, policy)
    out: list[Verdict] = []
    for app_id in sorted(catalogue.apps):
        app = catalogue.apps[app_id]
        fixed = policy_reasons(app, policy)
        out.extend(check_app(app, f, policy, fixed) for f in facts)
    return out


def summary(verdicts: list[Verdict]) -> Mapping[str, dict[str, int]]:
    """Per app: configurations where it runs and where it does not."""
    out: dict[str, dict[str, int]] = {}
    for verdict in verdicts:
        counts = out.setdefault(verdict.app, {"compatible": 0, "incompatible": 0})
        counts["compatible" if verdict.compatible else "incompatible"] += 1
    return out


def report(ws: Workspace, catalogue: AppCatalogue) -> dict[str, Any]:
    """The check as plain data (CLI ``--json``, the dashboard): apps, configurations, every verdict."""
    verdicts = check_apps(ws, catalogue)
    counts = summary(verdicts)
    apps = [{"id": a.id, "name": a.name, "publisher": a.publisher, "version": a.version,
             "reads": list(a.reads), "actuates": list(a.actuates), "provides": list(a.provides),
             "features": a.features_text, "markets": list(a.markets), "data_categories": list(a.data_categories),
             "owner_consent": a.owner_consent, "min_hub_version": a.min_hub_version_text,
             **counts.get(a.id, {"compatible": 0, "incompatible": 0})}
            for a in sorted(catalogue.apps.values(), key=lambda a: a.id)]
    configurations = [{"trim": t, "market": m} for t, m in ws.configurations]
    return {"apps": apps, "configurations": configurations, "verdicts": [v.as_dict() for v in verdicts]}
