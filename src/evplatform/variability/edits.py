"""The semantic diff of two feature-model versions: edit class, witnesses, exact counts, and what was edited.

After Thüm, Batory and Kästner, "Reasoning about edits to feature models" (ICSE 2009): an edit
from A to B is a **refactoring** when both have the same configurations, a **specialisation**
when B's configurations are a proper subset of A's, a **generalisation** when a proper
superset, and **arbitrary** otherwise. Configurations are sets of selected features.

Two semantics, both reported:

- ``full``: a configuration is over the union of both feature sets, and a feature a version
  lacks is deselected in all its configurations (so removing a feature that could be selected
  loses configurations, and adding an optional one gains some). A root present in only one
  version is taken as selected in the other, since a root is always selected.
- ``projected``: configurations restricted to the features both versions share (Thüm et al.'s
  view of features added or removed "behind" the shared ones). A restriction is lost when some
  configuration of A has it and no configuration of B does.

Method: one incremental SAT check per direction (``A ∧ ¬B`` and ``B ∧ ¬A``, see
:mod:`evplatform.variability._edit_sat`), witnesses shrunk to subset-minimal configurations and
shown without the features selected in every configuration of their version; exact counts
``#(A ∧ ¬B) = #A − #(A ∧ B)`` by d4 over the union of variables, in a child process stopped at
``time_limit_s`` (a figure not counted in time is ``None``). The projected check is a
counterexample-guided loop (a ∃∀ question).

Time limits: ``time_limit_s`` bounds, in wall-clock seconds, each of the four checks on its own —
the full edit class with its witnesses, the projected one, the core/dead/false-optional analyses
and the counts. The SAT calls run under a :class:`~evplatform.variability._watchdog.Watchdog`
that interrupts them at the limit; what is not settled in time is ``None`` with a note ("not
decided in N s", "not counted in N s") instead of a wait without end.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from evplatform.variability import analysis
from evplatform.variability._edit_count import CountJob, count_jobs
from evplatform.variability._edit_projected import projected_difference
from evplatform.variability._edit_sat import Difference, Union, union_encoding, witness
from evplatform.variability._edit_syntax import (
    AttributeEdit,
    ConstraintEdit,
    FeatureEdit,
    GroupEdit,
    SyntaxDiff,
    syntax_diff,
)
from evplatform.variability._watchdog import NotDecided, Watchdog
from evplatform.variability.cnf import encode
from evplatform.variability.model import FeatureModel

logger = logging.getLogger(__name__)

EditClass = Literal["refactoring", "specialisation", "generalisation", "arbitrary"]

__all__ = ["AnalysisChange", "AttributeEdit", "ConstraintEdit", "FeatureEdit", "Figures", "GroupEdit",
           "ModelDiff", "SyntaxDiff", "compare_models", "edit_class"]


def edit_class(lost: bool | None, gained: bool | None) -> EditClass | None:
    """Thüm et al.'s class from whether configurations were lost and gained (``None`` if either is unknown)."""
    if lost is None or gained is None:
        return None
    if lost:
        return "arbitrary" if gained else "specialisation"
    return "generalisation" if gained else "refactoring"


@dataclass(frozen=True)
class Figures:
    """The semantic comparison under one semantics (``full`` or ``projected``)."""

    semantics: str
    features: int
    """Variables the configurations range over: the union (full) or the shared features (projected)."""
    edit_class: EditClass | None
    lost_exists: bool | None
    gained_exists: bool | None
    witness_lost: tuple[str, ...] | None = None
    """Selected features that, with ``deselected_lost`` deselected, make any configuration of A one B lacks."""
    witness_gained: tuple[str, ...] | None = None
    deselected_lost: tuple[str, ...] | None = None
    deselected_gained: tuple[str, ...] | None = None
    rule_lost: str | None = None
    """The rule of B that ``witness_lost`` breaks (full semantics)."""
    rule_gained: str | None = None
    count_a: int | None = None
    count_b: int | None = None
    lost_count: int | None = None
    gained_count: int | None = None
    count_note: str | None = None
    decision_note: str | None = None
    """Why ``lost_exists`` or ``gained_exists`` is ``None`` ("not decided in N s")."""

    def to_dict(self) -> dict[str, Any]:
        def text(n: int | None) -> str | None:
            return None if n is None else str(n)

        def names(w: tuple[str, ...] | None) -> list[str] | None:
            return None if w is None else list(w)

        return {"semantics": self.semantics, "features": self.features, "edit_class": self.edit_class,
                "edit_class_note": self.decision_note,
                "lost_exists": self.lost_exists, "gained_exists": self.gained_exists,
                "witness_lost": names(self.witness_lost), "witness_gained": names(self.witness_gained),
                "deselected_lost": names(self.deselected_lost), "deselected_gained": names(self.deselected_gained),
                "rule_lost": self.rule_lost, "rule_gained": self.rule_gained,
                "count_a": text(self.count_a), "count_b": text(self.count_b),
                "lost_count": text(self.lost_count), "gained_count": text(self.gained_count),
                "count_note": self.count_note}


