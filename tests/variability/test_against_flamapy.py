"""Our analyses agree with flamapy 2.6.0 wherever flamapy finishes (issue 3, "Real data and correctness").

flamapy is GPL-3.0, so it runs beside the project in its own virtualenv
(``benchmarks/_variability_flamapy.py`` creates ``benchmarks/.venv-flamapy`` with pip on first
use); these tests skip with the reason when it cannot be installed. Conventions are compared like
with like, as ``evplatform.variability.analysis`` documents them:

- core and dead: identical (both tools count the root and abstract features);
- false-optional: flamapy also lists children of dead parents (vacuously false-optional); ours
  leaves those out, so we compare with flamapy's list minus those;
- atomic sets: flamapy follows mandatory tree edges only, ours are semantic (f ⇔ g in every
  configuration), so every flamapy set restricted to live features must lie inside one of ours;
- count: identical.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evplatform.variability import analysis, cnf, formats
from evplatform.variability.model import FeatureModel
from reference_data import PROJECT_ROOT, shared_data_path


def _anchor_module() -> ModuleType:
    """benchmarks/_variability_flamapy.py by path: putting benchmarks/ on sys.path would shadow
    the tests' own ``variability`` package with benchmarks/variability.py."""
    path = PROJECT_ROOT / "benchmarks" / "_variability_flamapy.py"
    spec = importlib.util.spec_from_file_location("_variability_flamapy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


_anchor = _anchor_module()
ensure_flamapy, run_flamapy = _anchor.ensure_flamapy, _anchor.run_flamapy

# Small models written for this comparison: or-groups, alternatives, a cardinality group,
# cross-tree constraints that kill a feature and make another false-optional.
SMALL_UVL = {
    "sensors": """features
    Car
        mandatory
            Body
            Powertrain
                alternative
                    RWD
                    AWD
        optional
            Lidar
            Radar
            Adas
                or
                    ACC
                    AEB
                    ALKS
constraints
    ALKS => Lidar
    AWD => !Lidar
    Lidar => Radar
""",
    "dead_and_forced": """features
    Platform
        mandatory
            Battery
                alternative
                    LFP
                    NMC
            Charging
                [1..2]
                    AC
                    DC
                    Wireless
        optional
            HighVoltage
            FastCharge
            Towing
constraints
    FastCharge => DC & HighVoltage
    NMC => HighVoltage
    Wireless => !AC
    Towing & LFP => FastCharge
    !NMC
    Wireless => Towing
    Towing => !Wireless
""",
    "false_optional": """features
    Hub
        mandatory
            Compute
        optional
            Ota
            Telematics
                alternative
                    LTE
                    NR5G
constraints
    Ota => Telematics
    Compute => Ota
""",
}


@pytest.fixture(scope="module")
def flamapy_python() -> Path:
    python, reason = ensure_flamapy()
    if python is None:
        pytest.skip(reason)
    return Path(python)


def _ours(model: FeatureModel) -> dict[str, Any]:
    encoded = cnf.encode(model)
    from evplatform.variability.counting import count_configurations

    return {
        "valid": analysis.is_valid(encoded),
        "core": sorted(analysis.core_features(encoded)),
        "dead": sorted(analysis.dead_features(encoded)),
        "false-optional": sorted(analysis.false_optional_features(model, encoded)),
        "atomic-sets": [sorted(s) for s in analysis.atomic_sets(model, encoded)],
        "count": count_configurations(encoded),
    }


def _theirs(python: Path, path: Path, op: str) -> Any:
    run = run_flamapy(python, path, op, timeout_s=120)
    assert run.failure is None, f"flamapy {op} on {path.name}: {run.failure}"
    return run.result


def _compare(python: Path, path: Path, model: FeatureModel, ops: tuple[str, ...]) -> None:
    ours = _ours(model)
    suite = _theirs(python, path, "small-suite") if "count" in ops else None

    def theirs(op: str) -> Any:
        return suite[op] if suite is not None else _theirs(python, path, op)

    if "valid" in ops:
        assert ours["valid"] is theirs("valid")
    both = theirs("core+dead")
    assert ours["core"] == both["core"]
    assert ours["dead"] == both["dead"]
    dead = set(ours["dead"])
    if "false-optional" in ops:
        comparable = [f for f in theirs("false-optional") if model.features[f].parent not in dead]
        assert ours["false-optional"] == sorted(comparable)
    if "atomic-sets" in ops:
        home = {f: i for i, group in enumerate(ours["atomic-sets"]) for f in group}
        for group in theirs("atomic-sets"):
            live = [f for f in group if f not in dead]
            assert len({home[f] for f in live}) <= 1, f"flamapy's atomic set {live} is split by ours"
    if "count" in ops:
        assert str(ours["count"]) == theirs("count")


@pytest.mark.parametrize("name", sorted(SMALL_UVL))
def test_small_uvl_models_agree(name: str, tmp_path: Path, flamapy_python: Path) -> None:
    path = tmp_path / f"{name}.uvl"
    path.write_text(SMALL_UVL[name])
    model = formats.load_model(path)
    _compare(flamapy_python, path, model, ("valid", "false-optional", "atomic-sets", "count"))


def test_car_featureide_agrees(flamapy_python: Path) -> None:
    path = shared_data_path("feature-models", "small", "car.featureide.xml")
    _compare(flamapy_python, path, formats.load_model(path), ("valid", "false-optional", "atomic-sets", "count"))


def test_the_small_models_are_not_trivial() -> None:
    """The comparison would prove little on models where every answer is empty."""
    findings = {name: _ours(_load_text(name)) for name in SMALL_UVL}
    assert {"NMC", "Wireless"} <= set(findings["dead_and_forced"]["dead"])
    assert findings["sensors"]["dead"] == [] and findings["sensors"]["count"] > 10
    assert "Ota" in findings["false_optional"]["false-optional"]


def _load_text(name: str) -> FeatureModel:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.uvl"
        path.write_text(SMALL_UVL[name])
        return formats.load_model(path)


@pytest.mark.heavy
def test_busybox_core_dead_false_optional_agree(flamapy_python: Path) -> None:
    path = shared_data_path("feature-models", "busybox", "busybox-1.18.0.uvl")
    _compare(flamapy_python, path, formats.load_model(path), ("false-optional",))
