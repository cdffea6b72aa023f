"""kill -9 in the middle of a campaign: after a restart it goes on where it was, nobody counted twice or lost.

A real subprocess drives the campaign with a deliberately slow vehicle link; the test kills it
with SIGKILL once some vehicles have reported, then runs the controller again to the end and
checks the database against itself and against an uninterrupted run of the same scenario.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sqlalchemy import func, select

from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import WavePolicy
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store.schema import CampaignVehicle, UpdateReport, Vehicle
from fleet_support import T0, approve

FAILURES = FailureModel(download_interruption=0.05, install_failure=0.01, power_loss=0.005, postpone=0.1, offline=0.05)
WAVES = tuple(WavePolicy(fraction, error_threshold=0.2) for fraction in (0.05, 0.3, 1.0))

DRIVER = textwrap.dedent(
    """
    import sys, time
    from evplatform.fleet import campaigns as fc
    from evplatform.fleet.link import FailureModel, SimulatedLink
    from evplatform.store import open_store

    class SlowLink(SimulatedLink):
        def deliver(self, *args, **kwargs):
            time.sleep(0.05)
            return super().deliver(*args, **kwargs)

    store = open_store(sys.argv[1])
    failures = FailureModel(0.05, 0.01, 0.005, 0.1, 0.05)
    link = SlowLink(11, failures)

    def slowly(now, result):
        time.sleep(0.05)

    fc.run_campaign(store, int(sys.argv[2]), link, on_tick=slowly)
    """
)


def start(store: Store) -> int:
    approve(store, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(store, name="crash", release_id="hub-os-1.7.0", waves=WAVES, now=T0)
    fc.start_campaign(store, cid, now=T0)
    return cid


def reports(store: Store, cid: int) -> dict[int, str]:
    with store.session() as session:
        rows = session.execute(
            select(UpdateReport.vehicle_id, UpdateReport.outcome).where(UpdateReport.campaign_id == cid)
        )
        return {int(v): str(o) for v, o in rows}


def test_sigkill_mid_campaign_then_resume(fleet: Store, db_url: str) -> None:
    cid = start(fleet)
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, db_url, str(cid)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            done = len(reports(fleet, cid))
            if done >= 60:
                break
            if driver.poll() is not None:
                pytest.fail(f"the driver ended before it was killed: {driver.stderr.read() if driver.stderr else ''}")
            time.sleep(0.02)
        else:
            pytest.fail("no reports within 60 s")
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
    finally:
        if driver.poll() is None:
            driver.kill()
        if driver.stderr:
            driver.stderr.close()
    assert driver.returncode == -signal.SIGKILL
    before = reports(fleet, cid)
    interrupted = cdb.campaign(fleet, cid)
    assert interrupted.state == "running" and 0 < len(before) < 520

    final = fc.run_campaign(fleet, cid, SimulatedLink(11, FAILURES))  # the restart
    assert final.state == "completed"
    after = reports(fleet, cid)
    assert all(after[v] == o for v, o in before.items())  # nothing reported before was changed or lost

    with fleet.session() as session:
        states = dict(session.execute(
            select(CampaignVehicle.vehicle_id, CampaignVehicle.state).where(CampaignVehicle.campaign_id == cid)
        ).tuples().all())
        updated = session.scalar(
            select(func.count()).select_from(Vehicle).where(
                Vehicle.software[("central-compute", "version")].as_string() == "1.7.0"
            )
        )
    # every report is reflected once in the vehicle's campaign state, and only there
    assert {v: s for v, s in states.items() if s in cdb.FINAL_OUTCOMES} == after
    assert updated == sum(1 for o in after.values() if o == "succeeded")

    # the same vehicles answer the same way as in a run that was never interrupted
    reference = SimulatedLink(11, FAILURES)
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    ids = np.array(sorted(after), dtype=np.int64)
    answers = reference.deliver(release, ids, np.full(len(ids), "", dtype=object), forced=True, now=T0)
    expected = {int(v): str(o) for v, o in zip(ids, answers.outcomes, strict=True) if o in cdb.FINAL_OUTCOMES}
    assert {v: o for v, o in after.items() if v in expected} == expected
