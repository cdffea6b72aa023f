"""Reading a release manifest against the workspace: the file a release manager writes.

The manifest is YAML (JSON is YAML too)::

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

It is checked against the workspace's software components (``software.yaml``) and feature
model, which is why it lives here and not in ``ota`` (the security core knows neither). Every
problem is a ``ManifestError`` naming manifest:line and what is wrong, raised before anything
is stored; the result is the ``ota.releases.Release`` value that ``ota.publishing`` publishes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from evplatform.errors import OtaError, ParseError, WorkspaceError
from evplatform.ota.releases import RELEASE_ID, ManifestError, Release, ReleaseImage, version_key
from evplatform.ota.storage import sha256_file
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import And, Expr, FeatureModel
from evplatform.workspace.model import SoftwareComponent
from evplatform.workspace.sources import LineDict, read_yaml_mapping

MANIFEST_KEYS = ("id", "version", "compatible", "notes", "images", "rxswin")
IMAGE_KEYS = ("component", "ecu", "hardware_id", "file", "sha256", "length")
_RXSWIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def load_release_manifest(
    path: Path,
    components: Mapping[str, SoftwareComponent],
    feature_model: FeatureModel | None = None,
    *,
    installed: Mapping[str, str] | None = None,
    confined: bool = False,
) -> Release:
    """Read and validate a release manifest against the platform's software components.

    ``installed`` maps a component to the newest version already released (default: the version
    in ``software.yaml``); the release must be newer for every component it carries, since
    vehicles refuse downgrades (Uptane anti-rollback, UN R156 §7.2.2.1.2). ``confined``: image
    files must lie in the manifest's folder (an uploaded manifest must not read server files).
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
    images = _images(spec, path, components, confined)
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
    if not RELEASE_ID.fullmatch(release_id):
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


def _images(spec: LineDict, path: Path, components: Mapping[str, SoftwareComponent],
            confined: bool) -> list[ReleaseImage]:
    items = spec.get("images")
    if not isinstance(items, list) or not items:
        raise ManifestError("images must be a non-empty list", path, spec.line_of("images"))
    out: list[ReleaseImage] = []
    ecus: dict[str, int] = {}
    for index, item in enumerate(items):
        line = items.line_of(index) if hasattr(items, "line_of") else spec.line_of("images")
        if not isinstance(item, LineDict):
            raise ManifestError("each image must be a mapping (component, hardware_id, file)", path, line)
        image = _image(item, path, components, confined)
        if image.ecu in ecus:
            raise ManifestError(f"two images for ECU {image.ecu!r} (the other at line {ecus[image.ecu]})", path, line)
        ecus[image.ecu] = line
        out.append(image)
    return out


def _image(item: LineDict, path: Path, components: Mapping[str, SoftwareComponent], confined: bool) -> ReleaseImage:  # noqa: C901 - one check per manifest field, each with its own file:line message
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
    if confined and file.parent != path.parent.resolve():
        raise ManifestError(f"image file {item['file']!r} must be a file name next to the manifest", path,
                            item.line_of("file"))
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
