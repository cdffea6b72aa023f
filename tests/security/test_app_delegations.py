"""Issue 19 §3: app publishers sign their own releases through Uptane delegations, and attacks on them.

The attack tests serve a two-repository world (``tests/ota/uptane_world.py``) written the way a
malicious server could: the Director (online keys, assumed compromised) assigns whatever the
attacker wants, so only the Image repository's delegations stand between a stolen publisher key
and the vehicle. The vehicle's one ECU has hardware ``hw-primary``. Each test names the check
it exercises; removing that check makes the test fail (see the comments).

The end-to-end tests run the project's real repositories, Director and ``VehicleClient``
(``tests/ota/vehicle_support.py``) through ``evplatform.apps.publishing`` and the CLI.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from evplatform.apps.manifest import load_apps
from evplatform.apps.model import AppManifest
from evplatform.apps.publishing import (
    app_image_path,
    delegate_publisher,
    publish_app,
    publisher_role,
    rotate_publisher,
)
from evplatform.cli import apps as apps_cli
from evplatform.cli import ota as ota_cli
from evplatform.errors import OtaError
from evplatform.ota._delegation_spec import DelegationSpec
from evplatform.ota.client import errors as e
from evplatform.ota.delegation_admin import patterns_overlap
from evplatform.workspace import load_workspace
from ota.uptane_world import HARDWARE_ID, Delegated, World, director_custom, image_custom, sha256, target
from ota.vehicle_support import Server, build_server, build_vehicle, no_fsync  # noqa: F401

VOLTWAY_APP = "apps/voltway/charging-planner-1.2.0"
MIHOME_APP = "apps/mihome/home-bridge-0.9.0"
GOOD = b"charging planner 1.2.0 build " * 20
EVIL = b"charging planner 1.2.0 EVIL! " * 20  # same length: only the hashes differ


def _world(assigned: str, content: bytes, **roles: dict[str, Any]) -> World:
    """The Director assigns ``assigned`` (``content``) to the ECU; the Image repository's top-level
    targets sign nothing and delegate to ``roles`` in this order (keys 6, 7, 6, …)."""
    world = World()
    world.image.targets.clear()
    world.director.targets.clear()
    world.director.targets[assigned] = target(content, director_custom())
    world.images[sha256(content)] = content
    for index, (name, options) in enumerate(roles.items()):
        options = dict(options)
        signs = options.pop("signs", {})
        signed = {path: target(data, image_custom(options.pop("image_hardware", HARDWARE_ID)))
                  for path, data in signs.items()}
        for data in signs.values():
            world.images[sha256(data)] = data
        options.setdefault("keys", [6 + index % 2])
        world.image.delegations[name] = Delegated(targets=signed, **options)
    return world


def _publisher(publisher: str, **options: Any) -> dict[str, Any]:
    """A publisher's delegation as ``apps delegate`` makes it: its own folder, terminating."""
    return {"paths": [f"apps/{publisher}/*"], "terminating": True, **options}


# -- attacks --------------------------------------------------------------------------------------
def test_a_compromised_publisher_key_cannot_sign_another_publishers_app(tmp_path: Path) -> None:
    """voltway's stolen key signs a "home-bridge" release in voltway's own role file. The vehicle never
    asks voltway about apps/mihome/… (path pattern check, ``delegations.applies``)."""
    world = _world(MIHOME_APP, EVIL, **{"app-voltway": _publisher("voltway", signs={MIHOME_APP: EVIL})})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        world.client(tmp_path / "attacked").update_check()
    honest = _world(VOLTWAY_APP, GOOD, **{"app-voltway": _publisher("voltway", signs={VOLTWAY_APP: GOOD})})
    assert honest.client(tmp_path / "honest").update_check().status == "installed"


def test_a_compromised_publisher_key_cannot_sign_vehicle_firmware(tmp_path: Path) -> None:
    """Outside apps/ entirely: the brake firmware path is not the publisher's to sign."""
    world = _world("brake/9.9", EVIL, **{"app-voltway": _publisher("voltway", signs={"brake/9.9": EVIL})})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        world.client(tmp_path / "v").update_check()


