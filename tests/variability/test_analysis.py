"""Analyses against brute force on random models, and against values checked by hand on car.xml."""

from __future__ import annotations

from hypothesis import given, settings

from evplatform.variability.analysis import (
    atomic_sets,
    backbone,
    core_features,
    dead_features,
    false_optional_features,
    is_valid,
    redundant_constraints,
)
from evplatform.variability.cnf import encode
from evplatform.variability.model import FeatureModel, GroupKind
from variability.fm_strategies import brute_force, feature_models


def _tree_mandatory(model: FeatureModel) -> set[str]:
    out: set[str] = set()
    for feature in model.features.values():
        for group in feature.groups:
            low, _ = group.bounds()
            n = len(group.children)
            if group.kind is GroupKind.MANDATORY or (group.kind is not GroupKind.OPTIONAL and low == n):
                out.update(group.children)
    return out


def _expected_false_optional(model: FeatureModel, configs: set[frozenset[str]]) -> list[str]:
    dead = {f for f in model.features if not any(f in c for c in configs)}
    mandatory = _tree_mandatory(model)
    out = []
    for name, feature in model.features.items():
        parent = feature.parent
        if parent is None or name in mandatory or parent in dead or name in dead:
            continue
        if all(name in c for c in configs if parent in c):
            out.append(name)
    return out


def _expected_atomic_sets(model: FeatureModel, configs: set[frozenset[str]]) -> list[list[str]]:
    order = list(model.features)
    signature: dict[tuple[bool, ...], list[str]] = {}
    ordered = sorted(configs, key=sorted)
    for name in order:
        key = tuple(name in c for c in ordered)
        if any(key):
            signature.setdefault(key, []).append(name)
    return sorted(signature.values(), key=lambda s: order.index(s[0]))


@settings(max_examples=120, deadline=None)
@given(feature_models(max_features=8, max_constraints=3))
def test_analyses_match_brute_force(model: FeatureModel) -> None:
    configs = brute_force(model)
    cnf = encode(model)
    assert is_valid(cnf) == bool(configs)
    names = list(model.features)
    if configs:
        assert core_features(cnf) == [f for f in names if all(f in c for c in configs)]
        assert dead_features(cnf) == [f for f in names if not any(f in c for c in configs)]
    else:
        assert core_features(cnf) == [] and dead_features(cnf) == names
    assert false_optional_features(model, cnf) == (_expected_false_optional(model, configs) if configs else [])
    assert atomic_sets(model, cnf) == (_expected_atomic_sets(model, configs) if configs else [])


@settings(max_examples=80, deadline=None)
@given(feature_models(max_features=6, max_constraints=4))
def test_redundant_constraints_can_be_removed_together(model: FeatureModel) -> None:
    configs = brute_force(model)
    redundant = redundant_constraints(model)
    if not configs:
        assert redundant == []
        return
    kept = [c for c in model.constraints if all(c is not r for r in redundant)]
    assert brute_force(FeatureModel(model.root, model.features, kept)) == configs
    for constraint in kept:  # nothing kept could have gone as well
        fewer = [c for c in kept if c is not constraint]
        assert brute_force(FeatureModel(model.root, model.features, fewer)) != configs


def test_backbone_without_model_uses_sat_only() -> None:
    from evplatform.variability.uvl import parse_uvl

    model = parse_uvl("features\n    R\n        alternative\n" + "".join(f"            C{i}\n" for i in range(30))
                      + "constraints\n    C3 => C4\n    C7 => !R\n")
    cnf = encode(model)
    cnf.model = None
    bb = backbone(cnf)
    assert bb.core == ("R",) and bb.dead == ("C3", "C7")
