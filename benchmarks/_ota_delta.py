"""Delta images benchmark: bsdiff4, detools hdiffpatch, zstd prefix and xdelta3 on real binaries.

Pairs (consecutive releases of real software, downloaded once with ``pip download --no-deps``
into ``benchmarks/.cache/`` — git-ignored):

* ``numpy-core.so``: numpy 2.3.4 → 2.3.5, ``_multiarray_umath`` (10.8 MB shared library);
* ``pandas-groupby.so``: pandas 2.3.2 → 2.3.3, ``_libs/groupby`` (2.4 → 2.6 MB, heavily rebuilt);
* ``numpy-tree.tar``: the whole numpy wheel 2.3.4 → 2.3.5 unpacked and tarred deterministically
  (sorted names, mtime 0, mode 0644): a 59.6 MB package-tree image.

Anchor: bsdiff4, measured in the same run; size and create-time ratios are against it. Budgets
(issue 6): size ≤ 0.8 × bsdiff4's; create ≤ 10 s and apply ≤ 0.5 s on the big image. xdelta3 is a
CLI (Debian package ``xdelta3``, GPL, benchmark only, never a dependency): installed here with
apt-get when absent, skipped with the reason when that fails. ``run()`` returns the figures and
``table()`` renders them; ``benchmarks/ota.py`` calls both.

    .venv/bin/python benchmarks/_ota_delta.py            # every pair
    .venv/bin/python benchmarks/_ota_delta.py --small    # shared libraries only
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import detools

from evplatform.ota import delta as d

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "ota_delta"
RESULTS = HERE / "results" / "ota_delta.json"
WHEEL_TAGS = ["--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
              "--platform", "manylinux_2_27_x86_64", "--platform", "manylinux_2_17_x86_64",
              "--platform", "manylinux2014_x86_64"]
NUMPY = ("numpy", "2.3.4", "2.3.5")
PANDAS = ("pandas", "2.3.2", "2.3.3")
SIZE_BUDGET = 0.8
CREATE_BUDGET_S = 10.0
APPLY_BUDGET_S = 0.5


def _load() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


# --- inputs ---------------------------------------------------------------------------------------


def _wheel(name: str, version: str) -> Path:
    folder = CACHE / f"{name}-{version}"
    found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), *WHEEL_TAGS,
                    f"{name}=={version}"], check=True, timeout=900)
    return sorted(folder.glob("*.whl"))[0]


def _member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name)


def package_tree_image(wheel: Path) -> bytes:
    """The wheel's files as an uncompressed tar, byte-for-byte reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(wheel) as archive, tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            data = archive.read(info.filename)
            member = tarfile.TarInfo(info.filename)
            member.size, member.mtime, member.mode = len(data), 0, 0o644
            tar.addfile(member, io.BytesIO(data))
    return out.getvalue()


def pairs(small: bool) -> list[tuple[str, str, bytes, bytes]]:
    """(name, what, old, new) for each benchmark pair."""
    numpy_old, numpy_new = _wheel(*NUMPY[:2]), _wheel(NUMPY[0], NUMPY[2])
    pandas_old, pandas_new = _wheel(*PANDAS[:2]), _wheel(PANDAS[0], PANDAS[2])
    core = "_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
    groupby = "_libs/groupby.cpython-311-x86_64-linux-gnu.so"
    out = [
        ("numpy-core.so", f"numpy {NUMPY[1]} → {NUMPY[2]} _multiarray_umath", _member(numpy_old, core),
         _member(numpy_new, core)),
        ("pandas-groupby.so", f"pandas {PANDAS[1]} → {PANDAS[2]} _libs/groupby", _member(pandas_old, groupby),
         _member(pandas_new, groupby)),
    ]
    if not small:
        out.append(("numpy-tree.tar", f"numpy {NUMPY[1]} → {NUMPY[2]} wheel tree (tar)",
                    package_tree_image(numpy_old), package_tree_image(numpy_new)))
    return out


# --- tools ----------------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _cpu() -> float:
    """CPU seconds of this process and its finished children: what contention does not inflate."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measured(create: Callable[[], bytes], apply: Callable[[bytes], bytes], new: bytes) -> dict[str, Any]:
    """Wall and CPU seconds of create and apply; the round trip must give ``new`` back."""
    cpu = _cpu()
    patch, create_s = _timed(create)
    create_cpu = _cpu() - cpu
    cpu = _cpu()
    rebuilt, apply_s = _timed(lambda: apply(patch))
    apply_cpu = _cpu() - cpu
    assert rebuilt == new, "round trip failed"
    return {"size": len(patch), "create_s": create_s, "apply_s": apply_s, "create_cpu_s": create_cpu,
            "apply_cpu_s": apply_cpu}


def _library_tool(name: str, old: bytes, new: bytes) -> dict[str, Any]:
    """Create and apply with one of evplatform's encoders (no fallback), check the round trip."""
    return _measured(lambda: d.encode(old, new, name), lambda patch: d._APPLY[name](old, patch, len(new)), new)


def _detools_sequential(old: bytes, new: bytes) -> dict[str, Any]:
    def create() -> bytes:
        out = io.BytesIO()
        detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression="lzma", use_mmap=False)
        return out.getvalue()

    def apply(patch: bytes) -> bytes:
        out = io.BytesIO()
        detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), out)
        return out.getvalue()

    return _measured(create, apply, new)