def test_a_revoked_publisher_key_is_refused(tmp_path: Path) -> None:
    """The OEM rotated voltway's delegation to key 7 after key 6 leaked; a role file signed with the
    old key 6 is refused (delegated-role signature threshold, ``trusted_set.update_delegated_targets``)."""
    rotated = _publisher("voltway", signs={VOLTWAY_APP: EVIL}, keys=[7], sign_with=[6])
    with pytest.raises(e.ThresholdError):
        _world(VOLTWAY_APP, EVIL, **{"app-voltway": rotated}).client(tmp_path / "old-key").update_check()
    current = _publisher("voltway", signs={VOLTWAY_APP: GOOD}, keys=[7], sign_with=[7])
    assert _world(VOLTWAY_APP, GOOD, **{"app-voltway": current}).client(tmp_path / "new").update_check().status \
        == "installed"


def test_a_terminating_publisher_delegation_stops_the_search(tmp_path: Path) -> None:
    """voltway's terminating role does not sign this release; a later catch-all role (a compromised
    store key) does. The search ends at voltway's role (TUF 5.6.7.2.3, ``DelegationSearch._resolve``)."""
    catch_all = {"paths": ["apps/*/*"], "signs": {VOLTWAY_APP: EVIL}}
    stopped = _world(VOLTWAY_APP, EVIL, **{"app-voltway": _publisher("voltway"), "store": catch_all})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        stopped.client(tmp_path / "stopped").update_check()
    not_terminating = _world(VOLTWAY_APP, EVIL, **{"app-voltway": _publisher("voltway", terminating=False),
                                                   "store": catch_all})
    assert not_terminating.client(tmp_path / "goes-on").update_check().status == "installed"


def test_a_publisher_limited_to_other_hardware_cannot_sign_for_this_ecu(tmp_path: Path) -> None:
    """voltway is delegated the infotainment unit only; its role signs a release for this ECU's hardware.
    The delegation does not apply to this ECU (hardware-id check, Uptane 5.4.4.7 step 4.1)."""
    limited = _publisher("voltway", signs={VOLTWAY_APP: GOOD}, custom={"hardware_ids": ["hw-infotainment"]})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        _world(VOLTWAY_APP, GOOD, **{"app-voltway": limited}).client(tmp_path / "other-hw").update_check()
    allowed = _publisher("voltway", signs={VOLTWAY_APP: GOOD},
                         custom={"hardware_ids": ["hw-infotainment", HARDWARE_ID]})
    assert _world(VOLTWAY_APP, GOOD, **{"app-voltway": allowed}).client(tmp_path / "this-hw").update_check().status \
        == "installed"


# -- the real repositories ------------------------------------------------------------------------
pytestmark = pytest.mark.usefixtures("no_fsync")
MAIN_1 = b"main firmware 1.0 " * 50
APP_HW = "hw-main"  # the test server's ECU that runs apps


@pytest.fixture(scope="module")
def apps() -> dict[str, AppManifest]:
    return dict(load_apps(load_workspace(None)).apps)


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release("main/1.0", MAIN_1, APP_HW, 1)
    return server


def _publish(server: Server, app: AppManifest, data: bytes, hardware_id: str = APP_HW) -> dict[str, Any]:
    done = publish_app(server.image, server.store, server.keyring, app, data, hardware_id=hardware_id,
                       release_counter=1)
    server.images[app_image_path(app)] = data
    return done


def test_a_publisher_signs_its_app_and_a_vehicle_installs_it(server: Server, apps: dict[str, AppManifest],
                                                             tmp_path: Path) -> None:
    planner = apps["charging-planner"]
    made = delegate_publisher(server.image, server.keyring, planner.publisher, hardware_ids=[APP_HW])
    assert made["delegation"]["paths"] == ["apps/voltway/*"] and made["delegation"]["terminating"]
    assert made["delegation"]["hardware_ids"] == [APP_HW]
    done = _publish(server, planner, GOOD)
    assert done["target"]["path"] == VOLTWAY_APP and done["role"] == publisher_role("voltway") == "app-voltway"
    signed_by = server.image.delegated_role("app-voltway")
    role = server.image.delegation("app-voltway")
    assert {s for s in signed_by.signatures} == set(role.keyids)  # the publisher's keys, not the OEM's
    assert server.image.verify().ok
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"},
                            hardware={"ecu-main": APP_HW})
    server.service.assign("VIN0000000000001", "ecu-main", VOLTWAY_APP)
    outcome = vehicle.client.update_check()
    assert [u.image.filepath for u in outcome.updates] == [VOLTWAY_APP]
    assert outcome.status == "installed"


