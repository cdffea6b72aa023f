"""Delegations (issue 14 item 6): the resolution rules on their own, the Image repository that
creates, publishes into and revokes delegated roles, a vehicle that installs from them, and the CLI.

The rules (``ota/client/delegations.py``) are tested with an in-memory loader of python-tuf
``Targets``; the end-to-end tests run the real repositories and ``VehicleClient``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from typer.testing import CliRunner

from evplatform.cli import ota
from evplatform.errors import OtaError
from evplatform.ota._delegation_spec import DelegationSpec
from evplatform.ota.assignment import Assignment
from evplatform.ota.client import errors as e
from evplatform.ota.client.delegations import DelegationLimitError, find_target
from evplatform.ota.client.fetcher import InMemoryFetcher
from evplatform.ota.client.trusted_set import TrustedRepository
from evplatform.ota.image_repository import ImageTarget
from ota.uptane_world import KEYS, NOW, World
from ota.vehicle_support import Server, build_server, build_vehicle, no_fsync  # noqa: F401

HW = "hw-brake"
PATH = "brake/2.0"


# -- the rules, with an in-memory repository ------------------------------------------------------
def _target(content: bytes, hardware_id: str = HW, counter: int = 2) -> TargetFile:
    custom = {"component": "brake", "version": "2.0", "hardware_id": hardware_id, "release_counter": counter}
    return TargetFile(len(content), {"sha256": hashlib.sha256(content).hexdigest()}, PATH, {"custom": custom})


def _role(name: str, paths: Sequence[str] = ("brake/*",), terminating: bool = False,
          **custom: Any) -> DelegatedRole:
    return DelegatedRole(name, [], 1, terminating, paths=list(paths),
                         unrecognized_fields={"custom": custom} if custom else None)


def _targets(*roles: DelegatedRole, signs: bytes | None = None) -> Targets:
    delegations = Delegations({}, roles={r.name: r for r in roles}) if roles else None
    return Targets(targets={PATH: _target(signs)} if signs is not None else {}, delegations=delegations)


class Repo:
    """Role name → Targets; records the order roles were loaded in."""

    def __init__(self, **roles: Targets) -> None:
        self.roles = roles
        self.loaded: list[str] = []

    def load(self, role: str, delegator: str) -> Targets:
        self.loaded.append(role)
        return self.roles[role]

    def find(self, hardware_id: str | None = HW, path: str = PATH) -> TargetFile | None:
        return find_target(self.load, path, hardware_id)


def _content(found: TargetFile | None) -> str | None:
    return None if found is None else found.hashes["sha256"]


A, B, C = b"build a", b"build b", b"build c"


def test_hardware_ids_restrict_a_delegation() -> None:
    repo = Repo(targets=_targets(_role("sup", hardware_ids=["hw-main"]), _role("oem")),
                sup=_targets(signs=A), oem=_targets(signs=B))
    assert _content(repo.find(HW)) == _content(_target(B))  # sup does not apply to hw-brake
    assert repo.loaded == ["targets", "oem"]
    assert _content(repo.find("hw-main")) == _content(_target(A))
    assert _content(repo.find(None)) == _content(_target(A))  # repository-side listing: no ECU


def test_a_malformed_hardware_id_list_is_refused() -> None:
    repo = Repo(targets=_targets(_role("sup", hardware_ids="hw-brake")), sup=_targets(signs=A))
    with pytest.raises(e.MalformedMetadataError, match="hardware_ids"):
        repo.find()


def test_priority_is_the_listed_order_depth_first() -> None:
    """Pre-order: the first role's sub-delegation comes before the second role."""
    repo = Repo(targets=_targets(_role("one"), _role("two")),
                one=_targets(_role("one-child")), two=_targets(signs=B), **{"one-child": _targets(signs=A)})
    assert _content(repo.find()) == _content(_target(A))
    assert repo.loaded == ["targets", "one", "one-child"]
    swapped = Repo(targets=_targets(_role("two"), _role("one")),
                   one=_targets(_role("one-child")), two=_targets(signs=B), **{"one-child": _targets(signs=A)})
    assert _content(swapped.find()) == _content(_target(B))


