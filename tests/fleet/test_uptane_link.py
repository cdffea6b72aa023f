"""Campaigns answered by real in-process Uptane clients (``fleet.uptane_link.UptaneLink``).

One small fleet (60 vehicles) goes through a good release and a bad one whose new software crashes
half of one trim; the same scenario through ``SimulatedLink`` must give the same wave counts, as
both links draw faults the same way. Direct ``deliver`` calls pin down each injected fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from evplatform.cli import fleet as fleet_cli
from evplatform.errors import FleetError, OtaError
from evplatform.fleet.link import FailureModel
from evplatform.fleet.simulator import Scenario, ScenarioRelease, SimulationResult, scenario_failures, simulate_fleet
from evplatform.fleet.uptane_link import UptaneLink
from evplatform.store import Store, open_store
from evplatform.store import progress as pdb
from evplatform.store import vehicles as vdb
from evplatform.store.releases import ReleaseRecord
from evplatform.store.schema import UpdateReport
from evplatform.workspace import Workspace, load_workspace

GOOD, BAD = "hub-os-1.7.0", "adas-high-2.5.0"
SCENARIO = Scenario(
    releases=(ScenarioRelease("hub-os", "1.7.0"),
              ScenarioRelease("adas-high", "2.5.0", crash_cohort="yu7/standard", crash_rate=0.5)),
    market_shares={"CN": 0.85, "DE": 0.05, "FR": 0.04, "ES": 0.03, "IT": 0.03},
    vin_prefix="LMD",
    failures=FailureModel(download_interruption=0.2),  # often, to see resumes in a small fleet
)
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
RELEASE = ReleaseRecord("hub-os-1.7.0", "hub-os", "central-compute", "MD-HUB-A1", "1.7.0", "true")


@dataclass
class Run:
    store: Store
    link: UptaneLink
    result: SimulationResult


def _fleet(tmp: Path, ws: Workspace, name: str, link: UptaneLink | None) -> tuple[Store, SimulationResult]:
    store = open_store(f"sqlite:///{tmp / name}")
    return store, simulate_fleet(store, ws, 60, scenario=SCENARIO, link=link)


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return load_workspace(None)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, demo: Workspace) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("uptane")
    link = UptaneLink(SCENARIO.seed, scenario_failures(SCENARIO),
                      factory_versions={k: s.version for k, s in demo.software.items()})
    store, result = _fleet(tmp, demo, "uptane.db", link)
    yield Run(store, link, result)
    link.close()
    store.dispose()


def _campaign(run: Run, release: str) -> dict:
    return next(c for c in run.result.campaigns if c["release"] == release)


def _states(run: Run, release: str) -> dict[int, str]:
    ids = vdb.vehicle_columns(run.store)["id"].tolist()
    return pdb.vehicle_states(run.store, _campaign(run, release)["id"], ids)


def test_good_release_completes_with_the_image_committed_in_slot_b(run: Run) -> None:
    assert _campaign(run, GOOD)["state"] == "completed"
    image = run.link.image(GOOD)
    succeeded = [v for v, s in _states(run, GOOD).items() if s == "succeeded"]
    assert len(succeeded) >= 55
    for vid in succeeded:
        slots = run.link.slots(vid, "central-compute")
        assert (slots.active, slots.trial) == ("b", None)  # factory image in a, the update committed in b
        installed = slots.installed()
        assert installed is not None and installed.sha256 == image.sha256 and installed.filepath == image.filepath
    vin = f"V{succeeded[0]:010d}"  # ECU serials are unique across the fleet: they carry the VIN
    assert run.link.service.director.vehicle(vin).installed[f"{vin}-central-compute"]["sha256"] == (
        image.sha256)  # the vehicle's signed manifest told the Director


def test_bad_release_is_halted_and_crashed_vehicles_keep_their_image(run: Run) -> None:
    bad = _campaign(run, BAD)
    assert bad["state"] == "halted" and "error rate" in bad["halt_reason"]
    rolled = [v for v, s in _states(run, BAD).items() if s == "rolled_back"]
    assert rolled
    new = run.link.image(BAD)
    for vid in rolled:
        slots = run.link.slots(vid, "adas")
        installed = slots.installed()
        assert slots.trial is None and installed is not None and installed.sha256 != new.sha256
        tried = slots.image_info(slots.inactive)
        assert tried is not None and tried.sha256 == new.sha256  # written, failed its trial boot, left behind
    crashes = vdb.telemetry(run.store, kind="crash", limit=1000)
    assert {c.release_id for c in crashes} == {BAD} and len(crashes) == len(rolled)


def test_same_wave_counts_as_the_simulated_link(run: Run, demo: Workspace, tmp_path: Path) -> None:
    store, simulated = _fleet(tmp_path, demo, "simulated.db", None)
    try:
        for ours, theirs in zip(run.result.campaigns, simulated.campaigns, strict=True):
            assert (ours["state"], ours["halt_reason"]) == (theirs["state"], theirs["halt_reason"])
            assert ours["waves"] == theirs["waves"]
    finally:
        store.dispose()


def test_interrupted_downloads_were_resumed(run: Run) -> None:
    stats = run.link.stats()
    assert stats["client_runs"] > 60 and stats["vehicles_per_second"] > 0
    with run.store.session() as session:
        details = session.execute(select(UpdateReport.detail)).scalars().all()
    assert any(d == "download interrupted, resumed with a Range request" for d in details)


@pytest.fixture
def link() -> Iterator[UptaneLink]:
    with UptaneLink(3, FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0,
                                    offline=0)) as made:
        yield made


def _deliver(link: UptaneLink, failures: FailureModel, ids: list[int], *, forced: bool = False,
             now: datetime = NOW) -> tuple[list[str], list[str], list[bool]]:
    link.failures = failures
    d = link.deliver(RELEASE, np.array(ids, dtype=np.int64), np.full(len(ids), "su7/max", dtype=object),
                     forced=forced, now=now)
    return d.outcomes.tolist(), d.details.tolist(), d.crashed.tolist()


def test_power_loss_keeps_the_previous_image(link: UptaneLink) -> None:
    outcomes, details, _ = _deliver(link, FailureModel(power_loss=1.0, postpone=0, offline=0), list(range(1, 9)))
    assert outcomes == ["rolled_back"] * 8
    assert any("while writing the inactive slot" in d for d in details)
    assert any("during the trial boot" in d and "rolled back" in d for d in details)
    for vid in range(1, 9):
        installed = link.installed(vid)["central-compute"]
        assert installed is not None and installed.filepath.startswith("hub-os/factory")
        assert link.slots(vid, "central-compute").trial is None


def test_write_error_fails_the_install(link: UptaneLink) -> None:
    outcomes, details, _ = _deliver(link, FailureModel(install_failure=1.0, power_loss=0, postpone=0, offline=0),
                                    [5, 6])
    assert outcomes == ["failed", "failed"] and all("injected write error" in d for d in details)
    assert link.installed(5)["central-compute"].sha256 != link.image(RELEASE.id).sha256  # type: ignore[union-attr]


def test_download_interruption_is_resumed(link: UptaneLink) -> None:
    outcomes, details, _ = _deliver(link, FailureModel(download_interruption=1.0, postpone=0, offline=0), [8])
    assert outcomes == ["succeeded"] and details == ["download interrupted, resumed with a Range request"]
    assert link.installed(8)["central-compute"].sha256 == link.image(RELEASE.id).sha256  # type: ignore[union-attr]


def test_offline_and_postponed_do_not_reach_the_client(link: UptaneLink) -> None:
    assert _deliver(link, FailureModel(offline=1.0), [1])[0] == ["no_answer"]
    assert _deliver(link, FailureModel(offline=0, postpone=1.0), [1])[0] == ["postponed"]
    assert _deliver(link, FailureModel(offline=0, postpone=1.0), [1], forced=True)[0] == ["succeeded"]
    assert link.client_runs == 1


def test_crash_share_fails_the_health_check(link: UptaneLink) -> None:
    failures = FailureModel(postpone=0, offline=0, bad_releases={RELEASE.id: ("su7/max", 1.0)})
    outcomes, details, crashed = _deliver(link, failures, [2, 3])
    assert outcomes == ["rolled_back", "rolled_back"] and crashed == [True, True]
    assert all("health check failed" in d for d in details)


def test_offering_the_same_vehicles_twice_gives_the_same_answers(link: UptaneLink) -> None:
    failures = FailureModel(download_interruption=0.3, install_failure=0.15, power_loss=0.15, postpone=0,
                            offline=0, bad_releases={RELEASE.id: ("su7/max", 0.3)})
    ids = list(range(20, 40))
    first = _deliver(link, failures, ids)
    second = _deliver(link, failures, ids, now=NOW + timedelta(hours=7))
    assert first[0] == second[0] and first[2] == second[2]
    assert {"succeeded", "failed", "rolled_back"} <= set(first[0])
    assert any(first[2])
    for vid, outcome in zip(ids, second[0], strict=True):
        on_release = link.installed(vid)["central-compute"].sha256 == link.image(RELEASE.id).sha256  # type: ignore[union-attr]
        assert on_release == (outcome == "succeeded")


def _app() -> typer.Typer:
    app = typer.Typer()
    fleet_cli.register(app)
    return app


def test_cli_simulate_with_the_uptane_client(tmp_path: Path) -> None:
    done = CliRunner().invoke(_app(), ["fleet", "simulate", "--client", "uptane", "--vehicles", "60", "--json",
                                       "--out", str(tmp_path), "--no-plot"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["client"] == "uptane" and data["vehicles"] == 60
    assert [c["release"] for c in data["campaigns"]] == [GOOD, BAD]
    assert data["uptane"]["client_runs"] > 60 and data["uptane"]["vehicles_per_second"] > 0
    assert sum(data["uptane"]["outcomes"].values()) == data["uptane"]["offers"]


def test_cli_refuses_an_unknown_client() -> None:
    with pytest.raises(FleetError, match="--client must be 'simulated' or 'uptane'"):
        CliRunner().invoke(_app(), ["fleet", "simulate", "--client", "mqtt", "--vehicles", "5"],
                           catch_exceptions=False)


def test_questions_about_vehicles_never_offered_are_clear_errors(link: UptaneLink) -> None:
    with pytest.raises(OtaError, match="has not delivered anything yet"):
        link.service  # noqa: B018 (the property raises)
    _deliver(link, FailureModel(postpone=0, offline=0), [1])
    with pytest.raises(OtaError, match="vehicle 99 was never offered"):
        link.installed(99)
    with pytest.raises(OtaError, match="no simulated ECU 'adas'"):
        link.slots(1, "adas")
    with pytest.raises(OtaError, match="never delivered"):
        link.image("adas-high-2.5.0")


def test_the_shared_clock_follows_the_offers_forward_only(link: UptaneLink) -> None:
    assert link.clock() < NOW  # nothing reads the system clock before the first offer sets the time
    _deliver(link, FailureModel(postpone=0, offline=0), [1])
    assert link.clock() == NOW
    with pytest.raises(FleetError, match="is before the link's last one"):
        _deliver(link, FailureModel(postpone=0, offline=0), [1], now=NOW - timedelta(minutes=1))
    assert link.clock() == NOW and link.offers == 1  # the refused offer changed nothing
    _deliver(link, FailureModel(postpone=0, offline=0), [2], now=NOW + timedelta(hours=1))
    assert link.clock() == NOW + timedelta(hours=1)
