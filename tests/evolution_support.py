"""A demo copy with known edits, and a temporary git repository holding its versions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from evplatform.workspace import demo_path

PRICE_FROM = 'MD-BOD-0010,"Body-in-white, sedan, gigacast rear",Body,9800.00'
PRICE_TO = 'MD-BOD-0010,"Body-in-white, sedan, gigacast rear",Body,10800.00'


def copy_demo(dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(demo_path(), dst)
    return dst


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def raise_body_price(ws: Path) -> None:
    """MD-BOD-0010 (every sedan) costs 1,000 CNY more."""
    replace(ws / "parts.csv", PRICE_FROM, PRICE_TO)


def add_feature(ws: Path) -> None:
    replace(ws / "features.uvl", "                    ISA {cost 90}\n",
            "                    ISA {cost 90}\n                    DashCam {cost 300}\n")


def invalidate_su7_standard(ws: Path) -> None:
    """su7/standard selects Pack_LFP_73 and Telematics4G: this constraint makes it invalid everywhere."""
    replace(ws / "features.uvl", "constraints\n", "constraints\n    Pack_LFP_73 => Telematics5G\n")


def drop_isa_in_eu(ws: Path) -> None:
    """ISA (required by EU-GSR2-ISA) is no longer selected in the EU."""
    replace(ws / "markets" / "EU.yaml", "LHD, ISA, DDAW", "LHD, DDAW")


def edited_demo(dst: Path) -> Path:
    ws = copy_demo(dst)
    raise_body_price(ws)
    add_feature(ws)
    invalidate_su7_standard(ws)
    drop_isa_in_eu(ws)
    return ws


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True,
                          check=True, timeout=60)
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo
