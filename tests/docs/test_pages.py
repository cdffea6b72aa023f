"""The docs standard: the README is the front page, the manual lives in docs/, and every link resolves.

The README says what evplatform is, shows the two commands and a picture, and links every page of
docs/; the pages hold the manual. A merge that brings manual content (a route's row, a long section)
back into the README fails here with where it belongs.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The front page's budget: what it is, the two commands, pictures and where to read next.
FRONT_PAGE_LINES = 120
IMAGE_BYTES = 300 * 1024
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
ROUTE_ROW = re.compile(r"^\|\s*`(GET|POST|PUT|DELETE|PATCH) /", re.M)


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _outside_code(text: str) -> str:
    """The text without fenced code blocks (a link-like string in a code sample is no link)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.*)$", _outside_code(page.read_text(encoding="utf-8")), re.M)}


def test_every_relative_link_and_image_resolves() -> None:
    broken: list[str] = []
    for page in _pages():
        for target in LINK.findall(_outside_code(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_readme_is_the_front_page() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= FRONT_PAGE_LINES, (
        f"README.md has {lines} lines (at most {FRONT_PAGE_LINES}): it is the front page — what evplatform is, "
        "`make run` and `make test`, a picture and where to read next; move the manual text into its docs/ page")
    assert "make run" in text and "make test" in text
    assert "## Where to read next" in text
    rows = ROUTE_ROW.findall(text)
    assert not rows, "the README has route-table rows: add the route's row to docs/api.md instead"


def test_readme_links_every_docs_page_and_the_project_records() -> None:
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in LINK.findall(README.read_text(encoding="utf-8"))}
    expected = {p.resolve() for p in DOCS.glob("*.md")} | {
        (DOCS / "adr" / "README.md").resolve(), (ROOT / "CHANGELOG.md").resolve(), (ROOT / "BENCHMARKS.md").resolve()}
    missing = sorted(str(p.relative_to(ROOT)) for p in expected - linked)
    assert not missing, f"link these from the README's 'Where to read next': {missing}"


def test_the_readme_shows_real_pictures_of_a_reasonable_size() -> None:
    text = README.read_text(encoding="utf-8")
    images = [README.parent / t for t in re.findall(r"!\[[^\]]+\]\(([^)\s]+\.png)\)", text)]
    assert len(images) >= 1
    for image in images:
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
    too_big = [f"{p.relative_to(ROOT)}: {p.stat().st_size:,} bytes"
               for p in DOCS.rglob("*.png") if p.stat().st_size > IMAGE_BYTES]
    assert not too_big, too_big