def test_a_nested_terminating_delegation_ends_the_whole_search() -> None:
    repo = Repo(targets=_targets(_role("one"), _role("two")),
                one=_targets(_role("gate", terminating=True)), gate=_targets(), two=_targets(signs=B))
    assert repo.find() is None
    assert "two" not in repo.loaded
    repo.roles["one"] = _targets(_role("gate"))
    assert _content(repo.find()) == _content(_target(B))


def test_a_terminating_role_may_still_delegate_further() -> None:
    repo = Repo(targets=_targets(_role("gate", terminating=True), _role("other")),
                gate=_targets(_role("leaf")), leaf=_targets(signs=A), other=_targets(signs=B))
    assert _content(repo.find()) == _content(_target(A))


def test_a_delegation_whose_paths_do_not_match_is_not_loaded() -> None:
    repo = Repo(targets=_targets(_role("apps", paths=["apps/*"], terminating=True), _role("oem")),
                apps=_targets(), oem=_targets(signs=B))
    assert _content(repo.find()) == _content(_target(B))
    assert repo.loaded == ["targets", "oem"]


def _multi(name: str, roles: Sequence[str], threshold: int, terminating: bool = False) -> DelegatedRole:
    return _role(name, terminating=terminating, multi_role={"roles": list(roles), "threshold": threshold})


def _members(*names: str) -> list[DelegatedRole]:
    return [_role(n, paths=[]) for n in names]  # members never apply on their own


def test_multi_role_needs_the_threshold_to_agree() -> None:
    agree = Repo(targets=_targets(_multi("both", ["sup", "qa"], 2), *_members("sup", "qa")),
                 sup=_targets(signs=A), qa=_targets(signs=A))
    assert _content(agree.find()) == _content(_target(A))
    disagree = Repo(targets=_targets(_multi("both", ["sup", "qa"], 2), *_members("sup", "qa")),
                    sup=_targets(signs=A), qa=_targets(signs=B))
    assert disagree.find() is None
    one_missing = Repo(targets=_targets(_multi("both", ["sup", "qa"], 2), *_members("sup", "qa")),
                       sup=_targets(signs=A), qa=_targets())
    assert one_missing.find() is None


def test_multi_role_majority_and_conflict() -> None:
    majority = Repo(targets=_targets(_multi("three", ["x", "y", "z"], 2), *_members("x", "y", "z")),
                    x=_targets(signs=C), y=_targets(signs=A), z=_targets(signs=A))
    assert _content(majority.find()) == _content(_target(A))
    conflict = Repo(targets=_targets(_multi("any", ["x", "y"], 1), *_members("x", "y")),
                    x=_targets(signs=C), y=_targets(signs=A))
    assert _content(conflict.find()) == _content(_target(C))  # the set holding the earliest role


def test_multi_role_compares_the_custom_fields_the_vehicle_checks() -> None:
    repo = Repo(targets=_targets(_multi("both", ["sup", "qa"], 2), *_members("sup", "qa")),
                sup=_targets(signs=A), qa=Targets(targets={PATH: _target(A, counter=9)}))
    assert repo.find() is None


def test_multi_role_terminating_and_members_that_never_apply_alone() -> None:
    repo = Repo(targets=_targets(_multi("both", ["sup", "qa"], 2, terminating=True), *_members("sup", "qa"),
                                 _role("oem")),
                sup=_targets(signs=A), qa=_targets(signs=B), oem=_targets(signs=C))
    assert repo.find() is None  # no agreement and terminating: oem is not asked
    repo.roles["targets"] = _targets(_multi("both", ["sup", "qa"], 2), *_members("sup", "qa"), _role("oem"))
    repo.loaded.clear()
    assert _content(repo.find()) == _content(_target(C))
    assert repo.loaded.count("sup") == 1  # as a member only: its empty paths never match


def test_multi_role_member_must_be_delegated_by_the_same_role() -> None:
    repo = Repo(targets=_targets(_multi("both", ["sup", "ghost"], 2), *_members("sup")), sup=_targets(signs=A))
    with pytest.raises(e.MalformedMetadataError, match="ghost"):
        repo.find()


