"""variability domain: feature models (UVL, FeatureIDE XML, DIMACS), their CNF, analyses and explanations.

The public names below are the stable API; modules not listed here are implementation details
that may change. Configuration (propagation, completion, sampling, counting) lives in its own
modules: ``variability.propagation``, ``variability.completion``, ``variability.sampling``,
``variability.counting``.

The names are imported on first use (PEP 562): a process that needs one module (the d4 counting
child of ``fm diff``, the workspace loader) does not pay for the FeatureIDE writer's XML stack,
the explanations and the analyses.
"""

import importlib as _importlib
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
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

_SOURCES: dict[str, tuple[str, ...]] = {
    "analysis": ("atomic_sets", "core_features", "dead_features", "false_optional_features", "is_valid",
                 "redundant_constraints"),
    "cnf": ("CNF", "encode"),
    "explain": ("Explanation", "explain_dead", "explain_invalid"),
    "formats": ("load_cnf", "load_model", "save_model"),
    "model": ("Constraint", "Feature", "FeatureModel", "Group", "GroupKind"),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

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


def __getattr__(name: str) -> _Any:
    """Import the module that defines ``name`` on first access (then it is a plain module attribute)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and the submodules imported so far."""
    modules = [n for n, v in globals().items() if isinstance(v, _ModuleType) and not n.startswith("_")]
    return sorted({*__all__, *modules})
