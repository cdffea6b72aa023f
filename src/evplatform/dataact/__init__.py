"""The EU Data Act (Regulation (EU) 2023/2854) owner portal and third-party data access.

* ``categories``: the data categories a vehicle's data falls in — the store policy's categories and
  their VSS signals, the telemetry kinds that carry them, the apps that collect them;
* ``portal``: what an owner sees and does (vehicle data, recent values, export, grant, revoke, log);
* ``oauth``: third parties (data recipients) get tokens by OAuth 2.0 client credentials (Authlib)
  with one scope per category, and every read is checked against a live consent;
* ``webhooks``: events within consent, HMAC-SHA256 signed, retried with back-off, dead-lettered;
* ``analytics``: the pseudonymised fleet view (keyed hash for the VIN, coarse location) and
  retention per category.
"""

from evplatform.errors import EvplatformError


class DataActError(EvplatformError):
    """A request of the owner portal or the data API that cannot be done (says why)."""

    http_status = 422


class ConsentRefused(DataActError):
    """A third party asked beyond its scopes or its owner's live consent (403, logged)."""

    http_status = 403


class InvalidClient(DataActError):
    """An access token that is unknown, expired or of a disabled recipient (401)."""

    http_status = 401
