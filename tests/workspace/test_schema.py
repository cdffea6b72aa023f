"""The workspace schema: unknown keys, columns and attributes refused at their line with a suggestion.

Each test copies the demo workspace, breaks one thing the way a person would (a typo, a synonym,
an impossible value) and checks the error names the file, the line and what was meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import SourceError
from evplatform.workspace import load_workspace
from evplatform.workspace.schema import YAML_FILES, check_mapping
from evplatform.workspace.schema.reference import example_of
from evplatform.workspace.sources import LineDict, read_yaml_mapping
from tiny_workspace import replace_first as edit


def load_error(ws_dir: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_workspace(ws_dir)
    return info.value


@pytest.mark.parametrize(
    ("file", "old", "new", "unknown", "meant"),
    [
        ("platform.yaml", "currency: CNY", "currncy: CNY", "currncy", "currency"),
        ("platform.yaml", "  lifecycle_years: 6", "  lifecycle_year: 6", "lifecycle_year", "lifecycle_years"),
        ("platform.yaml", "  scale_elasticity:", "  scale_elasticty:", "scale_elasticty", "scale_elasticity"),
        ("models/su7.yaml", "segment:", "segmnet:", "segmnet", "segment"),
        ("models/su7.yaml", "    targets: {cltc_range_km: 830", "    targetz: {cltc_range_km: 830", "targetz",
         "targets"),
        ("models/su7.yaml", "{cltc_range_km: 830", "{cltc_range: 830", "cltc_range", "cltc_range_km"),
        ("markets/FR.yaml", "parent: EU", "parnet: EU", "parnet", "parent"),
        ("markets/EU.yaml", "homologation_cycle:", "homologation_cylce:", "homologation_cylce",
         "homologation_cycle"),
        ("software.yaml", "    hardware_id: MD-HUB-A1", "    hardware: MD-HUB-A1", "hardware", "hardware_id"),
    ],
)
def test_unknown_yaml_key_names_file_line_and_suggestion(
    ws_dir: Path, file: str, old: str, new: str, unknown: str, meant: str
) -> None:
    line = edit(ws_dir / file, old, new)
    error = load_error(ws_dir)
    assert error.file == str(ws_dir / file)
    assert error.line == line
    assert f"unknown key {unknown!r}; did you mean {meant!r}?" in error.message


def test_misspelt_parent_is_reported_against_its_own_file(ws_dir: Path) -> None:
    """The issue's case: a misspelt ``parnet`` used to surface as an error in another file."""
    line = edit(ws_dir / "markets" / "DE.yaml", "parent: EU", "parnet: EU")
    error = load_error(ws_dir)
    assert (error.file, error.line) == (str(ws_dir / "markets" / "DE.yaml"), line)


def test_unknown_key_far_from_every_key_lists_the_known_ones(ws_dir: Path) -> None:
    line = edit(ws_dir / "platform.yaml", "currency: CNY", "currency: CNY\nzzz: 1")
    error = load_error(ws_dir)
    assert error.line == line + 1
    assert "unknown key 'zzz' (known keys: name, version, currency" in error.message


def test_roles_accept_the_three_shapes(tmp_path: Path) -> None:
    """Role keys themselves are checked by evplatform.workspace.roles (its own did-you-mean)."""
    from evplatform.workspace.schema import PLATFORM

    path = tmp_path / "platform.yaml"
    path.write_text("name: X\ncurrency: EUR\nbase_market: A\nmodels: [m]\nmarkets: [A]\n"
                    "roles:\n  brake_by_wire: BrakeByWire\n  lidar: [LidarSuite]\n  alks: null\n")
    check_mapping(read_yaml_mapping(path, "platform.yaml"), PLATFORM.table, path)


def test_market_time_zone_and_fleet_share_are_accepted(tmp_path: Path) -> None:
    from evplatform.workspace.schema import MARKET

    path = tmp_path / "FR.yaml"
    path.write_text("name: France\nparent: EU\ntime_zone: Europe/Paris\nfleet_share: 0.1\n")
    check_mapping(read_yaml_mapping(path, "market"), MARKET.table, path)


def test_missing_required_trim_key(ws_dir: Path) -> None:
    line = edit(ws_dir / "models" / "su7.yaml", "    volume_per_year: 50000\n", "")
    error = load_error(ws_dir)
    assert "trim 'pro': missing required key 'volume_per_year'" in error.message
    assert error.line == line - 2  # the trim's first key: the mapping starts there


def test_missing_required_component_key(ws_dir: Path) -> None:
    line = edit(ws_dir / "software.yaml", "    ecu: central-compute\n", "")
    error = load_error(ws_dir)
    assert "component 'hub-os': missing required key 'ecu'" in error.message
    assert error.line == line - 2


@pytest.mark.parametrize(
    ("file", "column", "typo", "meant"),
    [("parts.csv", "unit_cost", "unit_cst", "unit_cost"), ("regulations.csv", "status", "statsu", "status")],
)
def test_unknown_csv_column_names_header_line_and_suggestion(
    ws_dir: Path, file: str, column: str, typo: str, meant: str
) -> None:
    path = ws_dir / file
    header = next(line for line in path.read_text().splitlines() if line and not line.startswith("#"))
    line = edit(path, header, header + f",{typo}")
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(t.rstrip("\n") + ",\n" if i >= line else t for i, t in enumerate(text)))
    error = load_error(ws_dir)
    assert (error.file, error.line) == (str(path), line)
    assert f"unknown column {typo!r}; did you mean {meant!r}?" in error.message