@dataclass(frozen=True)
class AnalysisChange:
    """Features that became (``appeared``) or stopped being (``disappeared``) core, dead or false-optional."""

    appeared: tuple[str, ...]
    disappeared: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"appeared": list(self.appeared), "disappeared": list(self.disappeared)}


@dataclass(frozen=True)
class ModelDiff:
    """Everything :func:`compare_models` found; :meth:`to_dict` is the ``fm diff --json`` payload."""

    full: Figures
    projected: Figures
    features_a: int
    features_b: int
    syntax: SyntaxDiff
    analyses: dict[str, AnalysisChange] = field(default_factory=dict)
    analyses_note: str | None = None
    """Why ``analyses`` is empty although the models were compared ("not decided in N s")."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def edit_class(self) -> EditClass | None:
        return self.full.edit_class

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.full.to_dict(),
            "projected": self.projected.to_dict(),
            "features_a": self.features_a,
            "features_b": self.features_b,
            **self.syntax.to_dict(),
            "analyses": {name: change.to_dict() for name, change in self.analyses.items()},
            "analyses_note": self.analyses_note,
            "seconds": {name: round(value, 3) for name, value in self.seconds.items()},
        }


def compare_models(a: FeatureModel, b: FeatureModel, *, time_limit_s: float = 60.0, count: bool = True) -> ModelDiff:
    """How B (the new version) differs from A (the old one), syntactically and in its configurations.

    Each check gets ``time_limit_s`` wall-clock seconds (see the module docstring).
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    syntax = syntax_diff(a, b)
    seconds["syntax"] = time.perf_counter() - started

    started = time.perf_counter()
    union = union_encoding(a, b)
    shrink_until = started + max(1.0, time_limit_s / 6)  # witness shrinking is a nicety: a sixth of the limit
    with Watchdog(time_limit_s) as watchdog:
        lost = _settled(lambda: witness(union, union.a, union.b, shrink_until, watchdog=watchdog))
        gained = _settled(lambda: witness(union, union.b, union.a, shrink_until, watchdog=watchdog))
    seconds["edit_class"] = time.perf_counter() - started

    started = time.perf_counter()
    shared = union.shared()
    with Watchdog(time_limit_s) as watchdog:
        projected = projected_difference(union, started + max(1.0, time_limit_s / 6), watchdog)
    seconds["projected_class"] = time.perf_counter() - started

    note = str(NotDecided(time_limit_s))
    full = _figures("full", union.n_features, lost, gained, note)
    proj = _figures("projected", len(shared), projected[0], projected[1], note)
    if count:
        started = time.perf_counter()
        full, proj = _count(union, full, proj, time_limit_s, seconds)
        seconds["count"] = time.perf_counter() - started

    started = time.perf_counter()
    analyses_note = None
    try:
        with Watchdog(time_limit_s) as watchdog:
            changes = _analysis_changes({"a": a, "b": b}, watchdog)
    except NotDecided as error:
        changes, analyses_note = {}, str(error)
    seconds["analyses"] = time.perf_counter() - started
    return ModelDiff(full, proj, len(a), len(b), syntax, changes, analyses_note, seconds)


Outcome = Difference | None | Literal[False]
"""A witness, ``None`` when there is none, ``False`` when the check did not settle."""


def _settled(check: Callable[[], Difference | None]) -> Outcome:
    """The check's answer, or ``False`` when its watchdog stopped it."""
    try:
        return check()
    except NotDecided:
        return False


