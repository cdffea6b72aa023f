"""The schema stays the single source: the docs are generated from it and it matches what the code reads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from evplatform.errors import VehicleError
from evplatform.fleet import registry
from evplatform.vehicle import params
from evplatform.vehicle.global_parameters import DEFAULTS
from evplatform.workspace.roles import CATALOGUE
from evplatform.workspace.schema import ATTRIBUTES, generated_docs, stale_docs
from evplatform.workspace.schema import attributes as schema_attributes
from evplatform.workspace.schema.files import FLEET, ROLE_IDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_are_generated_from_the_schema() -> None:
    stale = stale_docs(DOCS)
    assert stale == [], f"run `evplatform workspace schema --write docs` to regenerate {stale}"


def test_generated_json_schemas_are_valid_json_with_closed_objects() -> None:
    schemas = {name: json.loads(text) for name, text in generated_docs().items() if name.endswith(".json")}
    assert {"schema/platform.schema.json", "schema/model.schema.json", "schema/market.schema.json",
            "schema/software.schema.json", "schema/parts.schema.json"} <= set(schemas)
    platform = schemas["schema/platform.schema.json"]
    assert platform["additionalProperties"] is False
    assert {"name", "currency", "base_market", "models", "markets"} == set(platform["required"])
    trim = schemas["schema/model.schema.json"]["properties"]["trims"]["additionalProperties"]
    assert trim["properties"]["targets"]["additionalProperties"] is False


def test_cli_check_and_write(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evplatform", "workspace", "schema", *args],
                              capture_output=True, text=True, check=False)

    assert run(str(tmp_path), "--check").returncode == 1
    written = run(str(tmp_path), "--write", "--json")
    assert written.returncode == 0, written.stderr
    assert "workspace.md" in json.loads(written.stdout)["written"]
    assert (tmp_path / "schema" / "model.schema.json").is_file()
    again = run(str(tmp_path), "--check", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["stale"] == []


class _Recording(Mapping[str, float | str]):
    """Attributes that remember which keys the simulator asked for."""

    def __init__(self, values: dict[str, float | str]) -> None:
        self._data = values
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> float | str:
        self.asked.add(key)
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_every_attribute_the_simulator_reads_is_declared() -> None:
    attrs = _Recording({"mass_kg": 2000, "capacity_kwh": 80, "power_kw": 200, "cd": 0.25,
                        "frontal_area_m2": 2.4, "crr": 0.008})
    params.params_from_attributes(attrs, "probe")
    declared = {a.name for a in ATTRIBUTES if "simulate" in a.used_by}
    assert attrs.asked, "the probe saw the simulator's lookups"
    assert attrs.asked <= declared, f"undeclared: {attrs.asked - declared}"


def test_allowed_attribute_values_are_the_simulators() -> None:
    assert schema_attributes.DRIVES == params.DRIVES
    assert schema_attributes.CHEMISTRIES == params.CHEMISTRIES
    assert schema_attributes.MOTOR_CLASSES == params.MOTOR_CLASSES


def test_fleet_csv_columns_are_the_importers() -> None:
    assert FLEET.required == registry.CSV_FIELDS
    assert tuple(c.name for c in FLEET.columns if not c.required) == registry.CSV_OPTIONAL


def test_simulation_needs_are_what_the_simulator_refuses_without() -> None:
    complete = {"mass_kg": 2000.0, "capacity_kwh": 80.0, "usable_kwh": 76.0, "power_kw": 200.0, "cd": 0.25,
                "frontal_area_m2": 2.4, "crr": 0.008}
    params.params_from_attributes(complete, "complete")
    for names in schema_attributes.SIMULATION_NEEDS:
        partial = {k: v for k, v in complete.items() if k not in names}
        with pytest.raises(VehicleError):
            params.params_from_attributes(partial, f"without {names}")
        assert schema_attributes.missing_for_simulation(partial) == [" or ".join(names)]


def test_documented_roles_are_the_role_catalogue() -> None:
    documented = json.loads(generated_docs()["schema/platform.schema.json"])["properties"]["roles"]["properties"]
    assert tuple(documented) == ROLE_IDS == tuple(r.id for r in CATALOGUE)


def test_reference_states_the_simulators_test_masses() -> None:
    """The workspace layer may not import the simulator, so the page states them and this test holds them."""
    page = generated_docs()["workspace.md"]
    for cycle, kg in DEFAULTS.test_mass_added_kg.items():
        assert f"+{kg:g} kg {cycle}" in page
