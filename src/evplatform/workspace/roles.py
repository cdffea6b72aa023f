"""Feature roles: which of a platform's features plays each part the domains reason about.

The hub, the AEB and ALKS scenarios, the regen rule and the campaign approval gate need to know
"does this configuration have brake-by-wire?" or "which feature is the UN R156 software-update
management system?". Feature names are the platform's own choice, so the domains never test a
name: ``platform.yaml`` declares the roles once::

    roles:
      brake_by_wire: BrakeByWire
      aeb: [AEB, AEB_VRU]        # present when any of them is selected
      lidar: null                # this platform has none (declared absent)

A role is *present* in a configuration when one of its features is selected. A role the platform
does not have (declared ``null``, or not mentioned at all) is *absent*, and every report says so
instead of answering a silent "no"; ``evplatform check`` warns about roles left undeclared.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evplatform.errors import WorkspaceError

if TYPE_CHECKING:
    from evplatform.variability.model import FeatureModel


@dataclass(frozen=True, slots=True)
class Role:
    """One entry of the role catalogue: its id in platform.yaml, what it means, who reads it."""

    id: str
    title: str
    used_by: str


#: Every role a domain reads, in the order platform.yaml lists them.
CATALOGUE: tuple[Role, ...] = (
    Role("update_management", "software-update management system (UN R156, GB 44496-2024)",
         "fleet: which regulations make a market demand an approval before a campaign"),
    Role("brake_by_wire", "brake-by-wire", "hub brake service, AEB actuator latency, regen blending"),
    Role("brake_redundancy", "second brake channel", "hub brake service channels (brake channel loss)"),
    Role("steer_by_wire", "steer-by-wire", "hub steering service"),
    Role("steer_redundancy", "second steering channel", "hub steering service channels (steering loss)"),
    Role("zone_controllers", "zone controllers", "hub zone link (zone link loss)"),
    Role("lidar", "lidar sensor suite", "AEB sensor latency, driver-assistance sensor redundancy"),
    Role("acc", "adaptive cruise control (ISO 15622)", "hub driver-assistance service"),
    Role("aeb", "automatic emergency braking (UN R152, Euro NCAP)", "AEB CCRs test, hub driver assistance"),
    Role("lka", "lane keeping assist", "hub driver-assistance service"),
    Role("elks", "emergency lane keeping (GSR2)", "hub driver-assistance service"),
    Role("alks", "automated lane keeping system (UN R157)", "ALKS speed limit, hub driver assistance"),
    Role("highway_assist", "highway assist / navigate on highway", "hub driver-assistance service"),
)
ROLES: Mapping[str, Role] = {role.id: role for role in CATALOGUE}
#: The driver-assistance functions: the hub's driver-assistance service runs when any is present.
DRIVER_ASSISTANCE: tuple[str, ...] = ("acc", "aeb", "lka", "elks", "alks", "highway_assist")


def _known(role: str) -> str:
    if role not in ROLES:
        raise WorkspaceError(f"unknown feature role {role!r}{_did_you_mean(role, ROLES)}")
    return role


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class FeatureRoles:
    """The role → features mapping of one platform (immutable).

    ``assigned`` holds the declared roles only: a role declared absent maps to an empty set, a role
    not mentioned is missing. Both are absent; ``declared`` tells them apart for ``check``.
    """

    assigned: Mapping[str, frozenset[str]] = field(default_factory=dict)
    line: int | None = None  # line of the ``roles:`` key in platform.yaml, when there is one

    @classmethod
    def of(cls, mapping: Mapping[str, str | Iterable[str] | None]) -> FeatureRoles:
        """Roles from plain Python values (tests, programmatic use); feature names are not checked."""
        assigned: dict[str, frozenset[str]] = {}
        for role, value in mapping.items():
            _known(role)
            if value is None:
                assigned[role] = frozenset()
            elif isinstance(value, str):
                assigned[role] = frozenset({value})
            else:
                assigned[role] = frozenset(value)
        return cls(assigned)

    def declared(self, role: str) -> bool:
        """True when platform.yaml mentions the role (with features or as ``null``)."""
        return _known(role) in self.assigned

    def features(self, role: str) -> frozenset[str]:
        """The features that play the role (empty when the role is absent)."""
        return self.assigned.get(_known(role), frozenset())

    def has(self, role: str) -> bool:
        """True when the platform has the role at all (some feature plays it)."""
        return bool(self.features(role))

    def present(self, role: str, configuration: Iterable[str]) -> bool:
        """True when the configuration selects a feature that plays the role."""
        return not self.features(role).isdisjoint(configuration)

    def selected(self, roles: Iterable[str], configuration: Iterable[str]) -> frozenset[str]:
        """The configuration's features that play any of ``roles``."""
        config = frozenset(configuration)
        return frozenset().union(*(self.features(r) & config for r in roles))

    def undeclared(self) -> tuple[str, ...]:
        """Roles platform.yaml does not mention, in catalogue order."""
        return tuple(r.id for r in CATALOGUE if r.id not in self.assigned)

    def absence(self, role: str) -> str | None:
        """Why the platform lacks the role, or None when some feature plays it."""
        if self.has(role):
            return None
        if self.declared(role):
            return f"platform.yaml declares {role}: null"
        return f"no feature has role {role!r}"

    def roles_of(self, feature: str) -> tuple[str, ...]:
        """The roles a feature plays, in catalogue order."""
        return tuple(r.id for r in CATALOGUE if feature in self.assigned.get(r.id, ()))

    def to_dict(self) -> dict[str, list[str] | None]:
        """Every role: its sorted features, or None when absent."""
        return {r.id: sorted(self.features(r.id)) or None for r in CATALOGUE}


def parse_roles(value: Any, feature_model: FeatureModel, path: Path, line: int | None) -> FeatureRoles:
    """The ``roles:`` mapping of platform.yaml, every role id and feature name checked (file:line).

    ``value`` is the raw YAML value (a ``LineDict`` from the loader, or ``None`` when the key is
    missing); ``line`` is the line of the ``roles`` key.
    """
    if value is None:
        return FeatureRoles({}, line)
    if not isinstance(value, dict):
        raise WorkspaceError("roles must be a mapping of role: feature (or list of features, or null)",
                             path, line)
    assigned: dict[str, frozenset[str]] = {}
    for role, raw in value.items():
        role_line = value.line_of(role) if hasattr(value, "line_of") else line
        if role not in ROLES:
            raise WorkspaceError(f"roles: unknown role {role!r}{_did_you_mean(role, ROLES)} "
                                 f"(roles: {', '.join(ROLES)})", path, role_line)
        assigned[role] = _role_features(role, raw, feature_model, path, role_line)
    return FeatureRoles(assigned, line)


def _role_features(role: str, raw: Any, fm: FeatureModel, path: Path, line: int | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise WorkspaceError(f"roles.{role} must be a feature name, a list of feature names or null", path, line)
    out = set()
    for index, reference in enumerate(items):
        item_line = items.line_of(index) if hasattr(items, "line_of") else line
        name = fm.resolve(reference)
        if name is None:
            raise WorkspaceError(
                f"roles.{role}: unknown feature {reference!r}{_did_you_mean(reference, fm.features)} "
                f"(not in {Path(fm.source or 'features.uvl').name})",
                path, item_line,
            )
        out.add(name)
    return frozenset(out)
