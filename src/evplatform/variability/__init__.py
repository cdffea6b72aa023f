"""variability domain: feature models (UVL, FeatureIDE XML, DIMACS), their CNF, analyses and explanations.

The public names below are the stable API; modules not listed here are implementation details
that may change. Configuration (propagation, completion, sampling, counting) lives in its own
modules: ``variability.propagation``, ``variability.completion``, ``variability.sampling``,
``variability.counting``.
"""

from evplatform.variability.analysis import (
    atomic_sets,
    core_features,
    dead_features,
    false_optional_features,
    is_valid,
    redundant_constraints,
)
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.explain import Explanation, explain_dead, explain_invalid
from evplatform.variability.formats import load_cnf, load_model, save_model
from evplatform.variability.model import Constraint, Feature, FeatureModel, Group, GroupKind

__all__ = [
    "CNF",
    "Constraint",
    "Explanation",
    "Feature",
    "FeatureModel",
    "Group",
    "GroupKind",
    "atomic_sets",
    "core_features",
    "dead_features",
    "encode",
    "explain_dead",
    "explain_invalid",
    "false_optional_features",
    "is_valid",
    "load_cnf",
    "load_model",
    "redundant_constraints",
    "save_model",
]
