"""The base of every response model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    """A response body: the keys clients rely on are declared; keys added later pass through.

    ``extra="allow"`` is deliberate: the JSON contract lets a domain add keys (never rename them),
    and a response model must not silently drop what the domain returned.
    """

    model_config = ConfigDict(extra="allow")
