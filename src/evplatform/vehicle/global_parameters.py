"""The one set of global parameters every simulated vehicle shares (no per-vehicle tuning).

Each value is a public figure or a round engineering default, named with its unit. The
fidelity benchmark (``benchmarks/fidelity.py``) measures the whole model with exactly these;
changing one is a design decision recorded in ``docs/adr/0005-vehicle-simulation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MotorClass:
    """A motor + inverter loss map in normalised coordinates, so one map fits every size.

    Loss = ``copper·τ²·P_rated + (iron·s² + switching·s)·√(P_rated·150 kW) + inverter·|P_shaft|``,
    with ``τ`` the torque fraction and ``s = ω/ω_max``: copper loss grows with current² (∝ torque²),
    iron loss with frequency², switching with speed, conduction with power.
    """

    copper: float
    iron: float
    switching: float
    inverter: float
    base_speed_fraction: float  # ω_base/ω_max: where constant torque turns to constant power


@dataclass(frozen=True)
class GlobalParameters:
    """Physical constants, test-procedure masses and component defaults."""

    gravity_mps2: float = 9.81
    air_density_kg_m3: float = 1.2  # UN GTR 15 Annex 4 reference conditions (20 °C, 100 kPa)
    rotating_mass_factor: float = 0.03  # UN GTR 15 Annex 4 §2.5.1: 3 % of the test mass
    # Added to the curb mass to get each procedure's test mass.
    test_mass_added_kg: dict[str, float] = field(
        default_factory=lambda: {
            "WLTP": 150.0,  # GTR 15: mass in running order (+75 kg driver) + 25 kg + 15 % of payload
            "CLTC": 100.0,  # GB/T 18386.1-2021 test mass: curb mass + 100 kg
            "EPA": 136.0,  # 40 CFR 86.1803: loaded vehicle weight = curb + 300 lb
            "NEDC": 100.0,  # UNECE R83/R101 reference mass: curb mass + 100 kg (no driver in curb)
        }
    )
    driver_kg: float = 75.0
    gear_efficiency: float = 0.97
    aux_power_w: float = 550.0  # 12 V loads, pumps and controllers during a dyno test (no HVAC)
    motor_classes: dict[str, MotorClass] = field(
        default_factory=lambda: {
            "pmsm_si": MotorClass(copper=0.030, iron=0.006, switching=0.004, inverter=0.045, base_speed_fraction=0.33),
            "pmsm_sic": MotorClass(copper=0.030, iron=0.006, switching=0.002, inverter=0.035, base_speed_fraction=0.33),
            "induction": MotorClass(
                copper=0.050, iron=0.010, switching=0.004, inverter=0.045, base_speed_fraction=0.35
            ),
        }
    )
    default_top_speed_kmh: float = 180.0  # maps ω to s when the vehicle states no top speed
    max_motor_speed_rpm: float = 20000.0  # sets the gear ratio from the top speed
    # Regenerative braking, decided with the brake-by-wire module (see brakes.py).
    regen_power_fraction: float = 0.7  # of the rated motor power
    regen_fade_speed_mps: float = 4.0  # regen fades to zero below this speed; friction stops the car
    regen_decel_limit_bbw_mps2: float = 3.5  # brake-by-wire blends regen up to this deceleration
    regen_decel_limit_hydraulic_mps2: float = 1.5  # conventional booster: regen only at light braking
    # Battery equivalent circuit: internal resistance as the loss fraction at a 1 C discharge.
    battery_loss_at_1c: dict[str, float] = field(default_factory=lambda: {"LFP": 0.030, "NMC": 0.022})
    cell_nominal_v: dict[str, float] = field(default_factory=lambda: {"LFP": 3.2, "NMC": 3.65})
    charge_c_rate_max: dict[str, float] = field(default_factory=lambda: {"LFP": 1.5, "NMC": 2.0})
    usable_fraction_of_gross: float = 0.94  # when only one capacity is known; the window is centred
    cycle_start_soc: float = 0.9
    # Charging: AC from the wall into the battery (onboard charger + battery charge losses).
    ac_charge_efficiency: float = 0.88
    dc_charge_efficiency: float = 0.96
    dc_current_limit_a: dict[int, float] = field(default_factory=lambda: {400: 500.0, 800: 500.0})
    default_dc_peak_kw: dict[int, float] = field(default_factory=lambda: {400: 150.0, 800: 270.0})
    # Launch: tyre-road friction for the driven axle(s) and the share of weight on them at launch.
    tyre_friction: float = 1.15
    driven_weight_share: dict[str, float] = field(default_factory=lambda: {"FWD": 0.55, "RWD": 0.58, "AWD": 1.0})
    launch_delay_s: float = 0.15  # torque build-up and rollout the published times include
    # Launch with load transfer (performance.py). Estimates for a 2020s EV saloon/SUV on a skateboard
    # platform, not measured: static front-axle share 0.50, CG 0.50 m (battery in the floor), wheelbase
    # 2.9 m. A vehicle's own cg_height_m / wheelbase_m replace the last two.
    front_weight_share: float = 0.50
    cg_height_m: float = 0.50
    wheelbase_m: float = 2.90
    # Torque–speed envelope: constant torque to the base speed (base_speed_fraction of ω_max, per motor
    # class), constant power above, nothing beyond ω_max. Without a stated torque: this many N·m per
    # kW of peak power (2020s single-speed EVs publish 1.6–2.0: e.g. 220 kW/400 N·m, 495 kW/838 N·m).
    # Without a stated gear ratio: ω_max·r over the declared top speed, else the estimate below
    # (12 at 20,000 rpm and r = 0.35 m puts ω_max at 220 km/h).
    torque_per_kw_nm: float = 1.8
    default_gear_ratio: float = 12.0
    motor_peak_efficiency: float = 0.93  # battery power → shaft at full load (motor + inverter)
    # Battery discharge limit: the equivalent circuit at its minimum terminal voltage,
    # P = V_min·(V_oc(SOC) − V_min)/R, with R rising in the cold (×e^{k·(25 − T)} below 25 °C).
    battery_min_voltage_fraction: float = 0.75  # of nominal: the cell cut-off under load (≈ 2.8 V NMC)
    battery_cold_resistance_per_c: float = 0.03  # Arrhenius-like: R doubles at ≈ 2 °C ambient
    launch_soc: float = 0.9
    # EPA label rules (40 CFR 600.116-12 / 600.210-12): derived 5-cycle by the 0.7 factor.
    epa_label_factor: float = 0.7
    epa_city_weight: float = 0.55
    # Trace tolerance: UN GTR 15 Annex 6 §2.6.8.3 allows ±2 km/h around the trace.
    trace_tolerance_kmh: float = 2.0


DEFAULTS = GlobalParameters()
