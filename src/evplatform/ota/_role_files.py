"""A folder of TUF metadata files: ``N.root.json … root.json, N.targets.json, targets.json, …``.

Consistent snapshots (TUF 1.0.31 4.4.1) are on, so root, targets and snapshot are written both
as ``VERSION.ROLE.json`` and as ``ROLE.json``; the timestamp only as ``timestamp.json``. Files are
written in dependency order (targets, snapshot, timestamp) and each atomically, so a reader that
starts from the timestamp always finds what it points to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tuf.api.metadata import Metadata, Root
from tuf.api.serialization.json import JSONSerializer

from evplatform.errors import OtaError
from evplatform.ota.metadata_common import read_metadata, write_atomic

_SERIALIZER = JSONSerializer(compact=True)
_VERSIONED = re.compile(r"^(\d+)\.root\.json\Z")
_ROLE_NAME = re.compile(r"^(root|targets|snapshot|timestamp)\Z")
_DELEGATED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")  # client/delegations.ROLE_NAME


def serialize(metadata: Metadata[Any]) -> bytes:
    """Compact, key-sorted JSON of a whole metadata document (what is written and served)."""
    return metadata.to_bytes(_SERIALIZER)


class RoleFiles:
    """Read and write one repository's metadata folder."""

    def __init__(self, folder: Path, *, delegated: bool = False) -> None:
        self.folder = Path(folder)
        self.delegated = delegated  # delegated targets roles too (the Image repository's folder)

    def path(self, role: str, version: int | None = None) -> Path:
        if not (_ROLE_NAME.match(role) or (self.delegated and _DELEGATED_NAME.match(role))):
            raise OtaError(f"unknown metadata role {role!r} (root, targets, snapshot, timestamp"
                           f"{' or a delegated role' if self.delegated else ''})")
        if version is not None and (role == "timestamp" or version < 1):
            raise OtaError(f"no versioned file for {role} version {version}")
        return self.folder / (f"{version}.{role}.json" if version is not None else f"{role}.json")

    def write(self, role: str, data: bytes, version: int, *, durable: bool = True) -> None:
        """Write ``data`` as the role's current file (and its versioned copy except for timestamp).

        ``durable=False``: no fsync, for a bulk writer that syncs once at its end.
        """
        if role != "timestamp":
            write_atomic(self.path(role, version), data, durable=durable)
        write_atomic(self.path(role), data, durable=durable)

    def read_bytes(self, role: str, version: int | None = None) -> bytes:
        path = self.path(role, version)
        try:
            return path.read_bytes()
        except FileNotFoundError as error:
            what = f"version {version} of {role}" if version is not None else role
            raise OtaError(f"{path}: no {what} metadata") from error

    def read(self, role: str, version: int | None = None) -> Metadata[Any]:
        kind = role if _ROLE_NAME.match(role) else "targets"  # a delegated role's file is targets metadata
        return read_metadata(self.path(role, version), kind)

    def root_versions(self) -> list[int]:
        """Versions of every ``N.root.json`` on disk, ascending."""
        if not self.folder.is_dir():
            return []
        found = (_VERSIONED.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def root_chain(self) -> list[Metadata[Root]]:
        return [self.read("root", v) for v in self.root_versions()]

    def exists(self) -> bool:
        return self.path("root").exists()