def test_the_repository_refuses_a_release_for_hardware_the_publisher_is_not_delegated(
        server: Server, apps: dict[str, AppManifest]) -> None:
    planner = apps["charging-planner"]
    delegate_publisher(server.image, server.keyring, planner.publisher, hardware_ids=[APP_HW])
    with pytest.raises(OtaError, match="for hardware hw-brake"):
        _publish(server, planner, GOOD, hardware_id="hw-brake")
    assert not (server.root / "images" / hashlib.sha256(GOOD).hexdigest()).exists()  # nothing stored
    with pytest.raises(OtaError, match="no delegated role 'app-mihome'"):  # mihome has no role yet
        _publish(server, apps["home-bridge"], GOOD)


def test_overlapping_publisher_paths_are_refused_with_a_clear_error(server: Server) -> None:
    """A catch-all delegation for apps/*/* on the same hardware: giving voltway apps/voltway/* too
    would let two roles sign one app. Nothing is written (no keys, no new targets version)."""
    store_keys = server.keyring.new_delegation_keys("store")
    server.image.delegate(DelegationSpec("store", [k.public_key for k in store_keys], paths=["apps/*/*"],
                                         hardware_ids=[APP_HW]), server.keyring.signers("image", "targets"),
                          store_keys)
    version = server.image.targets.signed.version
    with pytest.raises(OtaError, match=r"path apps/voltway/\* overlaps apps/\*/\* of delegation store"):
        delegate_publisher(server.image, server.keyring, "voltway", hardware_ids=[APP_HW])
    assert server.image.targets.signed.version == version
    assert not any(entry.role == "delegation-app-voltway" for entry in server.keyring.entries)
    # on disjoint hardware the two never apply to one ECU: allowed
    delegate_publisher(server.image, server.keyring, "voltway", hardware_ids=["hw-infotainment"])
    # two publishers never overlap each other
    delegate_publisher(server.image, server.keyring, "mihome", hardware_ids=["hw-infotainment"])


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ("apps/voltway/*", "apps/*/*", True), ("apps/voltway/*", "apps/mihome/*", False),
    ("apps/voltway/*", "apps/volt*/*", True), ("apps/voltway/*", "apps/*", False),
    ("apps/voltway/*", "apps/voltway/planner-1.0", True), ("apps/voltway/*", "brake/*", False),
])
def test_path_patterns_overlap_segment_by_segment(a: str, b: str, overlap: bool) -> None:
    assert patterns_overlap(a, b) is overlap and patterns_overlap(b, a) is overlap


def test_the_cli_delegates_and_publishes(server: Server, tmp_path: Path) -> None:
    app = typer.Typer()
    apps_cli.register(app)
    root = ("--root", str(server.root), "--insecure-demo-keys", "--json")  # the test server's plaintext keys
    runner = CliRunner()
    made = runner.invoke(app, ["apps", "delegate", "voltway", "--hardware-id", APP_HW, *root])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["delegation"]["name"] == "app-voltway"
    release = tmp_path / "planner.bin"
    release.write_bytes(GOOD)
    done = runner.invoke(app, ["apps", "publish", "charging-planner", str(release), "--hardware-id", APP_HW,
                               "--release-counter", "3", *root])
    assert done.exit_code == 0, done.output
    published = json.loads(done.stdout)
    assert published["target"] == {"path": VOLTWAY_APP, "sha256": hashlib.sha256(GOOD).hexdigest(),
                                   "length": len(GOOD), "hardware_id": APP_HW, "release_counter": 3}
    again = runner.invoke(app, ["apps", "delegate", "voltway", *root])
    assert again.exit_code != 0 and isinstance(again.exception, OtaError)
    rotated = runner.invoke(app, ["apps", "rotate-key", "voltway", *root])
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout)["delegation"]["keyids"] != json.loads(made.stdout)["delegation"]["keyids"]


