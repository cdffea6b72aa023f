"""Runs one flamapy 2.6.0 operation inside flamapy's own virtualenv and prints JSON on stdout.

flamapy is GPL-3.0: it never enters the project's environment. ``_variability_flamapy.py``
creates its virtualenv and starts this script there once per (model, operation), under a time
and memory limit, so a crash or an out-of-memory run costs only that measurement.

Request (stdin): ``{"path": str, "op": str, "t": int}``. Response: ``{"op", "result",
"load_seconds", "seconds", "peak_mb"}`` where ``seconds`` includes the load, as a user waits.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _read(path: str) -> Any:
    if path.endswith(".uvl"):
        from flamapy.metamodels.fm_metamodel.transformations import UVLReader

        return UVLReader(path).transform()
    if path.endswith(".xml"):
        # flamapy maps '.xml' to its FaMa-XML reader; FeatureIDE files need the 'fide' reader.
        from flamapy.metamodels.fm_metamodel.transformations import FeatureIDEReader

        return FeatureIDEReader(path).transform()
    raise SystemExit(f"unsupported file for the flamapy runner: {path}")


def _sat(fm: Any) -> Any:
    from flamapy.metamodels.pysat_metamodel.transformations import FmToPysat

    return FmToPysat(fm).transform()


def _names(items: Any) -> list[str]:
    return sorted(getattr(item, "name", item) for item in items)


def _run(op: str, fm: Any, t: int) -> Any:
    if op == "load":
        return len(fm.get_features())
    if op == "valid":
        from flamapy.metamodels.pysat_metamodel.operations import PySATSatisfiable

        return bool(PySATSatisfiable().execute(_sat(fm)).get_result())
    if op in ("core", "dead", "core+dead"):
        from flamapy.metamodels.pysat_metamodel.operations import PySATCoreFeatures, PySATDeadFeatures

        sat = _sat(fm)
        out: dict[str, list[str]] = {}
        if op in ("core", "core+dead"):
            out["core"] = _names(PySATCoreFeatures().execute(sat).get_result())
        if op in ("dead", "core+dead"):
            out["dead"] = _names(PySATDeadFeatures().execute(sat).get_result())
        return out if op == "core+dead" else out[op]
    if op == "core+dead+false-optional":
        return {**_run("core+dead", fm, t), "false-optional": _run("false-optional", fm, t)}
    if op == "false-optional":
        from flamapy.metamodels.pysat_metamodel.operations import PySATFalseOptionalFeatures

        return _names(PySATFalseOptionalFeatures().execute(_sat(fm)).get_result())
    if op == "atomic-sets":
        from flamapy.metamodels.fm_metamodel.operations import FMAtomicSets

        return sorted(_names(group) for group in FMAtomicSets().execute(fm).get_result())
    if op == "count":
        from flamapy.metamodels.bdd_metamodel.operations import BDDConfigurationsNumber
        from flamapy.metamodels.bdd_metamodel.transformations import FmToBDD

        return str(BDDConfigurationsNumber().execute(FmToBDD(fm).transform()).get_result())
    if op == "pairwise":
        from flamapy.metamodels.pysat_metamodel.operations.pysat_twise_sampling import PySATTWiseSampling

        sample = PySATTWiseSampling(t).execute(_sat(fm)).get_result()
        return {"configurations": len(sample)}
    if op == "small-suite":  # every comparable answer from one load, for the correctness test
        return {name: _run(name, fm, t) for name in ("valid", "core+dead", "false-optional", "atomic-sets", "count")}
    raise SystemExit(f"unknown operation for the flamapy runner: {op}")


def main() -> None:
    request = json.load(sys.stdin)
    start = time.perf_counter()
    fm = _read(request["path"])
    loaded = time.perf_counter()
    result = _run(request["op"], fm, int(request.get("t", 2)))
    end = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"op": request["op"], "result": result, "load_seconds": loaded - start,
               "seconds": end - start, "peak_mb": peak_mb}, sys.stdout)


if __name__ == "__main__":
    main()