def _figures(semantics: str, features: int, lost: Outcome, gained: Outcome, note: str) -> Figures:
    lost_exists = None if lost is False else lost is not None
    gained_exists = None if gained is False else gained is not None

    def part(found: Outcome, which: str) -> tuple[str, ...] | None:
        return getattr(found, which) if isinstance(found, Difference) else None

    def rule(found: Outcome) -> str | None:
        return found.rule or None if isinstance(found, Difference) else None

    return Figures(semantics, features, edit_class(lost_exists, gained_exists), lost_exists, gained_exists,
                   part(lost, "selected"), part(gained, "selected"), part(lost, "deselected"),
                   part(gained, "deselected"), rule(lost), rule(gained),
                   decision_note=note if None in (lost_exists, gained_exists) else None)


def _count(union: Union, full: Figures, proj: Figures, time_limit_s: float,
           seconds: dict[str, float]) -> tuple[Figures, Figures]:
    """Exact counts for both semantics within one time limit (full first); each count's seconds into ``seconds``."""
    a, b = union.a, union.b
    parts = {"a_def": a.definitions, "a_req": a.requirements, "a_abs": a.absent,
             "b_def": b.definitions, "b_req": b.requirements, "b_abs": b.absent}
    show = tuple(union.shared())
    jobs = [CountJob("full_a", ("a_def", "a_req", "a_abs", "b_def")),
            CountJob("full_b", ("b_def", "b_req", "b_abs", "a_def"))]
    if full.lost_exists and full.gained_exists and not _disjoint(full):
        jobs.append(CountJob("full_ab", tuple(parts)))
    jobs += [CountJob("proj_a", ("a_def", "a_req"), show), CountJob("proj_b", ("b_def", "b_req"), show)]
    if proj.lost_exists is not False and proj.gained_exists is not False and not _disjoint(proj):
        jobs.append(CountJob("proj_ab", ("a_def", "a_req", "b_def", "b_req"), show))
    timings: dict[str, float] = {}
    results = count_jobs(parts, union.n_vars, jobs, time_limit_s, timings)
    seconds.update({f"count_{name}": value for name, value in timings.items()})
    for figures, prefix in ((full, "full"), (proj, "proj")):
        if _disjoint(figures):
            results[f"{prefix}_ab"] = 0
    return (_with_counts(full, results, "full", time_limit_s), _with_counts(proj, results, "proj", time_limit_s))


def _disjoint(figures: Figures) -> bool:
    """Whether a witness needs no literal: then no configuration is common to both versions (#(A∧B) = 0)."""
    return any(on == () and off == () for on, off in ((figures.witness_lost, figures.deselected_lost),
                                                      (figures.witness_gained, figures.deselected_gained)))


def _with_counts(figures: Figures, results: dict[str, int | None], prefix: str, time_limit_s: float) -> Figures:
    """Lost and gained from #A, #B and #(A∧B); the intersection is #A or #B when one side contains the other."""
    count_a, count_b = results.get(f"{prefix}_a"), results.get(f"{prefix}_b")
    both = results.get(f"{prefix}_ab")
    if figures.lost_exists is False:
        both = count_a
    elif figures.gained_exists is False:
        both = count_b
    lost = 0 if figures.lost_exists is False else (None if count_a is None or both is None else count_a - both)
    gained = 0 if figures.gained_exists is False else (None if count_b is None or both is None else count_b - both)
    missing = None in (count_a, count_b, lost, gained)
    note = f"not counted in {time_limit_s:g} s" if missing else None
    return dataclasses.replace(figures, count_a=count_a, count_b=count_b, lost_count=lost, gained_count=gained,
                               count_note=note)


def _analysis_changes(models: dict[str, FeatureModel], watchdog: Watchdog) -> dict[str, AnalysisChange]:
    """Core, dead and false-optional features of each version, and which appeared or disappeared."""
    found: dict[str, dict[str, list[str]]] = {"core": {}, "dead": {}, "false_optional": {}}
    for side, model in models.items():
        cnf = encode(model)
        bb = analysis.backbone(cnf, watchdog)
        found["core"][side] = list(bb.core)
        found["dead"][side] = list(bb.dead)
        found["false_optional"][side] = analysis.false_optional_features(model, cnf, known=bb, watchdog=watchdog)
    out: dict[str, AnalysisChange] = {}
    for name, sides in found.items():
        before, after = set(sides["a"]), set(sides["b"])
        out[name] = AnalysisChange(tuple(n for n in sides["b"] if n not in before),
                                   tuple(n for n in sides["a"] if n not in after))
    return out