def test_the_number_of_roles_is_bounded() -> None:
    """A chain of 40 delegations: refused at the 33rd role (denial of service), not followed."""
    chain = {f"r{i}": _targets(_role(f"r{i + 1}")) for i in range(40)}
    chain["r40"] = _targets(signs=A)
    repo = Repo(targets=_targets(_role("r0")), **chain)
    with pytest.raises(DelegationLimitError, match="more than 32"):
        repo.find()
    assert len(repo.loaded) == 32
    short = {f"r{i}": _targets(_role(f"r{i + 1}")) for i in range(30)}
    short["r30"] = _targets(signs=A)
    assert _content(Repo(targets=_targets(_role("r0")), **short).find()) == _content(_target(A))


def test_a_cycle_is_skipped() -> None:
    repo = Repo(targets=_targets(_role("a"), _role("c")), a=_targets(_role("b")), b=_targets(_role("a")),
                c=_targets(signs=C))
    assert _content(repo.find()) == _content(_target(C))
    assert repo.loaded == ["targets", "a", "b", "c"]


# -- the Image repository and a vehicle -------------------------------------------------------------
pytestmark = pytest.mark.usefixtures("no_fsync")
MAIN_1 = b"main firmware 1.0 " * 50
BRAKE_1 = b"brake firmware 1.0 " * 50
BRAKE_2 = b"brake firmware 2.0 " * 50


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("brake/1.0", BRAKE_1, HW, 1)])
    return server


def _supplier(server: Server, name: str = "brake-supplier", **options: Any) -> list[CryptoSigner]:
    signers = server.keyring.new_delegation_keys(name)
    spec = DelegationSpec(name, [s.public_key for s in signers], paths=options.pop("paths", ["brake/*"]),
                          hardware_ids=options.pop("hardware_ids", [HW]), **options)
    server.image.delegate(spec, server.keyring.signers("image", "targets"), signers)
    return signers


def _publish(server: Server, role: str, path: str, data: bytes, hardware_id: str = HW, counter: int = 2) -> None:
    image = ImageTarget.from_data(path, data, component=path.split("/")[0], version=path.split("/")[1],
                                  hardware_id=hardware_id, release_counter=counter)
    server.store.put(data)
    server.images[path] = data
    server.image.add_delegated_targets(role, [image], server.keyring.delegation_signers(role))


def test_a_vehicle_installs_an_image_signed_by_a_delegated_role(server: Server, tmp_path: Path) -> None:
    _supplier(server)
    _publish(server, "brake-supplier", PATH, BRAKE_2)
    report = server.image.verify()
    assert report.ok and {"brake-supplier signatures", "snapshot → brake-supplier"} <= {c.name for c in report.checks}
    assert "brake-supplier.json" in server.image.snapshot.signed.meta
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})
    server.service.assign("VIN0000000000001", "ecu-brake", PATH)
    outcome = vehicle.client.update_check()
    assert [u.image.filepath for u in outcome.updates] == [PATH]


def test_verify_reports_a_delegated_role_signed_by_other_keys(server: Server) -> None:
    _supplier(server)
    forged = server.image.delegated_role("brake-supplier")
    forged.signed.version += 1
    forged.signatures.clear()
    forged.sign(server.keyring.signers("image", "targets")[0])
    server.image.files.write("brake-supplier", forged.to_bytes(), forged.signed.version)
    failed = {c.name for c in server.image.verify().checks if not c.ok}
    assert failed == {"brake-supplier signatures", "snapshot → brake-supplier"}


def test_the_repository_refuses_images_outside_the_delegation(server: Server) -> None:
    _supplier(server)
    with pytest.raises(OtaError, match="outside its paths"):
        _publish(server, "brake-supplier", "main/2.0", MAIN_1, hardware_id=HW)
    with pytest.raises(OtaError, match="for hardware hw-main"):
        _publish(server, "brake-supplier", "brake/main-build", MAIN_1, hardware_id="hw-main")
    with pytest.raises(OtaError, match="threshold"):  # signed by a key that is not the role's
        server.image.add_delegated_targets("brake-supplier", [ImageTarget.from_data(
            "brake/3.0", BRAKE_2, component="brake", version="3.0", hardware_id=HW, release_counter=3)],
            server.keyring.signers("image", "targets"))


def test_the_director_resolves_with_the_ecus_hardware_id(server: Server) -> None:
    _supplier(server, hardware_ids=["hw-other"], paths=["shared/*"])
    _supplier(server, "oem-shared", hardware_ids=[HW], paths=["shared/*"])
    _publish(server, "oem-shared", "shared/1.0", BRAKE_2)
    assert server.image.target("shared/1.0", HW).sha256 == hashlib.sha256(BRAKE_2).hexdigest()
    with pytest.raises(OtaError, match="no image"):
        server.image.target("shared/1.0", "hw-other")


