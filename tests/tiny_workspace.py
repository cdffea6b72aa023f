"""A tiny hand-checkable workspace written to a temporary folder by tests."""

from __future__ import annotations

from pathlib import Path

FILES = {
    "platform.yaml": """
name: Tiny
version: "1"
currency: EUR
base_market: HOME
models: [alpha, beta]
markets: [HOME]
development:
  platform_cost: 1200000
  lifecycle_years: 2
comparison:
  standalone_development_share: 0.5
  scale_elasticity: 0.0
""",
    "features.uvl": """features
    Car {abstract}
        mandatory
            Body {abstract}
                alternative
                    Small {cost 100, mass_kg 900}
                    Big {cost 150, mass_kg 1100}
            Pack {capacity_kwh 50, mass_kg 300}
        optional
            Radio {cost 20}
constraints
    Big => Radio
""",
    "parts.csv": """part_no,name,module,unit_cost,mass_kg,supplier,qty,when
P-1,Shared motor,Drive,1000,50,Acme,1,Car
P-2,Small shell,Body,400,200,Acme,1,Small
P-3,Big shell,Body,600,260,Acme,1,Big
P-4,Wheel,Chassis,50,10,Acme,4,Car
P-5,Radio,Infotainment,20,1,Acme,1,Radio
P-6,Unused,Body,5,1,Acme,1,Small & Big
""",
    "models/alpha.yaml": """name: Alpha
development_cost: 200000
select: [Small]
trims:
  base:
    price: 3000
    volume_per_year: 1000
    select: []
""",
    "models/beta.yaml": """name: Beta
development_cost: 0
select: [Big, Radio]
trims:
  base:
    price: 4000
    volume_per_year: 500
    select: []
""",
    "markets/HOME.yaml": """name: Home
homologation_cycle: WLTC
models: [alpha, beta]
select: []
""",
    "regulations.csv": """id,title,markets,requires,applies_new_types,applies_all,source,status
R-1,Radio rule,HOME,Radio,2030-01-01,,made up,unverified
""",
    "software.yaml": """components:
  - id: fw
    name: Firmware
    ecu: main
    hardware_id: HW-1
    compatible: Car
    version: 1.0.0
""",
}


def write_tiny_workspace(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    return root


#: A one-trim platform with the features the hub, AEB, ALKS and the approval gate reason about,
#: named its own way; ``roles`` in platform.yaml says which is which.
VEHICLE_FILES = {
    "platform.yaml": """
name: Roles
version: "1"
currency: EUR
base_market: HOME
models: [car]
markets: [HOME, CITY]
roles:
  update_management: SumsBox
  brake_by_wire: OneBoxBrake
  brake_redundancy: null
  steer_by_wire: null
  steer_redundancy: null
  zone_controllers: null
  lidar: null
  acc: null
  aeb: [StopAssist, StopAssist_Cyclist]
  lka: null
  elks: null
  alks: null
  highway_assist: null
""",
    "features.uvl": """features
    Car {abstract}
        mandatory
            Body {cost 100, mass_kg 1900, cd 0.24, frontal_area_m2 2.3, crr 0.008}
            Pack {capacity_kwh 70, mass_kg 0}
            Motor {power_kw 220}
            OneBoxBrake {cost 10}
            StopAssist {cost 5}
            EPS {cost 5}
            SumsBox {cost 1}
        optional
            StopAssist_Cyclist {cost 5}
            Spare {cost 1}
""",
    "parts.csv": """part_no,name,module,unit_cost,mass_kg,supplier,qty,when
P-1,Motor,Drive,1000,50,Acme,1,Motor
""",
    "models/car.yaml": """name: Car
select: []
trims:
  base:
    price: 30000
    volume_per_year: 1000
    select: [StopAssist_Cyclist]
""",
    "markets/HOME.yaml": """name: Home
unece: true
homologation_cycle: WLTC
models: [car]
time_zone: Europe/Vienna
""",
    "markets/CITY.yaml": """name: City
parent: HOME
""",
    "regulations.csv": """id,title,markets,requires,applies_new_types,applies_all,source,status
UN-R156,Software update management,HOME,SumsBox,2022-07-01,2024-07-01,made up,confirmed
""",
    "software.yaml": """components:
  - id: fw
    name: Firmware
    ecu: main
    hardware_id: HW-1
    compatible: Car
    version: 1.0.0
""",
}


def write_vehicle_workspace(root: Path, renames: dict[str, str] | None = None) -> Path:
    """Write VEHICLE_FILES with each whole-word feature name in ``renames`` replaced in every file."""
    import re

    for name, text in VEHICLE_FILES.items():
        for old, new in (renames or {}).items():
            text = re.sub(rf"\b{re.escape(old)}\b", new, text)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    return root


def replace_first(path: Path, old: str, new: str) -> int:
    """Replace the first occurrence of ``old`` and return its (1-based) line number."""
    text = path.read_text()
    index = text.index(old)
    path.write_text(text[:index] + new + text[index + len(old):])
    return text[:index].count("\n") + 1


def edit_file(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of ``old`` and return its (1-based) line number."""
    count = path.read_text().count(old)
    assert count == 1, f"{old!r} occurs {count} times in {path}"
    return replace_first(path, old, new)
