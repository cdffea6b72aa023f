"""The workspace's files, key by key: what each key means, its type, unit, default and allowed values.

This is the one place a workspace key is declared. The readers refuse any key not named here
(with file:line and a "did you mean"), and the JSON Schemas in docs/schema/ and the reference
page docs/workspace.md are generated from it (``evplatform workspace schema --write docs``).
"""

from __future__ import annotations

from evplatform.workspace.roles import CATALOGUE
from evplatform.workspace.schema.spec import Column, CsvFile, Key, Table, YamlFile

CYCLES = ("WLTC", "CLTC", "EPA")
STATUSES = ("confirmed", "unverified")

#: Upper bounds that no real figure reaches in any currency, so a slip of the exponent (``1.0e308``)
#: is refused at its line instead of overflowing a KPI to ``inf`` far away.
MAX_COST = 1e15          # a development budget (1e15 is more than any carmaker's yearly revenue)
MAX_PRICE = 1e12         # the list price of one vehicle
MAX_VOLUME = 1e8         # vehicles a year (the whole world builds about 9e7)
MAX_LIFECYCLE_YEARS = 100

#: The functions platform.yaml ``roles:`` maps to the features that provide them (the role catalogue).
ROLE_IDS = tuple(role.id for role in CATALOGUE)

_DEVELOPMENT = Table(
    "development",
    "Development cost of the shared platform and the years that amortise it.",
    (
        Key("platform_cost", "number", "Development cost of the shared platform (architecture, e-drive "
            "family, battery system, software); spread over every vehicle built on the platform in its lifecycle.",
            default=0, unit="currency", minimum=0, maximum=MAX_COST, example=6.0e9),
        Key("lifecycle_years", "number", "Years of production that amortise development (platform and models).",
            default=1, unit="years", minimum=0, exclusive_minimum=True, maximum=MAX_LIFECYCLE_YEARS, example=6),
    ),
)

_COMPARISON = Table(
    "comparison",
    "The \"one product per model\" counterfactual that the platform's worth is measured against.",
    (
        Key("standalone_development_share", "number", "Share of the platform's development cost each model "
            "would spend developing its own architecture without the platform.",
            default=0.5, unit="share (0–1)", minimum=0, example=0.55),
        Key("scale_elasticity", "number", "Experience-curve exponent: without the platform a part's unit cost "
            "scales as volume^(−elasticity); the NPV analysis accepts 0–0.4.",
            default=0, minimum=0, example=0.08),
    ),
)

_ROLES = Table(
    "roles",
    "Which features provide the platform functions other domains ask about (update management for "
    "OTA, brake-by-wire for simulation, driver assistance for compliance). Each role maps to one feature "
    "name, a list of feature names (any of them provides it) or null (the platform has none).",
    tuple(Key(role.id, "feature-ref", f"The feature(s) that provide the {role.title}; read by: {role.used_by}.")
          for role in CATALOGUE),
    checked_by="evplatform.workspace.roles",
)

PLATFORM = YamlFile(
    "platform",
    "platform.yaml",
    Table(
        "platform.yaml",
        "The platform: its name, currency, base market, the models and markets it has, and the files "
        "that describe it.",
        (
            Key("name", "string", "The platform's name.", required=True, example="Modena"),
            Key("version", "string", "The workspace's version; quote it so YAML keeps it text.",
                default="", example="2026.11"),
            Key("currency", "string", "Currency of every price and cost in the workspace (ISO 4217 code).",
                required=True, example="CNY"),
            Key("description", "string", "One sentence on the platform.", default=""),
            Key("base_market", "string", "The market whose configuration a trim's KPIs (BOM, unit cost, "
                "margin) are computed in; one of `markets`.", required=True, example="CN"),
            Key("features", "file", "The feature model (UVL).", default="features.uvl"),
            Key("parts", "file", "The parts catalogue (150 % BOM).", default="parts.csv"),
            Key("regulations", "file", "The regulations.", default="regulations.csv"),
            Key("software", "file", "The software components.", default="software.yaml"),
            Key("on_demand", "file", "Paid software features (features on demand); a missing file means "
                "the platform sells none.", default="on-demand.yaml"),
            Key("models", "ids", "Model ids; each is described by models/<id>.yaml.", required=True,
                example=["su7", "yu7"]),
            Key("markets", "ids", "Market ids; each is described by markets/<id>.yaml.", required=True,
                example=["CN", "EU", "DE"]),
            Key("development", "mapping", _DEVELOPMENT.description, table=_DEVELOPMENT),
            Key("comparison", "mapping", _COMPARISON.description, table=_COMPARISON),
            Key("roles", "mapping", _ROLES.description, table=_ROLES),
        ),
    ),
)

