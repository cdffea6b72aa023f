"""Releases: what a release manager publishes, read from a manifest file and validated.

A release is one version of one or more software components (``software.yaml``), one image per
ECU, the feature expression saying which configurations may install it, the release notes shown
to the driver and the RXSWIN (UN R156 §2.3, RX Software Identification Number) each vehicle type
carries after installing it. The manifest is YAML (JSON is YAML too)::

    id: hub-os-1.7.0            # optional, default <first component>-<version>
    version: 1.7.0
    compatible: CentralCompute  # optional, default: every image's component expression, and-ed
    notes: |
      Faster boot; fixes the parking-brake chime.
    images:
      - component: hub-os
        hardware_id: MD-HUB-A1  # must be the component's (UN R156 §7.2.2.1.3: compatibility)
        file: hub-os-1.7.0.img  # relative to the manifest
        sha256: 3f…             # optional: checked when given
    rxswin:
      su7: SU7-R156-0007

Every problem is a ``ManifestError`` naming manifest:line and what is wrong, raised before
anything is stored. ``ReleaseCatalog`` keeps published releases as JSON so the next release
knows which image its delta starts from.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evplatform.errors import OtaError, ParseError, SourceError, WorkspaceError
from evplatform.ota.storage import sha256_file
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import And, Expr, FeatureModel
from evplatform.workspace.model import SoftwareComponent
from evplatform.workspace.sources import LineDict, read_yaml_mapping

MANIFEST_KEYS = ("id", "version", "compatible", "notes", "images", "rxswin")
IMAGE_KEYS = ("component", "ecu", "hardware_id", "file", "sha256", "length")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_RXSWIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class ManifestError(SourceError, OtaError):
    """A release manifest that cannot be published, located at file:line."""


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
    compatible: Expr
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


def load_release_manifest(
    path: Path,
    components: Mapping[str, SoftwareComponent],
    feature_model: FeatureModel | None = None,
    *,
    installed: Mapping[str, str] | None = None,
) -> Release:
    """Read and validate a release manifest against the platform's software components.

    ``installed`` maps a component to the newest version already released (default: the version
    in ``software.yaml``); the release must be newer for every component it carries, since
    vehicles refuse downgrades (Uptane anti-rollback, UN R156 §7.2.2.1.2).
    """
    path = Path(path)
    try:
        spec = read_yaml_mapping(path, "release manifest")
    except WorkspaceError as error:
        raise ManifestError(error.message, error.file, error.line, error.column) from error
    for key in spec:
        if key not in MANIFEST_KEYS:
            raise ManifestError(f"unknown key {key!r} (known: {', '.join(MANIFEST_KEYS)})", path, spec.line_of(key))
    version = _text(spec, "version", path)
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+-]*", version):
        raise ManifestError(f"version {version!r} is not a dotted version (e.g. 1.7.0)", path, spec.line_of("version"))
    images = _images(spec, path, components)
    current = {c.id: c.version for c in components.values()} | dict(installed or {})
    for image in images:
        before = current.get(image.component)
        if before is not None and version_key(version) <= version_key(before):
            raise ManifestError(
                f"version {version} of {image.component} is not newer than {before}, already released "
                "(vehicles refuse downgrades)",
                path,
                spec.line_of("version"),
            )
    release_id = str(spec["id"]) if "id" in spec else f"{images[0].component}-{version}"
    if not _ID.fullmatch(release_id):
        raise ManifestError(f"release id {release_id!r}: letters, digits and ._+- only", path, spec.line_of("id"))
    compatible, text = _compatible(spec, path, images, components, feature_model)
    notes = _text(spec, "notes", path)
    return Release(release_id, version, tuple(images), compatible, text, notes, _rxswin(spec, path), path)


def _text(spec: LineDict, key: str, path: Path) -> str:
    if key not in spec:
        raise ManifestError(f"missing required key {key!r}", path, spec.line)
    value = spec[key]
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        raise ManifestError(f"{key} must be a non-empty text", path, spec.line_of(key))
    return str(value).strip()


def _images(spec: LineDict, path: Path, components: Mapping[str, SoftwareComponent]) -> list[ReleaseImage]:
    items = spec.get("images")
    if not isinstance(items, list) or not items:
        raise ManifestError("images must be a non-empty list", path, spec.line_of("images"))
    out: list[ReleaseImage] = []
    ecus: dict[str, int] = {}
    for index, item in enumerate(items):
        line = items.line_of(index) if hasattr(items, "line_of") else spec.line_of("images")
        if not isinstance(item, LineDict):
            raise ManifestError("each image must be a mapping (component, hardware_id, file)", path, line)
        image = _image(item, path, components)
        if image.ecu in ecus:
            raise ManifestError(f"two images for ECU {image.ecu!r} (the other at line {ecus[image.ecu]})", path, line)
        ecus[image.ecu] = line
        out.append(image)
    return out


def _image(item: LineDict, path: Path, components: Mapping[str, SoftwareComponent]) -> ReleaseImage:
    for key in item:
        if key not in IMAGE_KEYS:
            raise ManifestError(f"image: unknown key {key!r} (known: {', '.join(IMAGE_KEYS)})", path, item.line_of(key))
    for key in ("component", "hardware_id", "file"):
        if key not in item or not str(item[key]).strip():
            raise ManifestError(f"image: missing required key {key!r}", path, item.line)
    name = str(item["component"])
    component = components.get(name)
    if component is None:
        raise ManifestError(
            f"image: unknown software component {name!r} (known: {', '.join(sorted(components))})",
            path, item.line_of("component"),
        )
    hardware_id = str(item["hardware_id"])
    if hardware_id != component.hardware_id:
        raise ManifestError(
            f"image: hardware id {hardware_id!r} is not the one of component {name} on ECU {component.ecu} "
            f"({component.hardware_id})",
            path, item.line_of("hardware_id"),
        )
    if "ecu" in item and str(item["ecu"]) != component.ecu:
        raise ManifestError(
            f"image: component {name} runs on ECU {component.ecu!r}, not {item['ecu']!r}", path, item.line_of("ecu")
        )
    file = (path.parent / str(item["file"])).resolve()
    if not file.is_file():
        raise ManifestError(f"image file {item['file']!r} not found (looked in {path.parent})", path,
                            item.line_of("file"))
    try:
        digest, length = sha256_file(file)
    except OtaError as error:
        raise ManifestError(str(error), path, item.line_of("file")) from error
    if "sha256" in item:
        given = str(item["sha256"]).lower()
        if not _HEX64.fullmatch(given):
            raise ManifestError("image: sha256 must be 64 hex digits", path, item.line_of("sha256"))
        if given != digest:
            raise ManifestError(
                f"image {item['file']}: file hashes to {digest}, the manifest says {given} (corrupted or wrong file)",
                path, item.line_of("sha256"),
            )
    if "length" in item and str(item["length"]) != str(length):
        raise ManifestError(
            f"image {item['file']}: file is {length} bytes, the manifest says {item['length']} (truncated?)",
            path, item.line_of("length"),
        )
    return ReleaseImage(name, component.ecu, hardware_id, file, digest, length)


def _compatible(
    spec: LineDict,
    path: Path,
    images: list[ReleaseImage],
    components: Mapping[str, SoftwareComponent],
    feature_model: FeatureModel | None,
) -> tuple[Expr, str]:
    """The release's expression; a release never reaches a configuration its components exclude."""
    parts = [components[i.component] for i in images]
    if "compatible" not in spec:
        texts = [f"({c.compatible_text})" for c in parts]
        expr = parts[0].compatible if len(parts) == 1 else And(tuple(c.compatible for c in parts))
        return expr, parts[0].compatible_text if len(parts) == 1 else " & ".join(texts)
    line = spec.line_of("compatible")
    text = _text(spec, "compatible", path)
    try:
        expr = parse_expression(text, source=str(path), line=line)
    except ParseError as error:
        raise ManifestError(f"compatible: {error.message}", path, line, error.column) from error
    if feature_model is not None:
        unknown = sorted(v for v in expr.variables() if feature_model.resolve(v) is None)
        if unknown:
            raise ManifestError(f"compatible: unknown feature(s) {', '.join(unknown)}", path, line)
    return expr, text


def _rxswin(spec: LineDict, path: Path) -> dict[str, str]:
    if "rxswin" not in spec:
        return {}
    value = spec["rxswin"]
    if not isinstance(value, dict):
        raise ManifestError("rxswin must map vehicle types to RXSWIN values", path, spec.line_of("rxswin"))
    out: dict[str, str] = {}
    for vehicle_type, rxswin in value.items():
        line = value.line_of(vehicle_type) if isinstance(value, LineDict) else spec.line_of("rxswin")
        if not isinstance(rxswin, str) or not _RXSWIN.fullmatch(rxswin):
            raise ManifestError(
                f"rxswin of {vehicle_type}: {rxswin!r} is not an identifier (letters, digits, ._/-; ≤ 64)", path, line
            )
        out[str(vehicle_type)] = rxswin
    return out


# --- published releases -------------------------------------------------------------------------


class ReleaseCatalog:
    """Published releases as ``<root>/releases/<id>.json``: what the next delta starts from.

    Each entry is the release's ``to_dict()`` plus ``deltas`` (per ECU, the delta metadata from
    the previous release's image). Files are written atomically; an id is published once.
    """

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / "releases"

    def path(self, release_id: str) -> Path:
        if not _ID.fullmatch(release_id):
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
