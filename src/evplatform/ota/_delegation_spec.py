"""What a delegation of the Image repository is made of, and the signing of a delegated role's file.

Kept apart from ``image_repository.py`` (which writes the files) so the format stays in one
short place: see ``ota/client/delegations.py`` for the wire format the vehicle resolves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from securesystemslib.signer import Key, Signer
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import DelegatedRole, Delegations, Metadata, Targets

from evplatform.errors import OtaError
from evplatform.ota.client.delegations import check_role_name, multi_role


@dataclass(frozen=True, slots=True)
class DelegationSpec:
    """A delegated targets role to create (Uptane 5.2.3.2): who signs, for which paths and hardware.

    ``paths`` empty: the role only speaks as a member of a multi-role delegation. ``members`` and
    ``agree`` make this a multi-role delegation (no keys of its own): at least ``agree`` of the
    named, already delegated roles must sign the same image (TAP 3).
    """

    name: str
    keys: Sequence[Key] = ()
    threshold: int = 1
    paths: Sequence[str] = ()
    hardware_ids: Sequence[str] | None = None
    terminating: bool = False
    members: Sequence[str] = ()
    agree: int = 0

    def __post_init__(self) -> None:
        check_role_name(self.name)
        if any(not isinstance(p, str) or not p or p.startswith("/") for p in self.paths):
            raise OtaError(f"delegation {self.name}: paths must be non-empty relative patterns")
        if self.hardware_ids is not None and (not self.hardware_ids or not all(self.hardware_ids)):
            raise OtaError(f"delegation {self.name}: hardware ids, when given, must be non-empty strings")
        if self.members:
            if self.keys or not 1 <= self.agree <= len(self.members) or len(set(self.members)) != len(self.members):
                raise OtaError(f"delegation {self.name}: a multi-role delegation has no keys of its own and needs "
                               f"1 ≤ agree ≤ {len(self.members)} distinct member roles")
            if not self.paths:
                raise OtaError(f"delegation {self.name}: a multi-role delegation needs paths")
        elif not 1 <= self.threshold <= len({k.keyid for k in self.keys}):
            raise OtaError(f"delegation {self.name}: threshold {self.threshold} needs as many distinct keys")

    def to_role(self) -> DelegatedRole:
        custom: dict[str, Any] = {}
        if self.hardware_ids is not None:
            custom["hardware_ids"] = sorted(set(self.hardware_ids))
        if self.members:
            custom["multi_role"] = {"roles": list(self.members), "threshold": self.agree}
        return DelegatedRole(self.name, [k.keyid for k in self.keys], self.threshold if not self.members else 1,
                             self.terminating, paths=list(self.paths),
                             unrecognized_fields={"custom": custom} if custom else None)


def multi_role_names(role: DelegatedRole) -> tuple[str, ...]:
    """The member roles of a multi-role delegation (none for an ordinary one)."""
    spec = multi_role(role)
    return spec.roles if spec is not None else ()


def sign_delegated(document: Metadata[Targets], signers: Sequence[Signer], role: DelegatedRole,
                    keys: Mapping[str, Key]) -> None:
    """Sign a delegated role's file and check a threshold of the delegation's keys did."""
    for signer in signers:
        document.sign(signer, append=True)
    delegator = Targets(delegations=Delegations(dict(keys), roles={role.name: role}))
    try:
        delegator.verify_delegate(role.name, document.signed_bytes, document.signatures)
    except UnsignedMetadataError as error:
        raise OtaError(f"role {role.name} metadata is not signed by a threshold of its keys: {error}") from error