def test_missing_csv_column(ws_dir: Path) -> None:
    line = edit(ws_dir / "parts.csv", "part_no,name,module,unit_cost,", "part_no,name,module,")
    error = load_error(ws_dir)
    assert error.line == line
    assert "missing column(s) unit_cost" in error.message


def test_optional_notes_column_of_regulations_is_kept(ws_dir: Path) -> None:
    path = ws_dir / "regulations.csv"
    lines = path.read_text().splitlines()
    header = next(i for i, t in enumerate(lines) if t and not t.startswith("#"))
    out = [t if i < header or not t or t.startswith("#") else t + ("," + ("notes" if i == header else "see OJ"))
           for i, t in enumerate(lines)]
    path.write_text("\n".join(out) + "\n")
    ws = load_workspace(ws_dir)
    assert {r.extra.get("notes") for r in ws.regulations.values()} == {"see OJ"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("SedanBody {cd 0.195", "SedanBody {drag_cofficient 0.195",
         "feature SedanBody: unknown attribute 'drag_cofficient'; did you mean 'cd'?"),
        ("Pack_LFP_73 {capacity_kwh 73.6", "Pack_LFP_73 {capacity_kw 73.6",
         "unknown attribute 'capacity_kw'; did you mean 'capacity_kwh'?"),
        ("Tyre_19 {crr 0.0072", "Tyre_19 {rolling_resistance 0.0072",
         "unknown attribute 'rolling_resistance'; did you mean 'crr'?"),
        ("Pack_LFP_73 {capacity_kwh 73.6", "Pack_LFP_73 {capacity_kwh -73.6",
         "feature Pack_LFP_73: capacity_kwh must be > 0 kWh, not -73.6"),
        ("chemistry 'LFP', dc_peak_kw 210", "chemistry 'LiPo', dc_peak_kw 210",
         "chemistry must be one of LFP, NMC, not 'LiPo'"),
        ("SedanBody {cd 0.195", "SedanBody {cd 3.5", "cd must be ≤ 2, not 3.5"),
        ("Drive_RWD {drive 'RWD'}", "Drive_RWD {drive 'rear'}", "drive must be one of FWD, RWD, AWD, not 'rear'"),
        ("Motor_V6_220 {power_kw 220", "Motor_V6_220 {power_kw 'lots'", "power_kw must be a number (kW)"),
        ("usable_kwh 73.0", "usable_kwh 80.0", "usable_kwh 80.0 is more than capacity_kwh 73.6"),
    ],
)
def test_bad_feature_attribute_names_features_uvl_line(ws_dir: Path, old: str, new: str, message: str) -> None:
    line = edit(ws_dir / "features.uvl", old, new)
    error = load_error(ws_dir)
    assert (error.file, error.line) == (str(ws_dir / "features.uvl"), line)
    assert message in error.message


def test_attribute_no_tool_reads_is_kept(ws_dir: Path) -> None:
    edit(ws_dir / "features.uvl", "HV400 {voltage_v 400", "HV400 {paint_code 'X1', voltage_v 400")
    ws = load_workspace(ws_dir)
    assert ws.feature_model.features["HV400"].attributes["paint_code"] == "X1"


@pytest.mark.parametrize("yaml_file", YAML_FILES, ids=lambda f: f.id)
def test_documented_example_passes_the_schema(yaml_file: object) -> None:
    """The example on the reference page is built from the declarations and must satisfy them."""
    table = yaml_file.table  # type: ignore[attr-defined]
    example = example_of(table)
    assert example, "every file has an example"
    document = _line_dict(example)
    assert isinstance(document, LineDict)
    check_mapping(document, table, Path("example.yaml"))


def _line_dict(value: object) -> object:
    if isinstance(value, dict):
        out = LineDict({k: _line_dict(v) for k, v in value.items()})
        out.key_lines = {}
        return out
    if isinstance(value, list):
        from evplatform.workspace.sources import LineList

        items = LineList(_line_dict(v) for v in value)
        items.item_lines = []
        return items
    return value


def test_check_lists_trims_the_simulator_could_not_run(ws_dir: Path) -> None:
    from evplatform.workspace.check import check_workspace

    edit(ws_dir / "features.uvl", "SedanBody {cd 0.195, ", "SedanBody {")
    ws = load_workspace(ws_dir)
    gaps = [f for f in check_workspace(ws).findings if "cannot be simulated" in f.message]
    sedans = {t.key for t in ws.trims() if "SedanBody" in ws.configuration(t)}
    assert sedans and {f.message.split()[1] for f in gaps} == sedans
    assert all(f.file == "models/su7.yaml" and f.line and "no selected feature gives cd" in f.message for f in gaps)
    assert not [f for f in check_workspace(load_workspace(None)).findings if "cannot be simulated" in f.message]


def test_editor_schema_modeline_is_only_a_comment(ws_dir: Path) -> None:
    """The docs tell users to put a yaml-language-server modeline on line 1; loading must not mind."""
    path = ws_dir / "models" / "su7.yaml"
    path.write_text("# yaml-language-server: $schema=../../docs/schema/model.schema.json\n" + path.read_text())
    assert load_workspace(ws_dir).models["su7"].name == "SU7"