def test_ota_delegation_create_refuses_overlapping_paths_unless_allowed(server: Server) -> None:
    """Bad input of issue 19: a delegation with overlapping paths is a clear error (``--allow-overlap``
    makes a deliberate priority order)."""
    app = typer.Typer()
    ota_cli.register(app)
    root = ("--root", str(server.root), "--insecure-demo-keys", "--json")
    runner = CliRunner()
    assert runner.invoke(app, ["ota", "delegation", "create", "store", "--path", "apps/*/*", *root]).exit_code == 0
    refused = runner.invoke(app, ["ota", "delegation", "create", "app-acme", "--path", "apps/acme/*", *root])
    assert isinstance(refused.exception, OtaError)
    assert "path apps/acme/* overlaps apps/*/* of delegation store" in str(refused.exception)
    allowed = runner.invoke(app, ["ota", "delegation", "create", "app-acme", "--path", "apps/acme/*",
                                  "--allow-overlap", "--position", "0", *root])
    assert allowed.exit_code == 0, allowed.output


def test_a_publisher_release_list_expires_when_the_publisher_says(server: Server, apps: dict[str, AppManifest],
                                                                  tmp_path: Path) -> None:
    """``apps publish --expires-days``: the publisher's role version is valid that long; after it, with
    every other file fresh, the vehicle refuses the role (not the repository's 90-day default)."""
    planner = apps["charging-planner"]
    delegate_publisher(server.image, server.keyring, planner.publisher, hardware_ids=[APP_HW])
    done = publish_app(server.image, server.store, server.keyring, planner, GOOD, hardware_id=APP_HW,
                       release_counter=1, lifetime=timedelta(days=2))
    server.images[app_image_path(planner)] = GOOD
    assert done["expires"] == (server.clock() + timedelta(days=2)).isoformat()
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"}, hardware={"ecu-main": APP_HW})
    server.clock.advance(days=3)
    server.image.resign_targets(server.keyring.signers("image", "targets"))  # everything else fresh
    server.service.assign("VIN0000000000001", "ecu-main", VOLTWAY_APP)
    with pytest.raises(e.ExpiredMetadataError, match="app-voltway"):
        vehicle.client.update_check()
    with pytest.raises(OtaError, match="positive"):
        publish_app(server.image, server.store, server.keyring, planner, GOOD, hardware_id=APP_HW,
                    release_counter=1, lifetime=timedelta(0))


def test_rotating_a_leaked_publisher_key(server: Server, apps: dict[str, AppManifest], tmp_path: Path) -> None:
    """``apps rotate-key``: same paths, hardware, terminating flag and priority; the old key can no
    longer sign, what it signed is no longer trusted, and the publisher publishes again with the new key."""
    planner = apps["charging-planner"]
    delegate_publisher(server.image, server.keyring, planner.publisher, hardware_ids=[APP_HW])
    _publish(server, planner, GOOD)
    leaked = server.keyring.delegation_signers("app-voltway")
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"}, hardware={"ecu-main": APP_HW})
    before = server.image.delegation("app-voltway")
    rotated = rotate_publisher(server.image, server.keyring, "voltway")
    after = server.image.delegation("app-voltway")
    assert (after.paths, after.terminating, rotated["delegation"]["hardware_ids"]) == (before.paths, True, [APP_HW])
    assert set(after.keyids).isdisjoint(before.keyids)
    assert {s.public_key.keyid for s in server.keyring.delegation_signers("app-voltway")} == set(after.keyids)
    with pytest.raises(OtaError, match="threshold"):
        server.image.add_delegated_targets("app-voltway", [], leaked)
    with pytest.raises(OtaError, match="no image"):  # nothing the old key signed is trusted now
        server.service.assign("VIN0000000000001", "ecu-main", VOLTWAY_APP)
    _publish(server, planner, GOOD)  # the publisher, with the new key
    server.service.assign("VIN0000000000001", "ecu-main", VOLTWAY_APP)
    assert vehicle.client.update_check().status == "installed"
