"""The VSS signals the hub carries: path → kind, datatype, unit.

Names and types are COVESA Vehicle Signal Specification (VSS, MPL-2.0) paths, written here from
the public specification; the tests check each one against the full catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalSpec:
    """A signal's VSS kind (sensor/actuator/attribute), datatype and unit."""

    kind: str
    datatype: str
    unit: str | None = None


_S = SignalSpec
SPEED = "Vehicle.Speed"
ACCEL_LONG = "Vehicle.Acceleration.Longitudinal"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
BATTERY_TEMP = "Vehicle.Powertrain.TractionBattery.Temperature.Average"
BATTERY_POWER = "Vehicle.Powertrain.TractionBattery.CurrentPower"
IS_CHARGING = "Vehicle.Powertrain.TractionBattery.Charging.IsCharging"
MOTOR_POWER = "Vehicle.Powertrain.ElectricMotor.Rear.Power"
MOTOR_TORQUE = "Vehicle.Powertrain.ElectricMotor.Rear.Torque"
MOTOR_MAX_POWER = "Vehicle.Powertrain.ElectricMotor.Rear.MaxPower"
MOTOR_TEMP = "Vehicle.Powertrain.ElectricMotor.Rear.Temperature"
STEERING_ANGLE = "Vehicle.Chassis.SteeringWheel.Angle"
ACCEL_PEDAL = "Vehicle.Chassis.Accelerator.PedalPosition"
BRAKE_PEDAL = "Vehicle.Chassis.Brake.PedalPosition"
BRAKE_FORCE = "Vehicle.MotionManagement.Brake.VehicleForceMaximum"
BRAKE_FORCE_ELECTRIC = "Vehicle.MotionManagement.Brake.VehicleForceElectric"
STEERING_TARGET = "Vehicle.MotionManagement.Steering.SteeringWheel.AngleTarget"
CRUISE_ACTIVE = "Vehicle.ADAS.CruiseControl.IsActive"
CRUISE_SPEED = "Vehicle.ADAS.CruiseControl.SpeedSet"
CRUISE_ADAPTIVE = "Vehicle.ADAS.CruiseControl.IsAdaptive"
CRUISE_ERROR = "Vehicle.ADAS.CruiseControl.IsError"
EBA_ENGAGED = "Vehicle.ADAS.EBA.IsEngaged"
EBA_ERROR = "Vehicle.ADAS.EBA.IsError"
FRONT_DISTANCE = "Vehicle.ADAS.ObstacleDetection.Front.Center.Distance"
FRONT_SENSOR_ERROR = "Vehicle.ADAS.ObstacleDetection.Front.Center.IsError"
AUTONOMY_LEVEL = "Vehicle.ADAS.ActiveAutonomyLevel"
LOW_VOLTAGE_STATE = "Vehicle.LowVoltageSystemState"
IS_MOVING = "Vehicle.IsMoving"
TRAVELED_DISTANCE = "Vehicle.TraveledDistance"
# Signals third-party apps read or actuate (issue 19): position, range, cabin climate, body.
ACCEL_LAT = "Vehicle.Acceleration.Lateral"
LATITUDE = "Vehicle.CurrentLocation.Latitude"
LONGITUDE = "Vehicle.CurrentLocation.Longitude"
RANGE = "Vehicle.Powertrain.Range"
CHARGE_TIME_TO_COMPLETE = "Vehicle.Powertrain.TractionBattery.Charging.TimeToComplete"
CABIN_TEMP = "Vehicle.Cabin.HVAC.AmbientAirTemperature"
CABIN_AMBIENT_TEMP = CABIN_TEMP
HVAC_AC_ACTIVE = "Vehicle.Cabin.HVAC.IsAirConditioningActive"
HVAC_DEFROST_FRONT = "Vehicle.Cabin.HVAC.IsFrontDefrosterActive"
HVAC_DRIVER_TEMP = "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"
HVAC_PASSENGER_TEMP = "Vehicle.Cabin.HVAC.Station.Row1.Passenger.Temperature"
HVAC_DRIVER_FAN = "Vehicle.Cabin.HVAC.Station.Row1.Driver.FanSpeed"
DRIVER_DOOR_LOCKED = "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
HORN = "Vehicle.Body.Horn.IsActive"