def ensure_xdelta3() -> tuple[str | None, str]:
    """The xdelta3 binary, installing the Debian package when absent; (None, reason) otherwise."""
    found = shutil.which("xdelta3")
    if found:
        return found, "already installed"
    apt = shutil.which("apt-get")
    if apt is None:
        return None, "xdelta3 absent and no apt-get on this machine"
    try:
        subprocess.run([apt, "update"], check=True, capture_output=True, timeout=600)
        subprocess.run([apt, "install", "-y", "--no-install-recommends", "xdelta3"], check=True, capture_output=True,
                       timeout=600, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"apt-get install xdelta3 failed: {str(error).splitlines()[0]}"
    found = shutil.which("xdelta3")
    return (found, "installed with apt-get by this benchmark") if found else (None, "apt-get ran, no xdelta3 binary")


def _xdelta3(binary: str, old: bytes, new: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evplatform-xdelta-") as scratch:
        folder = Path(scratch)
        (folder / "old").write_bytes(old)
        (folder / "new").write_bytes(new)

        def create() -> bytes:
            subprocess.run([binary, "-e", "-9", "-f", "-s", "old", "new", "patch"], cwd=folder, check=True,
                           timeout=900)
            return (folder / "patch").read_bytes()

        def apply(_patch: bytes) -> bytes:
            subprocess.run([binary, "-d", "-f", "-s", "old", "patch", "rebuilt"], cwd=folder, check=True, timeout=900)
            return (folder / "rebuilt").read_bytes()

        return _measured(create, apply, new)


def measure_pair(name: str, what: str, old: bytes, new: bytes, xdelta3: str | None) -> dict[str, Any]:
    load_before = _load()
    full = d.compress_full(new)
    tools: dict[str, dict[str, Any]] = {}
    for tool in ("bsdiff4", "hdiffpatch-cdc", "hdiffpatch", "zstd-prefix"):
        tools[tool] = _library_tool(tool, old, new)
    if len(new) < 20_000_000:
        tools["detools-sequential"] = _detools_sequential(old, new)
    if xdelta3:
        tools["xdelta3"] = _xdelta3(xdelta3, old, new)
    anchor = tools["bsdiff4"]
    for figures in tools.values():
        figures["size_vs_bsdiff4"] = figures["size"] / anchor["size"]
        figures["create_vs_bsdiff4"] = figures["create_s"] / anchor["create_s"] if anchor["create_s"] else None
        figures["size_vs_full"] = figures["size"] / len(full)
    return {
        "pair": name, "what": what, "old_bytes": len(old), "new_bytes": len(new), "full_zstd_bytes": len(full),
        "load_before": load_before, "load_after": _load(), "tools": tools,
    }


def run(small: bool = False) -> dict[str, Any]:
    """Every pair through every tool; also writes benchmarks/results/ota_delta.json."""
    xdelta3, xdelta3_note = ensure_xdelta3()
    results = [measure_pair(*pair, xdelta3) for pair in pairs(small)]
    big = next((r for r in results if r["pair"] == "numpy-tree.tar"), None)
    chosen = d.DEFAULT_ALGORITHM
    verdict: dict[str, Any] = {
        "algorithm": chosen,
        "size_ok": all(r["tools"][chosen]["size_vs_bsdiff4"] <= SIZE_BUDGET for r in results),
    }
    if big is not None:
        verdict["create_s_big"] = big["tools"][chosen]["create_s"]
        verdict["apply_s_big"] = big["tools"][chosen]["apply_s"]
        verdict["create_cpu_s_big"] = big["tools"][chosen]["create_cpu_s"]
        verdict["apply_cpu_s_big"] = big["tools"][chosen]["apply_cpu_s"]
        verdict["create_ok"] = verdict["create_s_big"] <= CREATE_BUDGET_S
        verdict["apply_ok"] = verdict["apply_s_big"] <= APPLY_BUDGET_S
    report = {
        "benchmark": "ota_delta",
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "xdelta3": xdelta3_note,
        "pairs": results,
        "verdict": verdict,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def table(report: dict[str, Any]) -> str:
    """The figures as one Markdown table (a row per pair and tool)."""
    lines = [
        "| pair | old → new bytes | tool | patch bytes | × bsdiff4 | × full zstd | create s (CPU) | apply s (CPU) "
        "| load |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for pair in report["pairs"]:
        load = "/".join(f"{x:.1f}" for x in pair["load_before"][:1] + pair["load_after"][:1])
        for tool, f in pair["tools"].items():
            lines.append(
                f"| {pair['pair']} | {pair['old_bytes']:,} → {pair['new_bytes']:,} | {tool} | {f['size']:,} | "
                f"{f['size_vs_bsdiff4']:.2f} | {f['size_vs_full']:.2f} | {f['create_s']:.2f} ({f['create_cpu_s']:.2f}) "
                f"| {f['apply_s']:.3f} ({f['apply_cpu_s']:.3f}) | {load} |"
            )
    lines.append("")
    lines.append(f"xdelta3: {report['xdelta3']}. Full image = zstd level {d.FULL_LEVEL}. Times are wall clock, "
                 "CPU seconds of the process (and the xdelta3 child) in brackets. Load = 1-minute load average "
                 "before/after the pair.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="only the shared-library pairs")
    args = parser.parse_args()
    report = run(small=args.small)
    print(table(report))
    print(json.dumps(report["verdict"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