#: A trim's published figures, for comparison with what the tools compute (shown by the API and
#: dashboard next to the simulated values; no tool fails on them).
TARGETS = Table(
    "targets",
    "The trim's published figures (type-approval range, acceleration, …), kept beside the computed "
    "ones for comparison. No check fails on them.",
    (
        Key("cltc_range_km", "number", "Range on the CLTC cycle (China).", unit="km", minimum=0),
        Key("wltc_range_km", "number", "Range on the WLTC cycle (WLTP procedure, EU).", unit="km", minimum=0),
        Key("epa_range_km", "number", "Range on the EPA label (US).", unit="km", minimum=0),
        Key("nedc_range_km", "number", "Range on the NEDC cycle.", unit="km", minimum=0),
        Key("accel_0_100_s", "number", "Time from 0 to 100 km/h.", unit="s", minimum=0),
        Key("top_speed_kmh", "number", "Top speed.", unit="km/h", minimum=0),
        Key("dc_10_80_min", "number", "DC fast-charging time from 10 % to 80 % state of charge.",
            unit="min", minimum=0),
        Key("curb_mass_kg", "number", "Curb mass (compare with the summed feature attribute `mass_kg`).",
            unit="kg", minimum=0),
    ),
)

TRIM = Table(
    "trim",
    "One trim of the model: its price, volume and the features it selects on top of the model's.",
    (
        Key("name", "string", "Display name.", default_text="the trim id", example="SU7 Pro RWD"),
        Key("price", "number", "Gross list price in the base market (the margin is price − unit cost).",
            required=True, unit="currency", minimum=0, maximum=MAX_PRICE, example=245900),
        Key("volume_per_year", "number", "Planned vehicles built per year.", required=True,
            unit="vehicles/year", minimum=0, exclusive_minimum=True, maximum=MAX_VOLUME, example=50000),
        Key("select", "features", "Features this trim selects (added to the model's `select`).", required=True,
            example=["Pack_NMC_94", "Drive_RWD"]),
        Key("deselect", "features", "Features this trim excludes (added to the model's `deselect`).",
            default=[]),
        Key("targets", "mapping", TARGETS.description, table=TARGETS),
    ),
)

MODEL = YamlFile(
    "model",
    "models/<id>.yaml",
    Table(
        "models/<id>.yaml",
        "A vehicle model built on the platform: the features every trim shares, and its trims.",
        (
            Key("name", "string", "Display name.", required=True, example="SU7"),
            Key("segment", "string", "Market segment.", default="", example="D-segment sports sedan"),
            Key("development_cost", "number", "Model-specific development (body, tuning, validation), spread "
                "over the model's vehicles in the platform's lifecycle.", default=0, unit="currency", minimum=0,
            maximum=MAX_COST),
            Key("select", "features", "Features every trim of the model selects.", default=[]),
            Key("deselect", "features", "Features no trim of the model may have.", default=[]),
            Key("trims", "map-of", "The trims, by trim id.", required=True, table=TRIM, example="pro"),
        ),
    ),
)

