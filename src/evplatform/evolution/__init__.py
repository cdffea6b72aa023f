"""Comparing two versions of a workspace: change impact on every domain, KPI history over git, the CI gate.

Reading a version never touches the work tree: a revision is exported with ``git archive`` into a
temporary folder (see :mod:`evplatform.evolution.revisions`), loaded with a loader that carries on
past trims a change made invalid (recording them and their closest valid configuration), then
compared domain by domain (:mod:`evplatform.evolution.impact`).
"""

from evplatform.evolution.errors import EvolutionError, SideError
from evplatform.evolution.gate import GateResult, gate
from evplatform.evolution.impact import ImpactOptions, compare_sides
from evplatform.evolution.revisions import Side, open_side, revisions

__all__ = [
    "EvolutionError",
    "GateResult",
    "ImpactOptions",
    "Side",
    "SideError",
    "compare_sides",
    "gate",
    "open_side",
    "revisions",
]
