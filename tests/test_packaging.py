"""The built wheel, installed on its own, is a working ``evplatform`` (demo workspace, data files, entry point).

The package is built from a copy of the source taken into a temporary folder (so the build
writes nothing into the checkout and sees only what a source distribution would carry), the
wheel goes into a new virtual environment, and the commands run through that environment's
``evplatform`` console script from another directory. The environment gets the dependencies
from the running interpreter's site-packages through a ``.pth`` line that comes after its own
site-packages, so no network is needed and the evplatform that runs is the wheel's, never the
source tree or an editable install (checked).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import evplatform

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FILES = ("pyproject.toml", "README.md")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    bin: Path
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / "evplatform"), *args], capture_output=True, text=True, cwd=self.cwd,
                              env=self.env, timeout=timeout)


def _copy_source(destination: Path) -> Path:
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, destination / name)
    shutil.copytree(ROOT / "src", destination / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return destination


def _clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH (which points tests at the source tree)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=_clean_env(),
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    (base / "source").mkdir()
    source = _copy_source(base / "source")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(base / "wheel"), str(source))
    wheel = next((base / "wheel").glob("evplatform-*.whl"))
    venv = base / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    _pip("--python", str(bin_dir / "python"), "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
         str(wheel))
    venv_site = Path(subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (venv_site / "zz_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(deps)), encoding="utf-8")
    return Installed(wheel, venv, bin_dir, _clean_env(), base)


def test_wheel_carries_the_package_data(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
    assert "evplatform/demo/modena/features.uvl" in names
    assert "evplatform/py.typed" in names
    assert any(n.startswith("evplatform/web/templates/") for n in names)
    assert any(n.startswith("evplatform/store/migrations/") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_the_installed_package_is_the_wheel(installed: Installed) -> None:
    where = subprocess.run([str(installed.bin / "python"), "-c", "import evplatform; print(evplatform.__file__)"],
                           capture_output=True, text=True, cwd=installed.cwd, env=installed.env, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout + where.stderr


def test_version_of_the_installed_command(installed: Installed) -> None:
    result = installed.run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"evplatform {evplatform.__version__}"
    assert installed.wheel.name.startswith(f"evplatform-{evplatform.__version__}-")


def test_installed_command_checks_the_demo(installed: Installed) -> None:
    result = installed.run("check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["configurations"]
    assert Path(report["workspace"]).is_relative_to(installed.venv)  # the demo shipped in the wheel


def test_installed_command_computes_kpis(installed: Installed) -> None:
    result = installed.run("kpi", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["models"]) == 3
