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