def test_position_sets_the_priority(server: Server) -> None:
    _supplier(server, "second")
    signers = server.keyring.new_delegation_keys("first")
    server.image.delegate(DelegationSpec("first", [s.public_key for s in signers], paths=["brake/*"]),
                          server.keyring.signers("image", "targets"), signers, position=0)
    assert [d.name for d in server.image.delegations()] == ["first", "second"]
    _publish(server, "second", PATH, BRAKE_2)
    _publish(server, "first", PATH, BRAKE_1, counter=1)
    assert server.image.target(PATH, HW).sha256 == hashlib.sha256(BRAKE_1).hexdigest()


def test_revoking_a_delegation_stops_vehicles_trusting_it(server: Server, tmp_path: Path) -> None:
    _supplier(server)
    _publish(server, "brake-supplier", PATH, BRAKE_2)
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})
    server.service.assign("VIN0000000000001", "ecu-brake", PATH)
    assert vehicle.client.update_check().status == "installed"
    server.image.revoke_delegation("brake-supplier", server.keyring.signers("image", "targets"))
    assert server.image.delegations() == []
    assert "brake-supplier.json" in server.image.snapshot.signed.meta  # TUF 5.5.5: listed files stay listed
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        vehicle.client.update_check()
    with pytest.raises(OtaError, match="no image"):
        server.image.target(PATH, HW)


def test_multi_role_delegation_on_the_repository(server: Server, tmp_path: Path) -> None:
    """Two members (no paths of their own) must both sign the image the multi-role delegation grants."""
    _supplier(server, "supplier", paths=[], hardware_ids=None)
    _supplier(server, "oem-qa", paths=[], hardware_ids=None)
    spec = DelegationSpec("brake-consensus", paths=["brake/*"], hardware_ids=[HW], members=["supplier", "oem-qa"],
                          agree=2)
    server.image.delegate(spec, server.keyring.signers("image", "targets"))
    with pytest.raises(OtaError, match="outside its paths"):  # the grant is brake/* only
        _publish(server, "supplier", "main/2.0", MAIN_1)
    with pytest.raises(OtaError, match="for hardware hw-main"):
        _publish(server, "supplier", "brake/odd", MAIN_1, hardware_id="hw-main")
    _publish(server, "supplier", PATH, BRAKE_2)
    with pytest.raises(OtaError, match="no image"):  # one of two agreeing is not enough
        server.image.target(PATH, HW)
    vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})
    _publish(server, "oem-qa", PATH, BRAKE_2)
    server.service.assign("VIN0000000000001", "ecu-brake", PATH)
    assert [u.image.filepath for u in vehicle.client.update_check().updates] == [PATH]
    with pytest.raises(OtaError, match="revoke those first"):
        server.image.revoke_delegation("supplier", server.keyring.signers("image", "targets"))
    with pytest.raises(OtaError, match="multi-role"):
        server.image.add_delegated_targets("brake-consensus", [], [])


def test_delegation_specs_are_checked() -> None:
    with pytest.raises(OtaError, match="role name"):
        DelegationSpec("targets", paths=["a/*"])
    with pytest.raises(OtaError, match="role name"):
        DelegationSpec("../keys", paths=["a/*"])
    with pytest.raises(OtaError, match="threshold"):
        DelegationSpec("sup", paths=["a/*"])
    with pytest.raises(OtaError, match="agree"):
        DelegationSpec("both", paths=["a/*"], members=["x", "y"], agree=3)


