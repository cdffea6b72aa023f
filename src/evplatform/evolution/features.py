"""The feature-model section of a diff: ``variability.edits.compare_models`` plus the names that changed.

``compare_models(a, b).to_dict()`` (the ``fm diff --json`` payload) classifies the edit
(refactoring, generalisation, specialisation, arbitrary) with witnesses and exact counts; its
``features_added`` … are counts. ``names`` adds the feature and constraint names added and
removed, which the Markdown and the page list. Should the semantic comparison fail, the section
keeps the syntactic figures with ``edit_class`` None, and the CI gate says its "no configurations
removed" criterion was not checked.
"""

from __future__ import annotations

import logging
from typing import Any

from evplatform.errors import EvplatformError
from evplatform.variability.edits import compare_models
from evplatform.variability.model import FeatureModel

log = logging.getLogger(__name__)


def names(a: FeatureModel, b: FeatureModel) -> dict[str, list[str]]:
    """Features and constraints (by their text) in one model only."""
    ca, cb = {str(c) for c in a.constraints}, {str(c) for c in b.constraints}
    return {
        "features_added": sorted(b.features.keys() - a.features.keys()),
        "features_removed": sorted(a.features.keys() - b.features.keys()),
        "constraints_added": sorted(cb - ca),
        "constraints_removed": sorted(ca - cb),
    }


def feature_model_section(a: FeatureModel, b: FeatureModel, time_limit_s: float, count: bool = True
                          ) -> dict[str, Any]:
    """``compare_models(a, b).to_dict()`` with ``names`` and ``semantic`` (False when it failed)."""
    changed = names(a, b)
    try:
        diff = compare_models(a, b, time_limit_s=time_limit_s, count=count).to_dict()
    except EvplatformError as error:
        log.warning("semantic feature-model comparison failed: %s", error)
        return {"edit_class": None, "semantic": False, "semantic_error": str(error), "features_a": len(a),
                "features_b": len(b), **{k: len(v) for k, v in changed.items()}, "names": changed}
    return {**diff, "semantic": True, "names": changed}
