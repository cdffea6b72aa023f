"""Response bodies of the JSON routes, one module per domain (pydantic at the edge, STYLE.md point 6).

Every JSON route declares one of these as its ``response_model`` so that ``/openapi.json`` carries
a schema per response and clients can be generated from it. The payloads themselves are built by
``evplatform.service`` from the domains; these models only describe them. Keys a domain adds
later pass through unchanged (``Out`` allows extra keys), so declaring a model never drops data;
``tests/api/test_response_models.py`` fails when a JSON route has no schema.
"""

from evplatform.api.responses.accounts import (
    AccountOut,
    AccountsOut,
    AuditOut,
    IssuedTokenOut,
    MeOut,
    RevokedOut,
    TokensOut,
)
from evplatform.api.responses.campaign_recovery import CampaignActionOut, CampaignVehiclesOut, HistoryOut
from evplatform.api.responses.campaigns import CampaignListOut, CampaignOut, StartedCampaignOut
from evplatform.api.responses.fleet import (
    CountsOut,
    FleetGroupDeletedOut,
    FleetGroupListOut,
    FleetGroupOut,
    FleetGroupVehiclesOut,
    KeyProvisionedOut,
    ManifestOut,
    ReportOut,
    TelemetryStoredOut,
    UpdateCheckOut,
    VehicleDetailOut,
    VehiclePageOut,
)
from evplatform.api.responses.insights import BusinessOut, RisksOut, ScenariosOut
from evplatform.api.responses.markets import (
    ComplianceOut,
    MarketViewOut,
    RegulationViewOut,
    RoadmapOut,
    SimulationOut,
)
from evplatform.api.responses.releases import (
    ApprovalOut,
    ReleaseDetailOut,
    ReleaseListOut,
    ReleaseOut,
    StabilityOut,
    StabilityReleaseOut,
)
from evplatform.api.responses.workspace import BomOut, FeaturesOut, KpiOut, ModelsOut, PlatformOut

__all__ = [
    "AccountOut",
    "AccountsOut",
    "ApprovalOut",
    "AuditOut",
    "BomOut",
    "BusinessOut",
    "CampaignActionOut",
    "CampaignListOut",
    "CampaignOut",
    "CampaignVehiclesOut",
    "ComplianceOut",
    "CountsOut",
    "FeaturesOut",
    "FleetGroupDeletedOut",
    "FleetGroupListOut",
    "FleetGroupOut",
    "FleetGroupVehiclesOut",
    "HistoryOut",
    "IssuedTokenOut",
    "KeyProvisionedOut",
    "KpiOut",
    "ManifestOut",
    "MarketViewOut",
    "MeOut",
    "ModelsOut",
    "PlatformOut",
    "RegulationViewOut",
    "ReleaseDetailOut",
    "ReleaseListOut",
    "ReleaseOut",
    "ReportOut",
    "RevokedOut",
    "RisksOut",
    "RoadmapOut",
    "ScenariosOut",
    "SimulationOut",
    "StabilityOut",
    "StabilityReleaseOut",
    "StartedCampaignOut",
    "TelemetryStoredOut",
    "TokensOut",
    "UpdateCheckOut",
    "VehicleDetailOut",
    "VehiclePageOut",
]