# -- the CLI --------------------------------------------------------------------------------------
def _cli(*args: str) -> dict[str, Any]:
    app = typer.Typer()
    ota.register(app)
    result = CliRunner().invoke(app, ["ota", *args, "--json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_cli_creates_publishes_lists_and_revokes(server: Server, tmp_path: Path) -> None:
    root = ("--root", str(server.root), "--insecure-demo-keys")  # the test server's plaintext keys
    created = _cli("delegation", "create", "app-acme", "--path", "apps/acme/*", "--hardware-id", "hw-main",
                   "--terminating", *root)
    assert created["delegation"] == {
        "name": "app-acme", "position": 0, "paths": ["apps/acme/*"], "hardware_ids": ["hw-main"],
        "terminating": True, "keyids": created["delegation"]["keyids"], "threshold": 1, "members": [],
        "agree": None}
    image = tmp_path / "nav.bin"
    image.write_bytes(MAIN_1)
    published = _cli("delegation", "publish", "app-acme", str(image), "--path", "apps/acme/nav-1.0",
                     "--hardware-id", "hw-main", "--release-counter", "1", *root)
    assert published["target"]["sha256"] == hashlib.sha256(MAIN_1).hexdigest()
    assert [d["name"] for d in _cli("delegation", "list", *root[:2])["delegations"]] == ["app-acme"]
    assert _cli("delegation", "sign", "app-acme", *root)["role_version"] == published["role_version"] + 1
    assert _cli("delegation", "revoke", "app-acme", *root)["revoked"] == "app-acme"
    assert _cli("delegation", "list", *root[:2])["delegations"] == []


# -- a role reached from two delegators -----------------------------------------------------------
def _signed(signed: Any, *signers: CryptoSigner) -> bytes:
    document = Metadata(signed)
    for signer in signers:
        document.sign(signer, append=True)
    return document.to_bytes()


def test_a_role_reached_again_from_another_delegator_is_checked_against_its_keys(tmp_path: Path) -> None:
    """Role ``x`` is delegated by ``a`` (key 6, path p2) and by ``b`` (key 7, path p1); ``x`` is signed by key 6
    only. After resolving p2 (``x`` loaded through ``a``), resolving p1 through ``b`` must check ``x`` against
    ``b``'s keys, not reuse what ``a``'s key vouched for."""
    expires = NOW + timedelta(days=30)
    image = b"p1 image"
    p1 = TargetFile(len(image), {"sha256": hashlib.sha256(image).hexdigest()}, "p1",
                    {"custom": {"hardware_id": HW, "release_counter": 1}})

    def delegating(name: str, key: int, path: str) -> Targets:
        role = DelegatedRole(name, [KEYS[key].public_key.keyid], 1, False, paths=[path])
        return Targets(expires=expires, delegations=Delegations({KEYS[key].public_key.keyid: KEYS[key].public_key},
                                                                 roles={name: role}))

    top = Targets(expires=expires, delegations=Delegations(
        {KEYS[i].public_key.keyid: KEYS[i].public_key for i in (4, 5)},
        roles={"a": DelegatedRole("a", [KEYS[4].public_key.keyid], 1, False, paths=["*"]),
               "b": DelegatedRole("b", [KEYS[5].public_key.keyid], 1, False, paths=["*"])}))
    files = {"targets": _signed(top, KEYS[1]), "a": _signed(delegating("x", 6, "p2"), KEYS[4]),
             "b": _signed(delegating("x", 7, "p1"), KEYS[5]),
             "x": _signed(Targets(expires=expires, targets={"p1": p1, "p2": p1}), KEYS[6])}
    snapshot = Snapshot(expires=expires, meta={f"{n}.json": MetaFile(1) for n in files})
    files["snapshot"] = _signed(snapshot, KEYS[2])
    digest = hashlib.sha256(files["snapshot"]).hexdigest()
    timestamp = Timestamp(expires=expires, snapshot_meta=MetaFile(1, len(files["snapshot"]), {"sha256": digest}))
    root = Root(expires=expires, consistent_snapshot=False)
    for index, role in enumerate(("root", "targets", "snapshot", "timestamp")):
        root.add_key(KEYS[index].public_key, role)
    trusted = TrustedRepository("Image repository", _signed(root, KEYS[0]), NOW)
    trusted.update_timestamp(_signed(timestamp, KEYS[3]))
    trusted.update_snapshot(files["snapshot"])
    trusted.update_targets(files["targets"])
    world = World()
    client = world.client(tmp_path / "car")
    client.fetcher = InMemoryFetcher({f"image/{n}.json": data for n, data in files.items()})

    def assignment(path: str) -> Assignment:
        return Assignment("ecu", HW, path, p1.length, dict(p1.hashes), 1, None)

    assert client._find_image_target(trusted, assignment("p2")) is not None  # x through a: key 6 signs it
    with pytest.raises(e.ThresholdError):
        client._find_image_target(trusted, assignment("p1"))  # x through b: key 7 does not
