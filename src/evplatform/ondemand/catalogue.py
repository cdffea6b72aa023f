"""What can be sold to which car: a paid feature against a configuration, with the reason when not.

A feature declares the hardware it needs as a feature expression over the trim's configuration
(on-demand.yaml ``requires``). The engine sells it only where that expression holds, and a refusal
names what the car lacks ("lacks LidarSuite", "has none of Drive_AWD_Dual, Drive_AWD_Tri"), so the
sales channel can tell the buyer why instead of failing after payment.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from evplatform.errors import EvplatformError, NotFoundError
from evplatform.variability.model import And, Const, Expr, Not, Or, Var
from evplatform.workspace.model import PaidFeature, Workspace


class OnDemandError(EvplatformError):
    """A sale or change of a paid feature that the rules refuse."""

    http_status = 422


class IncompatibleFeature(OnDemandError):
    """The car's hardware cannot run the feature (its ``requires`` expression is false)."""


@dataclass(frozen=True, slots=True)
class Eligibility:
    feature: PaidFeature
    eligible: bool
    reasons: tuple[str, ...]

    def to_dict(self, currency: str) -> dict[str, Any]:
        f = self.feature
        return {"feature": f.id, "name": f.name, "description": f.description, "billing": f.billing,
                "price": f.price, "currency": currency, "requires": f.requires_text,
                "type_approval_relevant": f.type_approval_relevant, "regulation": f.regulation,
                "eligible": self.eligible, "reasons": list(self.reasons)}


def paid_feature(ws: Workspace, feature_id: str) -> PaidFeature:
    """The declared feature; NotFoundError listing the known ones otherwise."""
    found = ws.on_demand.features.get(feature_id)
    if found is None:
        raise NotFoundError("paid feature", f"{feature_id} (known: {', '.join(ws.on_demand.features) or 'none'})")
    return found


def eligibility(feature: PaidFeature, configuration: Set[str]) -> Eligibility:
    """Whether the configuration runs the feature, and if not, what it lacks."""
    if feature.requires.evaluate(configuration):
        return Eligibility(feature, True, ())
    return Eligibility(feature, False, tuple(missing(feature.requires, configuration)))


def offers(ws: Workspace, configuration: Set[str]) -> list[Eligibility]:
    """Every declared feature against one configuration, in file order."""
    return [eligibility(f, configuration) for f in ws.on_demand.features.values()]


def require_eligible(feature: PaidFeature, configuration: Set[str], where: str) -> None:
    """Raise IncompatibleFeature naming what ``where`` (a VIN, a trim) lacks."""
    verdict = eligibility(feature, configuration)
    if not verdict.eligible:
        raise IncompatibleFeature(f"{feature.id} cannot run on {where}: it needs {feature.requires_text}; "
                                  + "; ".join(verdict.reasons))


def missing(expr: Expr, selected: Set[str]) -> list[str]:
    """Why ``expr`` is false for ``selected``: the failing parts of a conjunction, in words."""
    if expr.evaluate(selected):
        return []
    if isinstance(expr, And):
        return [reason for operand in expr.operands for reason in missing(operand, selected)]
    if isinstance(expr, Var):
        return [f"lacks {expr.name}"]
    if isinstance(expr, Not) and isinstance(expr.operand, Var):
        return [f"has {expr.operand.name}"]
    if isinstance(expr, Or) and all(isinstance(o, Var) for o in expr.operands):
        return [f"has none of {', '.join(str(o) for o in expr.operands)}"]
    if isinstance(expr, Const):
        return ["is never sold"]
    return [f"({expr}) is false"]
