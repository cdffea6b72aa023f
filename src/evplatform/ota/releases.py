"""Releases: what a release manager publishes, as a value, and the catalogue of published ones.

A release is one version of one or more software components, one image per ECU, the
compatibility predicate saying which configurations may install it, the release notes shown to
the driver and the RXSWIN (UN R156 §2.3, RX Software Identification Number) each vehicle type
carries after installing it. ``ReleaseCatalog`` keeps published releases as JSON so the next
release knows which image its delta starts from and which Uptane release counter comes next.

Reading a release manifest checks it against the workspace (software components, feature
model), so that lives above this package, in ``evplatform.fleet.release_manifest``; this module
only defines the ``ManifestError`` it raises (an ``OtaError`` located at manifest:line) and the
values it builds, which keeps ``ota`` free of ``workspace`` and ``variability``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from evplatform.errors import OtaError, SourceError

#: What a release id may be: it names a catalogue file, so no path separators.
RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


class ManifestError(SourceError, OtaError):
    """A release manifest that cannot be published, located at file:line."""


class Compatibility(Protocol):
    """Which vehicle configurations may install a release (a feature expression, structurally)."""

    def evaluate(self, selected: AbstractSet[str], /) -> bool: ...


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Numeric order of dotted versions (``1.10.0`` > ``1.9.2``), as the fleet orders them."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.replace("-", ".").split("."))


@dataclass(frozen=True, slots=True)
class ReleaseImage:
    """The image one ECU installs: its component, hardware, file and content hash."""

    component: str
    ecu: str
    hardware_id: str
    path: Path
    sha256: str
    length: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "ecu": self.ecu,
            "hardware_id": self.hardware_id,
            "file": self.path.name,
            "sha256": self.sha256,
            "length": self.length,
        }


@dataclass(frozen=True, slots=True)
class Release:
    id: str
    version: str
    images: tuple[ReleaseImage, ...]
    compatible: Compatibility
    compatible_text: str
    notes: str
    rxswin: Mapping[str, str] = field(default_factory=dict)  # vehicle type (model id) -> RXSWIN after install
    source: Path | None = None

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(image.component for image in self.images)

    def is_compatible(self, configuration: Iterable[str]) -> bool:
        """Whether a vehicle configuration may install this release (its feature expression holds)."""
        return self.compatible.evaluate(set(configuration))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "compatible": self.compatible_text,
            "notes": self.notes,
            "images": [image.to_dict() for image in self.images],
            "rxswin": dict(sorted(self.rxswin.items())),
        }


# --- published releases -------------------------------------------------------------------------


class ReleaseCatalog:
    """Published releases as ``<root>/releases/<id>.json``: what the next delta starts from.

    Each entry is the release's ``to_dict()`` plus ``deltas`` (per ECU, the delta metadata from
    the previous release's image). Files are written atomically; an id is published once.
    """

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / "releases"

    def path(self, release_id: str) -> Path:
        if not RELEASE_ID.fullmatch(release_id):
            raise OtaError(f"invalid release id {release_id!r}")
        return self.folder / f"{release_id}.json"

    def exists(self, release_id: str) -> bool:
        return self.path(release_id).is_file()

    def entries(self) -> list[dict[str, Any]]:
        """Every published release, oldest version first."""
        if not self.folder.is_dir():
            return []
        out = [self._read(p) for p in sorted(self.folder.glob("*.json"))]
        return sorted(out, key=lambda e: (version_key(str(e["version"])), str(e["id"])))

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise OtaError(f"{path}: unreadable release catalogue entry: {error}") from error
        if not isinstance(data, dict) or not {"id", "version", "images"} <= set(data):
            raise OtaError(f"{path}: release catalogue entry lacks id, version or images")
        return data

    def latest_versions(self) -> dict[str, str]:
        """Component -> newest published version."""
        out: dict[str, str] = {}
        for entry in self.entries():
            for image in entry["images"]:
                out[str(image["component"])] = str(entry["version"])
        return out

    def previous_image(self, component: str, version: str) -> dict[str, Any] | None:
        """The image of the newest published release of ``component`` older than ``version``."""
        found: dict[str, Any] | None = None
        for entry in self.entries():
            if version_key(str(entry["version"])) >= version_key(version):
                continue
            for image in entry["images"]:
                if image["component"] == component:
                    found = {**image, "release": entry["id"], "version": entry["version"]}
        return found

    def save(self, release: Release, deltas: Mapping[str, Mapping[str, Any]]) -> Path:
        """Publish an entry; OtaError if the id is taken (a release never changes once published)."""
        target = self.path(release.id)
        if target.exists():
            raise OtaError(f"release {release.id} is already published ({target})")
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = release.to_dict() | {"deltas": {ecu: dict(d) for ecu, d in sorted(deltas.items())}}
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out, indent=2, sort_keys=False)
                out.write("\n")
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return target