SIGNALS: dict[str, SignalSpec] = {
    SPEED: _S("sensor", "float", "km/h"),
    ACCEL_LONG: _S("sensor", "float", "m/s^2"),
    SOC: _S("sensor", "float", "percent"),
    BATTERY_TEMP: _S("sensor", "float", "Celsius"),
    MOTOR_TEMP: _S("sensor", "float", "Celsius"),
    BATTERY_POWER: _S("sensor", "float", "W"),
    IS_CHARGING: _S("sensor", "boolean"),
    MOTOR_POWER: _S("sensor", "int16", "kW"),
    MOTOR_TORQUE: _S("sensor", "int16", "Nm"),
    MOTOR_MAX_POWER: _S("attribute", "uint16", "kW"),
    STEERING_ANGLE: _S("sensor", "int16", "degrees"),
    ACCEL_PEDAL: _S("sensor", "uint8", "percent"),
    BRAKE_PEDAL: _S("sensor", "uint8", "percent"),
    BRAKE_FORCE: _S("actuator", "int16", "N"),
    BRAKE_FORCE_ELECTRIC: _S("actuator", "int16", "N"),
    STEERING_TARGET: _S("actuator", "int16", "degrees"),
    CRUISE_ACTIVE: _S("actuator", "boolean"),
    CRUISE_SPEED: _S("actuator", "float", "km/h"),
    CRUISE_ADAPTIVE: _S("actuator", "boolean"),
    CRUISE_ERROR: _S("sensor", "boolean"),
    EBA_ENGAGED: _S("sensor", "boolean"),
    EBA_ERROR: _S("sensor", "boolean"),
    FRONT_DISTANCE: _S("sensor", "float", "m"),
    FRONT_SENSOR_ERROR: _S("sensor", "boolean"),
    AUTONOMY_LEVEL: _S("sensor", "string"),
    LOW_VOLTAGE_STATE: _S("sensor", "string"),
    IS_MOVING: _S("sensor", "boolean"),
    TRAVELED_DISTANCE: _S("sensor", "uint32", "m"),
    ACCEL_LAT: _S("sensor", "float", "m/s^2"),
    LATITUDE: _S("sensor", "double", "degrees"),
    LONGITUDE: _S("sensor", "double", "degrees"),
    RANGE: _S("sensor", "uint32", "m"),
    CHARGE_TIME_TO_COMPLETE: _S("sensor", "uint32", "s"),
    CABIN_TEMP: _S("sensor", "float", "Celsius"),
    HVAC_AC_ACTIVE: _S("actuator", "boolean"),
    HVAC_DEFROST_FRONT: _S("actuator", "boolean"),
    HVAC_DRIVER_TEMP: _S("actuator", "float", "Celsius"),
    HVAC_PASSENGER_TEMP: _S("actuator", "float", "Celsius"),
    HVAC_DRIVER_FAN: _S("actuator", "uint8", "percent"),
    DRIVER_DOOR_LOCKED: _S("actuator", "boolean"),
    LOW_BEAM: _S("actuator", "boolean"),
    HORN: _S("actuator", "boolean"),
}

#: Actuators that move the car (steering, braking, propulsion, driver assistance that commands them):
#: no third-party app may actuate anything under these branches, whatever its token grants.
MOTION_CONTROL_BRANCHES: tuple[str, ...] = (
    "Vehicle.MotionManagement", "Vehicle.Chassis", "Vehicle.Powertrain", "Vehicle.ADAS",
)


def is_motion_control(path: str) -> bool:
    """True for a signal under a steering, braking, propulsion or driver-assistance branch."""
    return any(path == b or path.startswith(b + ".") for b in MOTION_CONTROL_BRANCHES)
