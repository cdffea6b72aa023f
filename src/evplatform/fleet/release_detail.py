"""One release in detail: its images and deltas against what the fleet runs, RXSWIN change, stability.

Images, hashes, sizes and deltas come from the OTA server's release catalogue
(``ota.releases.ReleaseCatalog``, ``<ota root>/releases/<id>.json``) when the server has one and the
release was published there; the fleet database alone knows only the component and version.

Deltas: publishing builds one delta per image, from the previous published release of the same
component (``ota.publishing``), and the catalogue keeps its metadata. For each version the fleet
runs, the size shown is that stored delta's when it starts from that version; other versions get
the full image (no delta is computed here: building one costs seconds of CPU per image, too much
for a page view, and a delta nobody stored cannot be delivered anyway).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from evplatform.errors import OtaError
from evplatform.fleet.stability import release_stability, stability_over_time, without_reports
from evplatform.ota.releases import ReleaseCatalog, version_key
from evplatform.store import Store
from evplatform.store import details as ddb
from evplatform.store.releases import ReleaseRecord


def catalogue_entry(root: Path | None, release_id: str) -> dict[str, Any] | None:
    """The catalogue entry a fleet release comes from (its id, or ``<id>-<component>`` for multi-image releases)."""
    if root is None:
        return None
    try:
        entries = ReleaseCatalog(root).entries()
    except OtaError:
        return None
    for entry in entries:
        images = entry.get("images") or []
        if entry["id"] == release_id or any(f"{entry['id']}-{i.get('component')}" == release_id for i in images):
            return entry
    return None


def _images(entry: dict[str, Any] | None, release: ReleaseRecord) -> list[dict[str, Any]]:
    """The release's images (of its component) with the stored delta of each, if any."""
    if entry is None:
        return []
    deltas = entry.get("deltas") or {}
    out = []
    for image in entry.get("images") or []:
        if image.get("component") != release.component:
            continue
        delta = deltas.get(image.get("ecu"))
        out.append({**image, "delta": dict(delta) if isinstance(delta, dict) else None})
    return out


def _version_of(root: Path | None, release_id: str) -> str | None:
    entry = catalogue_entry(root, release_id)
    return None if entry is None else str(entry["version"])


def fleet_versions(store: Store, release: ReleaseRecord, images: list[dict[str, Any]],
                   root: Path | None) -> list[dict[str, Any]]:
    """Per version of the component the fleet runs: vehicles, and the download from it (delta or full image).

    ``download`` is ``"installed"`` (the release itself), ``"delta"`` (a stored delta starts there),
    ``"full"`` (no stored delta: the full image) or ``"unknown"`` (the release is not in the catalogue).
    """
    image = images[0] if images else None
    delta = image.get("delta") if image else None
    delta_from = _version_of(root, str(delta["from_release"])) if delta and delta.get("from_release") else None
    rows = []
    for version, vehicles in ddb.installed_versions(store, release.ecu, release.component).items():
        if version == release.version:
            kind, size = "installed", 0
        elif delta is not None and version == delta_from:
            kind, size = "delta", int(delta["patch_length"])
        elif image is not None:
            kind, size = "full", int(image["length"])
        else:
            kind, size = "unknown", None
        rows.append({"version": version, "vehicles": vehicles, "download": kind, "bytes": size,
                     "newer": bool(version) and version_key(version) > version_key(release.version)})
    return sorted(rows, key=lambda r: version_key(r["version"] or "0"))


def release_insight(store: Store, release: ReleaseRecord, root: Path | None, now: datetime) -> dict[str, Any]:
    """What the release detail adds to the release record: images, fleet versions, RXSWIN, stability."""
    entry = catalogue_entry(root, release.id)
    images = _images(entry, release)
    kpi = next((k for k in release_stability(store, now) if k.release == release.id), without_reports(release.id))
    return {
        "published": entry is not None,
        "images": images,
        "fleet_versions": fleet_versions(store, release, images, root),
        "rxswin": {
            "declared": dict(entry.get("rxswin") or {}) if entry else {},
            "recorded": [{"regulation": k, "before": b, "after": a, "vehicles": n}
                         for k, b, a, n in ddb.rxswin_changes(store, release.id)],
        },
        "stability": kpi.to_dict(),
        "stability_over_time": stability_over_time(store, release.id, now),
    }
