"""What the primary remembers between update checks, on disk, written atomically.

``<slots_dir>/uptane/``: ``director-root.json`` and ``image-root.json`` (the newest trusted roots,
the next check's trust anchors), ``state.json`` (versions trusted per repository for rollback
protection and the timestamp/snapshot keys they were signed under, the latest time a check
succeeded at — the lower bound against clocks turned back —, the ECU report counters and the last
attack detected and the reason an install was deferred, for the next version report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from evplatform.ota.client.errors import ClientError
from evplatform.ota.client.slots import write_durably
from evplatform.ota.client.trusted_set import RepositoryVersions

REPOSITORIES = ("director", "image")


@dataclass
class ClientState:
    """Mutable in memory, saved as a whole with :meth:`save`."""

    folder: Path
    versions: dict[str, RepositoryVersions] = field(default_factory=dict)
    last_time: datetime | None = None
    report_counters: dict[str, int] = field(default_factory=dict)
    attacks_detected: str = ""
    nonce_sent: str = ""  # of the last manifest made; the Director answers it with its signed time
    clock_offset: timedelta = timedelta(0)  # how far the vehicle's clock was behind the Director's signed time
    install_deferred: str = ""  # why the last check did not start its install (preconditions), for the manifest

    @classmethod
    def load(cls, folder: Path) -> ClientState:
        path = Path(folder) / "state.json"
        if not path.exists():
            return cls(Path(folder))
        try:
            data: dict[str, Any] = json.loads(path.read_bytes())
            last = data.get("last_time")
            return cls(
                Path(folder),
                {r: RepositoryVersions.from_json(v) for r, v in dict(data.get("versions", {})).items()},
                datetime.fromisoformat(last) if last else None,
                {str(k): int(v) for k, v in dict(data.get("report_counters", {})).items()},
                str(data.get("attacks_detected", "")),
                str(data.get("nonce_sent", "")),
                timedelta(seconds=float(data.get("clock_offset_s", 0))),
                str(data.get("install_deferred", "")),
            )
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            raise ClientError(f"{path}: unreadable client state ({error})") from error

    def save(self) -> None:
        data = {
            "versions": {r: v.to_json() for r, v in sorted(self.versions.items())},
            "last_time": self.last_time.isoformat() if self.last_time else None,
            "report_counters": dict(sorted(self.report_counters.items())),
            "attacks_detected": self.attacks_detected,
            "nonce_sent": self.nonce_sent,
            "clock_offset_s": self.clock_offset.total_seconds(),
            "install_deferred": self.install_deferred,
        }
        write_durably(self.folder / "state.json", json.dumps(data, sort_keys=True, indent=1).encode())

    def root_path(self, repository: str) -> Path:
        if repository not in REPOSITORIES:
            raise ClientError(f"unknown repository {repository!r}")
        return self.folder / f"{repository}-root.json"

    def trusted_root(self, repository: str) -> bytes:
        try:
            return self.root_path(repository).read_bytes()
        except FileNotFoundError as error:
            raise ClientError(
                f"no trusted {repository} root in {self.folder}: provision the vehicle with the initial roots"
            ) from error

    def store_root(self, repository: str, data: bytes) -> None:
        write_durably(self.root_path(repository), data)

    def next_report_counter(self, ecu_serial: str) -> int:
        self.report_counters[ecu_serial] = self.report_counters.get(ecu_serial, 0) + 1
        return self.report_counters[ecu_serial]
