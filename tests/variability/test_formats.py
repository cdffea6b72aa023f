"""Readers and writers: round trips keep the configurations; bad input is a ParseError at file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings

from evplatform.errors import ParseError, VariabilityError
from evplatform.variability.analysis import backbone
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.dimacs import format_dimacs, parse_dimacs
from evplatform.variability.featureide import format_featureide, parse_featureide
from evplatform.variability.formats import load_cnf, load_model, save_model
from evplatform.variability.model import FeatureModel
from evplatform.variability.uvl import parse_uvl
from evplatform.variability.uvl_writer import format_uvl
from reference_data import shared_data_path
from variability.fm_strategies import brute_force, feature_models
from variability.test_cnf import all_models


def _projected(configs: set[frozenset[str]], names: set[str]) -> set[frozenset[str]]:
    return {frozenset(c & names) for c in configs}


@settings(max_examples=60, deadline=None)
@given(feature_models(max_features=7, max_constraints=3))
def test_uvl_round_trip_keeps_configurations(model: FeatureModel) -> None:
    again = parse_uvl(format_uvl(model), "again.uvl")
    assert set(again.features) == set(model.features)
    assert brute_force(again) == brute_force(model)


@settings(max_examples=60, deadline=None)
@given(feature_models(max_features=7, max_constraints=3))
def test_featureide_round_trip_keeps_configurations(model: FeatureModel) -> None:
    try:
        text = format_featureide(model)
    except VariabilityError as error:  # general [n..m] cardinalities have no FeatureIDE form
        assume("cardinality" in str(error))
        return
    again = parse_featureide(text, "again.xml")
    helpers = set(again.features) - set(model.features)
    assert all("#" in h and again.features[h].abstract for h in helpers)
    configs = brute_force(again)
    assert len(configs) == len(brute_force(model))  # helpers are determined by their parent
    assert _projected(configs, set(model.features)) == brute_force(model)


@settings(max_examples=60, deadline=None)
@given(feature_models(max_features=7, max_constraints=3))
def test_dimacs_round_trip_keeps_configurations(model: FeatureModel) -> None:
    cnf = encode(model)
    again, _ = parse_dimacs(format_dimacs(cnf), "again.dimacs")
    assert again.names[: again.n_features] == cnf.names[: cnf.n_features]
    assert again.n_features == cnf.n_features and again.clauses == cnf.clauses
    expected = brute_force(model)
    assert {again.selected(m) for m in all_models(again)} == expected
    flat = load_flat(again)
    assert _projected(brute_force(flat), set(model.features)) == expected


def load_flat(cnf: CNF) -> FeatureModel:
    from evplatform.variability.dimacs import cnf_to_model

    return cnf_to_model(cnf)


def test_save_and_load_by_suffix(tmp_path: Path) -> None:
    model = parse_uvl("features\n    R {abstract, cost 3}\n        or\n            A {cost 1.5, label 'x y'}\n"
                      "            \"B c\"\n        alternative\n            D\n            E\n"
                      "constraints\n    A => !\"B c\" | D\n", "m.uvl")
    expected = brute_force(model)
    for suffix in (".uvl", ".xml", ".dimacs"):
        path = tmp_path / f"out{suffix}"
        save_model(model, path)
        loaded = load_model(path)
        assert _projected(brute_force(loaded), set(model.features)) == expected
        cnf = load_cnf(path)
        assert {frozenset(cnf.selected(m) & set(model.features)) for m in all_models(cnf)} == expected
    xml = load_model(tmp_path / "out.xml")
    assert xml.features["A"].attributes == {"cost": 1.5, "label": "x y"} and xml.features["R"].abstract
    assert "R#1" in xml.features  # R mixes an or- and an alternative group: one helper per group
    uvl = load_model(tmp_path / "out.uvl")
    assert uvl.features["R"].attributes == {"cost": 3} and uvl.features["A"].attributes["label"] == "x y"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".uvl", ".xml", ".dimacs"])
def test_zero_byte_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ParseError, match=r"empty\.\w+:1:1: empty file"):
        load_model(path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"unknown feature-model format '\.json'"):
        load_model(tmp_path / "m.json")
    with pytest.raises(ParseError, match="file not found"):
        load_model(tmp_path / "absent.uvl")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("c 1 A\np cnf 2 3\n1 2 0\n-1 0\n", 2, "header says 3 clauses but the file has 2"),
        ("p cnf 2 1\n1 3 0\n", 2, "literal 3 exceeds the 2 variables of the header (line 1)"),
        ("p cnf 2 1\n1 x 0\n", 2, "expected an integer literal, found 'x'"),
        ("1 2 0\n", 1, "clause before the 'p cnf"),
        ("p cnf 2 1\np cnf 2 1\n1 0\n", 2, "second header"),
        ("p dnf 2 1\n", 1, "expected 'p cnf"),
        ("c only a comment\n", 1, "empty file"),
        # headers that promise more than the file can hold (once: 23.7 GB allocated for a 4.5 KB file)
        ("c 1 A\np cnf 2000000000 1\n1 0\n", 2, "declares 2,000,000,000 variables; this reader takes at most"),
        ("p cnf 50000000 1\n1 0\n", 1, "declares 50,000,000 variables"),
        ("p cnf 3 264\n1 0\n", 1, "declares 264 clauses, more than a file of 16 characters can hold"),
    ],
)
def test_dimacs_errors(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_dimacs(text, "m.dimacs")
    assert info.value.line == line and fragment in str(info.value)
    assert str(info.value).startswith(f"m.dimacs:{line}:")


def test_dimacs_names_and_auxiliaries() -> None:
    cnf, lines = parse_dimacs("c 1 Root\nc 2 Child one\np cnf 3 3\n1 0\n-2 1 0\n3\n0\n", "m.dimacs")
    assert cnf.names == ["Root", "Child one", ""] and cnf.n_features == 2
    assert lines == [4, 5, 7] and cnf.clauses == [[1], [-2, 1], [3]]
    unnamed, _ = parse_dimacs("p cnf 2 1\n1 -2 0\n")
    assert unnamed.names == ["_1", "_2"] and unnamed.n_features == 2


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("<featureModel><struct><and name='A'>\n<feature name='B'/>\n</struct></featureModel>", 3, "mismatched tag"),
        ("<featureModel><struct>\n<and name='A'><feature name='B'/></and></struct>\n<constraints>\n<rule><var>C</var>"
         "</rule></constraints></featureModel>", 4, "unknown feature 'C' in constraint"),
        ("<featureModel>\n<struct><and name='A'/><and name='B'/></struct></featureModel>", 2, "exactly one root"),
        ("<featureModel><struct>\n<and name='A'><feature name='A'/></and></struct></featureModel>", 2,
         "duplicate feature 'A'"),
        ("<featureModel><struct><and name='A'/></struct><constraints>\n<rule><imp><var>A</var></imp></rule>"
         "</constraints></featureModel>", 2, "<imp> takes 2 operand(s), found 1"),
        ("<model/>", 1, "expected <featureModel>"),
    ],
)
def test_featureide_errors(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_featureide(text, "m.xml")
    assert info.value.line == line and fragment in str(info.value)
    assert info.value.column is not None


def test_featureide_cannot_write_general_cardinality() -> None:
    model = parse_uvl("features\n    R\n        [2..3]\n            A\n            B\n            C\n            D\n")
    with pytest.raises(VariabilityError, match=r"cannot express the group cardinality \[2..3\] \(line 3\)"):
        format_featureide(model)


# --- the shared reference models -------------------------------------------------------------


def test_car_values_checked_by_brute_force() -> None:
    model = load_model(shared_data_path("feature-models", "small", "car.featureide.xml"))
    configs = brute_force(model)
    assert len(configs) == 7
    bb = backbone(encode(model))
    assert list(bb.core) == ["Car", "Carbody", "Gearbox", "Automatic", "GearboxTest"]
    assert list(bb.dead) == ["Bluetooth", "Manual"]
    names = list(model.features)
    assert list(bb.core) == [f for f in names if all(f in c for c in configs)]
    assert list(bb.dead) == [f for f in names if not any(f in c for c in configs)]


def test_busybox_formats_agree() -> None:
    folder = shared_data_path("feature-models", "busybox")
    results = []
    for name in ("busybox-1.18.0.featureide.xml", "busybox-1.18.0.uvl", "busybox-1.18.0.dimacs"):
        bb = backbone(load_cnf(folder / name))
        results.append((sorted(bb.core), sorted(bb.dead)))
    assert results[0] == results[1] == results[2]
    assert (len(results[0][0]), len(results[0][1])) == (23, 18)


@pytest.mark.heavy
@pytest.mark.parametrize(
    "relative",
    ["automotive01/automotive01.featureide.xml", "linux/linux-2.6.33.3.featureide.xml",
     "financialservices01/financialservices01_2018-05-09.uvl", "automotive02/automotive02_v4.uvl"],
)
def test_real_models_survive_round_trips(tmp_path: Path, relative: str) -> None:
    model = load_model(shared_data_path("feature-models", *relative.split("/")))
    expected = backbone(encode(model))
    for suffix in (".uvl", ".xml", ".dimacs"):
        path = tmp_path / f"again{suffix}"
        save_model(model, path)
        bb = backbone(load_cnf(path))
        assert set(bb.core) - {f for f in bb.core if "#" in f} == set(expected.core)
        assert set(bb.dead) == set(expected.dead)
