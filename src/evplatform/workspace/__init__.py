"""Loading and validating a workspace folder ("platform as code") into domain objects."""

from evplatform.workspace.loader import demo_path, load_workspace
from evplatform.workspace.model import (
    Market,
    Part,
    Platform,
    Regulation,
    SoftwareComponent,
    Trim,
    VehicleModel,
    Workspace,
)

__all__ = [
    "Market",
    "Part",
    "Platform",
    "Regulation",
    "SoftwareComponent",
    "Trim",
    "VehicleModel",
    "Workspace",
    "demo_path",
    "load_workspace",
]