MARKET = YamlFile(
    "market",
    "markets/<id>.yaml",
    Table(
        "markets/<id>.yaml",
        "A market (a country or a region). A market with a `parent` inherits its values; `select` and "
        "`regulations` accumulate over the chain, the other keys are replaced when given.",
        (
            Key("name", "string", "Display name.", default_text="the market id", example="France"),
            Key("parent", "string", "The market id this one inherits from (a region such as EU).",
                example="EU"),
            Key("unece", "boolean", "Whether the market applies UNECE regulations (1958 Agreement); rows of "
                "regulations.csv for UNECE apply then.", default=False, default_text="the parent's, else false"),
            Key("homologation_cycle", "string", "The cycle range and consumption are homologated on.",
                allowed=CYCLES, default="WLTC", default_text="the parent's, else WLTC"),
            Key("launch_date", "date", "Planned or actual launch of the platform's models in the market.",
                default_text="the parent's"),
            Key("time_zone", "string", "IANA time-zone name of the market: fleet maintenance windows are "
                "in this local time (`check` warns when no market in the chain declares one).",
                example="Europe/Paris", default_text="the parent's, else UTC"),
            Key("fleet_share", "number", "Share of the simulated fleet registered in this market.",
                unit="share (0–1)", minimum=0, maximum=1, default_text="an equal share"),
            Key("models", "ids", "Model ids sold in the market.", default_text="the parent's, else none"),
            Key("select", "features", "Features every configuration sold in the market selects (inlet, "
                "drive side, mandated systems).", default=[]),
            Key("regulations", "ids", "Ids of regulations.csv that apply besides those naming the market.",
                default=[]),
        ),
    ),
)

COMPONENT = Table(
    "component",
    "One software component: the ECU it runs on and the configurations it is compatible with.",
    (
        Key("id", "string", "Component id, unique in the file.", required=True, example="hub-os"),
        Key("name", "string", "Display name.", default_text="the id"),
        Key("ecu", "string", "The ECU it runs on.", required=True, example="central-compute"),
        Key("hardware_id", "string", "The ECU's hardware id (matched by Uptane targets).", required=True,
            example="MD-HUB-A1"),
        Key("compatible", "expression", "The configurations it is compatible with.", required=True,
            example="AdasComputeHigh & LidarSuite"),
        Key("version", "string", "The version in production.", required=True, example="1.6.0"),
    ),
)

SOFTWARE = YamlFile(
    "software",
    "software.yaml",
    Table(
        "software.yaml",
        "The platform's software components.",
        (Key("components", "list-of", "The components.", required=True, table=COMPONENT),),
    ),
)

#: Billing of a paid feature: paid once, or a subscription billed every month until cancelled.
BILLINGS = ("one-off", "monthly")

OFFER = Table(
    "offer",
    "One paid software feature: its price, the hardware it needs and whether it alters a type-approved "
    "function.",
    (
        Key("id", "string", "Feature id, unique in the file (letters, digits, '-', '_').", required=True,
            example="track-mode"),
        Key("name", "string", "Display name.", default_text="the id"),
        Key("description", "string", "One sentence for the buyer.", default=""),
        Key("billing", "string", "Paid once, or a subscription billed monthly until cancelled.", required=True,
            allowed=BILLINGS, example="monthly"),
        Key("price", "number", "Price per purchase (one-off) or per month (monthly), gross.", required=True,
            unit="currency", minimum=0, maximum=MAX_PRICE, example=199),
        Key("requires", "expression", "The hardware the feature needs, over the trim's configuration: a car "
            "whose configuration does not satisfy it is refused the sale, with the reason.", required=True,
            example="LidarSuite & AdasComputeHigh"),
        Key("type_approval_relevant", "boolean", "Whether switching it on or off changes a type-approved "
            "function (UN R156 / GB 44496): the vehicle's RXSWIN is renewed and the update record says so.",
            required=True, example=True),
        Key("regulation", "string", "The regulation whose type approval it touches (shown in update records).",
            default=""),
        Key("estimated_take_up", "number", "ESTIMATE: share of eligible vehicles that buy it, for the simulated "
            "demo fleet only.", default=0, unit="share (0–1)", minimum=0, maximum=1),
        Key("estimated_monthly_churn", "number", "ESTIMATE: share of a monthly feature's subscribers that cancel "
            "each month, for the simulated demo fleet only.", default=0, unit="share (0–1)", minimum=0, maximum=1),
    ),
)

