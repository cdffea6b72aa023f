"""The feature-model section of a diff: the semantic comparison when it is available, else the syntax.

``variability.edits.compare_models`` (built alongside) classifies the edit (refactoring,
generalisation, specialisation, arbitrary) with witnesses and counts. Until it is present this
module reports the syntactic difference only (features and constraints added and removed) and
``edit_class`` None, so the CI gate leaves its "no configurations removed" criterion out.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from evplatform.errors import EvplatformError
from evplatform.variability.model import FeatureModel

log = logging.getLogger(__name__)


def syntactic(a: FeatureModel, b: FeatureModel) -> dict[str, Any]:
    """Features and constraints (by their text) in one model only."""
    ca, cb = {str(c) for c in a.constraints}, {str(c) for c in b.constraints}
    return {
        "features_before": len(a), "features_after": len(b),
        "features_added": sorted(b.features.keys() - a.features.keys()),
        "features_removed": sorted(a.features.keys() - b.features.keys()),
        "constraints_added": sorted(cb - ca),
        "constraints_removed": sorted(ca - cb),
    }


def feature_model_section(a: FeatureModel, b: FeatureModel, time_limit_s: float) -> dict[str, Any]:
    """``compare_models(a, b).to_dict()`` merged over the syntactic difference, or the latter alone."""
    out = syntactic(a, b)
    try:
        edits = importlib.import_module("evplatform.variability.edits")
    except ImportError:
        out.update(edit_class=None, semantic=False)
        return out
    try:
        diff = edits.compare_models(a, b, time_limit_s=time_limit_s, count=True).to_dict()
    except EvplatformError as error:
        log.warning("semantic feature-model comparison failed: %s", error)
        out.update(edit_class=None, semantic=False, semantic_error=str(error))
        return out
    out.update(diff)
    out["semantic"] = True
    return out
