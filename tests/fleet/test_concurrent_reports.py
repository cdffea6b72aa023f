"""Two API workers reporting the same vehicles at the same moment: each vehicle still counts once."""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
from sqlalchemy import func, select

from evplatform.fleet import campaigns as fc
from evplatform.store import Store, open_store
from evplatform.store import campaigns as cdb
from evplatform.store import progress as pdb
from evplatform.store import vehicles as vdb
from evplatform.store.schema import Vehicle
from fleet_support import T0, approve


def test_racing_reports_count_once(fleet: Store, db_url: str) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="race", release_id="hub-os-1.7.0", forced=True, now=T0)
    fc.start_campaign(fleet, cid, now=T0)
    ids = vdb.vehicle_columns(fleet)["id"]
    stores = [open_store(db_url), open_store(db_url)]
    outcomes = [np.array(["succeeded"] * len(ids), dtype=object), np.array(["failed"] * len(ids), dtype=object)]
    barrier = threading.Barrier(2)
    counted = [0, 0]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            counted[k] = cdb.record_reports(stores[k], cid, ids, outcomes[k], at=T0 + timedelta(minutes=k))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.dispose()
    assert not errors, errors
    assert sum(counted) == len(ids) == 520
    reports = pdb.report_counts(fleet, cid)
    assert sum(reports.values()) == 520
    with fleet.session() as session:
        updated = session.scalar(select(func.count()).select_from(Vehicle).where(
            Vehicle.software[("central-compute", "version")].as_string() == "1.7.0"))
    assert updated == reports.get("succeeded", 0)
