"""The vehicle side of Uptane: full and partial verification, fetching, A/B slots, manifests.

``VehicleClient`` (primary.py) is the entry point; the verification rules are in
``trusted_set.py`` (the trust chain), ``signatures.py`` (one file on its own) and ``matching.py``
and do no I/O; errors are in ``errors.py``.
"""

from evplatform.ota.client.fetcher import DirectoryFetcher, Fetcher, HttpFetcher, InMemoryFetcher, ServiceFetcher
from evplatform.ota.client.preconditions import InstallPreconditions, VehicleState
from evplatform.ota.client.primary import Ecu, EcuUpdate, ServerLayout, UpdateOutcome, VehicleClient
from evplatform.ota.client.secondary import PartialVerifier, SecondaryEcu
from evplatform.ota.client.slots import BootResult, EcuSlots, SlotImage
from evplatform.ota.client.trusted_set import Limits, TrustedRepository

__all__ = [
    "BootResult",
    "DirectoryFetcher",
    "Ecu",
    "EcuSlots",
    "EcuUpdate",
    "Fetcher",
    "HttpFetcher",
    "InMemoryFetcher",
    "InstallPreconditions",
    "Limits",
    "PartialVerifier",
    "SecondaryEcu",
    "ServerLayout",
    "ServiceFetcher",
    "SlotImage",
    "TrustedRepository",
    "UpdateOutcome",
    "VehicleClient",
    "VehicleState",
]
