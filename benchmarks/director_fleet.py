"""Director at fleet scale: per-vehicle metadata of a campaign over 1,000,000 registered vehicles.

Issue 18's budget: targets + snapshot + timestamp for every vehicle of a campaign generated, signed
and stored in ≤ 2 minutes on this machine's 2 cores (the Director signs ~15,000 triples/s/core).

1. **Fleet**: ``--vehicles`` (1,000,000) registered in PostgreSQL (own database, ``--pg-url``);
   populated when short (timed).
2. **Signing, whole fleet**: a triple for every vehicle of the campaign (the hub-os ECU of every
   vehicle that has one), rendered and signed by the Director's renderer with its online keys over
   ``--processes`` worker processes, kept in memory (generation + signing only).
3. **Stored, sample**: ``--sample`` vehicles registered with the file-based Director (ECU keys
   derived as for the demo fleet), then assigned and published (a) one by one through
   ``OtaService.assign`` — today's path: six fsyncs a vehicle, one core — on ``--current`` vehicles and
   (b) with ``ota.bulk.publish_campaign`` (no per-file fsync, one sync at the end, all cores) on the
   rest. Rates are extrapolated to the fleet; files and inodes a vehicle needs are counted, because
   a million vehicles' folders do not fit this machine's file system (see BENCHMARKS.md).
4. Every published vehicle of the sample is checked: its three documents parse with python-tuf and
   their signatures verify against the Director root's keys (``Metadata.verify_delegate``).

    .venv/bin/python benchmarks/director_fleet.py                    # 1,000,000 vehicles, 20,000 stored
    .venv/bin/python benchmarks/director_fleet.py --vehicles 20000 --sample 4000 --current 500   # quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "director_fleet.json"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/i18bench"
BUDGET_S = 120.0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fleet(url: str, vehicles: int) -> dict[str, Any]:
    """The registered fleet in PostgreSQL: populated up to ``vehicles`` when short."""
    from sqlalchemy import func, select

    from evplatform.fleet.scenario import load_scenario
    from evplatform.fleet.simulator import populate
    from evplatform.store import open_store
    from evplatform.store.schema import Vehicle
    from evplatform.workspace import load_workspace

    with open_store(url) as store, store.session() as session:
        have = int(session.scalar(select(func.count()).select_from(Vehicle)) or 0)
    out: dict[str, Any] = {"registered_before": have}
    if have < vehicles:
        ws = load_workspace(None)
        started = time.perf_counter()
        with open_store(url) as store:
            populate(store, ws, vehicles - have, load_scenario(ws))
        out["populate_s"] = round(time.perf_counter() - started, 1)
    return out


def campaign_vins(url: str, ecu: str, hardware_id: str) -> list[str]:
    """VINs of every vehicle whose ``ecu`` has ``hardware_id`` (the campaign's targets), in id order."""
    from sqlalchemy import select

    from evplatform.store import open_store
    from evplatform.store.schema import Vehicle

    with open_store(url) as store, store.session() as session:
        rows = session.execute(select(Vehicle.vin, Vehicle.hardware_ids).order_by(Vehicle.id)).tuples()
        return [vin for vin, hardware in rows if (hardware or {}).get(ecu) == hardware_id]


# --- signing the whole fleet in memory ---------------------------------------------------------

_renderer: Any = None
_image: tuple[str, int, str, str, int, str] = ("", 0, "", "", 0, "")


def _sign_init(keys_dir: str, image: tuple[str, int, str, str, int, str]) -> None:
    from evplatform.ota._director_render import FastRenderer
    from evplatform.ota.keys import KeyRing

    global _renderer, _image
    ring = KeyRing(Path(keys_dir))
    _renderer = FastRenderer({role: ring.private_keys("director", role)[0]
                              for role in ("targets", "snapshot", "timestamp")})
    _image = image


def _sign_chunk(job: tuple[list[str], list[str]]) -> tuple[int, float]:
    from evplatform.ota._director_render import target_fragment

    vins, expires = job
    path, length, sha256, hardware_id, counter, ecu = _image
    cpu = time.process_time()
    size = 0
    for vin in vins:  # the fragment is per vehicle: it names the vehicle's ECU serial
        fragment = target_fragment(path, length, sha256, {"ecu_serial": f"{vin}-{ecu}", "hardware_id": hardware_id,
                                                          "release_counter": counter})
        documents = _renderer.render(vin, [fragment], (2, 2, 2), expires)
        size += len(documents["targets"]) + len(documents["snapshot"]) + len(documents["timestamp"])
    return size, time.process_time() - cpu


def sign_fleet(keys_dir: Path, image: tuple[str, int, str, str, int, str], vins: list[str],
               processes: int) -> dict[str, Any]:
    from evplatform.ota._director_render import expires_texts
    from evplatform.ota.metadata_common import DIRECTOR_EXPIRY

    now = datetime.now(UTC).replace(microsecond=0)
    expires = expires_texts([now + DIRECTOR_EXPIRY[r] for r in ("targets", "snapshot", "timestamp")])
    step = max(100, min(5000, len(vins) // (8 * processes)))
    chunks = [(vins[i:i + step], expires) for i in range(0, len(vins), step)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_sign_init, initargs=(str(keys_dir), image)) as pool:
        pool.map(_sign_chunk, chunks[:processes])  # warm: keys loaded, code paths hot
        load = loadavg()
        started = time.perf_counter()
        done = list(pool.imap_unordered(_sign_chunk, chunks))
        seconds = time.perf_counter() - started
    cpu = sum(c for _, c in done)
    return {"vehicles": len(vins), "processes": processes, "seconds": round(seconds, 1),
            "triples_per_s": round(len(vins) / seconds), "cpu_s": round(cpu, 1),
            "triples_per_cpu_s": round(len(vins) / cpu), "bytes": sum(b for b, _ in done),
            "loadavg": f"{load} → {loadavg()}"}


# --- the stored sample ------------------------------------------------------------------------


def ota_server(folder: Path, component: str, ecu: str, hardware_id: str) -> tuple[Any, Any, str]:
    """An OTA server folder (throw-away demo keys) listing one release image of the campaign."""
    from evplatform.fleet.demo_uptane import create_secret, load_secret
    from evplatform.ota.image_repository import ImageTarget
    from evplatform.ota.keys import KeyRing
    from evplatform.ota.metadata_common import system_clock
    from evplatform.ota.service import OtaService

    ring = KeyRing.init(folder / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(folder, system_clock, ring)
    data = os.urandom(64 * 1024)
    service.image_store.put(data)
    image = ImageTarget.from_data(f"{component}/{component}-9.9.9.bin", data, component=component, version="9.9.9",
                                  hardware_id=hardware_id, release_counter=99)
    service.add_targets([image], ring.signers("image", "targets"))
    create_secret(folder / "keys")
    return service, load_secret(folder / "keys"), image.filepath


def register_sample(url: str, service: Any, secret: bytes, vins: list[str]) -> tuple[float, float]:
    """Register ``vins`` with the Director as ``register_fleet`` does (8 threads, one sync); seconds."""
    from evplatform.fleet.demo_uptane import _register
    from evplatform.store import open_store
    from evplatform.store import vehicles as vdb

    wanted = set(vins)
    with open_store(url) as store:
        records = [v for v in vdb.list_vehicles(store, limit=len(vins) * 3) if v.vin in wanted]
    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda vehicle: _register(service, secret, vehicle), records))
    os.sync()
    return time.perf_counter() - started, time.process_time() - cpu


def verify_sample(service: Any, vins: list[str]) -> int:
    """Parse each vehicle's three documents with python-tuf and verify every signature; how many passed."""
    from tuf.api.metadata import Metadata

    root = service.director.root.signed
    checked = 0
    for vin in vins:
        files = {role: Metadata.from_bytes(service.director_metadata(vin, role))
                 for role in ("targets", "snapshot", "timestamp")}
        for role, metadata in files.items():
            root.verify_delegate(role, metadata.signed_bytes, metadata.signatures)
        if files["targets"].signed.unrecognized_fields.get("custom", {}).get("vin") != vin:
            raise SystemExit(f"{vin}: targets metadata names another vehicle")
        checked += 1
    return checked


def files_of(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="vehicles stored in the file-based Director")
    parser.add_argument("--current", type=int, default=1_000, help="of the sample: published one by one (today's path)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--pg-url", default=os.environ.get("EVPLATFORM_BENCH_FLEET_PG_URL", DEFAULT_PG))
    parser.add_argument("--component", default="hub-os")
    parser.add_argument("--no-sign", action="store_true", help="skip signing the whole fleet (step 2)")
    args = parser.parse_args()

    from evplatform.ota.bulk import publish_campaign
    from evplatform.ota.director import Director
    from evplatform.workspace import load_workspace

    hub = load_workspace(None).software[args.component]
    data: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": "benchmarks/director_fleet.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "loadavg_before": loadavg(),
        "budget_s": BUDGET_S,
    }
    print(f"fleet: {args.vehicles:,} vehicles in {args.pg_url.rsplit('/', 1)[-1]} …", flush=True)
    data["fleet"] = fleet(args.pg_url, args.vehicles)
    vins = campaign_vins(args.pg_url, hub.ecu, hub.hardware_id)
    data["fleet"]["campaign_vehicles"] = len(vins)
    print(f"  {data['fleet']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="evplatform-director-fleet-", dir=os.environ.get("TMPDIR")) as scratch:
        folder = Path(scratch) / "ota"
        service, secret, image_path = ota_server(folder, args.component, hub.ecu, hub.hardware_id)
        target = service.image_repository.target(image_path)
        image = (target.filepath, target.length, target.sha256, target.hardware_id, target.release_counter, hub.ecu)
        if not args.no_sign:
            print(f"signing {len(vins):,} triples on {args.processes} processes …", flush=True)
            data["signing"] = sign_fleet(folder / "keys", image, vins, args.processes)
            print(f"  {data['signing']}", flush=True)

        sample = vins[:args.sample]
        seconds, cpu = register_sample(args.pg_url, service, secret, sample)
        data["registration"] = {"vehicles": len(sample), "seconds": round(seconds, 1),
                                "per_s": round(len(sample) / seconds), "cpu_s": round(cpu, 1),
                                "per_cpu_s": round(len(sample) / cpu)}
        print(f"registration: {data['registration']}", flush=True)

        current, bulk = sample[:args.current], sample[args.current:]
        load = loadavg()
        started, cpu = time.perf_counter(), time.process_time()
        for vin in current:
            service.assign(vin, f"{vin}-{hub.ecu}", image_path)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        data["current_path"] = {"vehicles": len(current), "seconds": round(seconds, 1),
                                "per_s": round(len(current) / seconds), "processes": 1, "cpu_s": round(cpu, 1),
                                "per_cpu_s": round(len(current) / cpu),
                                "loadavg": f"{load} → {loadavg()}"}
        print(f"current path (OtaService.assign): {data['current_path']}", flush=True)

        load = loadavg()
        result = publish_campaign(folder, [(vin, f"{vin}-{hub.ecu}", image_path) for vin in bulk],
                                  processes=args.processes)
        data["bulk_path"] = {"vehicles": result.published, "refused": result.failed_count,
                             "seconds": round(result.seconds, 1), "per_s": round(result.per_second),
                             "cpu_s": round(result.cpu_seconds, 1),
                             "per_cpu_s": round(result.published / result.cpu_seconds),
                             "processes": result.processes, "loadavg": f"{load} → {loadavg()}"}
        print(f"bulk path (ota.bulk.publish_campaign): {data['bulk_path']}", flush=True)

        reopened = type(service)(folder, service.clock)  # what a server process would read from disk
        data["verified_vehicles"] = verify_sample(reopened, sample)
        vehicles_dir = folder / "director" / "vehicles"
        files = files_of(vehicles_dir) + files_of(folder / "director" / "ecus")
        usage = shutil.disk_usage(folder)
        data["storage"] = {"files_per_vehicle": round(files / len(sample), 2),
                           "bytes_per_vehicle": round(_du(folder / "director") / len(sample)),
                           "inodes_free": os.statvfs(folder).f_ffree, "disk_free_gb": round(usage.free / 1e9, 1)}
        assert isinstance(reopened.director, Director)
    fleet_n = len(vins)
    data["extrapolated_to_fleet_s"] = {
        **({"signing_only": round(fleet_n / data["signing"]["triples_per_s"], 1)} if "signing" in data else {}),
        "current_path": round(fleet_n / data["current_path"]["per_s"], 1),
        "bulk_path": round(fleet_n / data["bulk_path"]["per_s"], 1),
        "registration": round(fleet_n / data["registration"]["per_s"], 1),
    }
    data["storage"]["inodes_needed_for_fleet"] = round(data["storage"]["files_per_vehicle"] * fleet_n)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    (RESULTS.with_name("director_fleet_no_sign.json") if args.no_sign else RESULTS).write_text(
        json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


def _du(folder: Path) -> int:
    return sum(os.stat(os.path.join(root, name)).st_blocks * 512
               for root, _, names in os.walk(folder) for name in names)


if __name__ == "__main__":
    main()