ON_DEMAND = YamlFile(
    "on-demand",
    "on-demand.yaml",
    Table(
        "on-demand.yaml",
        "Features on demand: paid software features sold per vehicle after delivery, the sales channels, and "
        "the software component whose ECU receives the signed activation configuration.",
        (
            Key("delivery", "string", "Id of the software component (software.yaml) whose ECU receives the "
                "activation configuration as an Uptane target.", required=True, example="hub-os"),
            Key("channels", "ids", "The sales channels an entitlement may come from.", required=True,
                example=["app", "web", "dealer"]),
            Key("features", "list-of", "The paid features.", required=True, table=OFFER),
        ),
    ),
)

PARTS = CsvFile(
    "parts",
    "parts.csv",
    "parts.csv",
    "The parts catalogue (150 % BOM): a part is in a configuration's BOM when its `when` expression holds. "
    "A part's cost and mass are what the BOM and KPIs add up; they are not the feature attributes "
    "`cost` and `mass_kg`, which are per-feature estimates for configuration and simulation.",
    (
        Column("part_no", "string", "Part number, unique in the file.", example="MD-BAT-0001"),
        Column("name", "string", "Part name.", empty="no name"),
        Column("module", "string", "The module it belongs to (groups the BOM and the reuse figures).",
               empty="no module"),
        Column("unit_cost", "number", "Cost of one part at planned volume.", unit="currency", minimum=0),
        Column("mass_kg", "number", "Mass of one part.", unit="kg", minimum=0),
        Column("supplier", "string", "Supplier.", empty="no supplier"),
        Column("qty", "number", "Parts per vehicle.", minimum=0),
        Column("when", "expression", "The configurations whose BOM has the part.", empty="every configuration",
               example="Pack_LFP_96 & !Market_EU"),
    ),
)

REGULATIONS = CsvFile(
    "regulations",
    "regulations.csv",
    "regulations.csv",
    "Regulations as dated data: each requires a feature expression of every configuration sold in its "
    "markets from its dates on.",
    (
        Column("id", "string", "Regulation id, unique in the file.", example="EU-GSR2-ISA"),
        Column("title", "string", "Title.", empty="no title"),
        Column("markets", "ids", "Space-separated market ids (a region covers the markets inheriting from it), "
               "or UNECE (every market with `unece: true`).", example="EU"),
        Column("requires", "expression", "What a configuration must satisfy.", example="ISA & DDAW"),
        Column("applies_new_types", "date", "From when new vehicle types must comply; `in force` for every date.",
               empty="does not apply to new types"),
        Column("applies_all", "date", "From when every new vehicle must comply; `in force` for every date.",
               empty="does not apply to all vehicles"),
        Column("source", "string", "Where the rule and its dates come from.", empty="no source"),
        Column("status", "string", "Whether the dates were checked against the official text; `check` warns "
               "on unverified rows.", allowed=STATUSES, empty="unverified"),
        Column("notes", "string", "Notes shown in compliance reports.", required=False, empty="no notes"),
    ),
)

#: The fleet CSV is no workspace file (it is read by ``evplatform fleet import``), but its columns are
#: part of the same reference; a test keeps this in step with ``evplatform.fleet.registry``.
FLEET = CsvFile(
    "fleet",
    "<any>.csv (evplatform fleet import)",
    "fleet CSV",
    "Vehicles to register in the fleet database; each row names a trim sold in a market of the workspace. "
    "Unknown columns are refused.",
    (
        Column("vin", "string", "Vehicle identification number (stored upper-case), unique.",
               example="LMDSU7PRO00000001"),
        Column("model", "string", "Model id of the workspace.", example="su7"),
        Column("trim", "string", "Trim id of the model.", example="pro"),
        Column("market", "string", "Market id where the vehicle is registered.", example="CN"),
        Column("timezone", "string", "IANA time-zone name of the vehicle.", required=False,
               empty="the market's time zone"),
        Column("consent_telemetry", "boolean", "Owner consents to telemetry: true/yes/1 or false/no/0.",
               required=False, empty="true"),
        Column("consent_updates", "boolean", "Owner consents to updates: true/yes/1 or false/no/0.",
               required=False, empty="true"),
    ),
    owner="fleet",
)

YAML_FILES = (PLATFORM, MODEL, MARKET, SOFTWARE, ON_DEMAND)
CSV_FILES = (PARTS, REGULATIONS, FLEET)
