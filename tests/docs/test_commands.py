"""The commands the README and docs/ show keep working.

Every ``evplatform …`` line of a code block in README.md and docs/*.md, and every inline
```evplatform …``` of their text, must name a real command path with options that command has
(``a|b`` alternatives each); each distinct path's ``--help`` must answer; and the cheap commands
shown (on the bundled demo, no files, no database) are run and must succeed. A renamed option or
command fails here with the page that still shows the old one.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
import pytest
import typer
from click.testing import CliRunner

from evplatform.cli.main import app
from evplatform.cli.ota_release import PublishByDefault

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: Lines of shown output that begin with the program's name but are not commands.
OUTPUT_LINES = ("evplatform dashboard at ",)
#: Shown commands cheap enough to run on every test run (demo workspace, no files, no database).
RUN = (
    "evplatform check",
    "evplatform kpi",
    "evplatform comply --date 2027-03-01",
    "evplatform hub aeb",
    "evplatform apps check",
)


@dataclass(frozen=True)
class Shown:
    page: str
    line: str
    inline: bool = False  # in the text, where naming a command group (`evplatform fleet`) is fine


def _code_lines(text: str) -> list[str]:
    """Lines inside fenced code blocks, with ``\\`` continuations and indented continuations joined."""
    lines: list[str] = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S):
        for raw in block.splitlines():
            if lines and (lines[-1].endswith("\\") or (raw.startswith("      ") and raw.strip().startswith("--"))):
                lines[-1] = lines[-1].rstrip("\\").rstrip() + " " + raw.strip()
            else:
                lines.append(raw)
    return lines


def _alternatives(line: str) -> list[str]:
    """``hub faults|aeb|alks --json`` → one line per alternative (only the first ``a|b`` word)."""
    words = line.split(" ")
    for i, word in enumerate(words):
        if "|" in word and not word.startswith(("[", "'", '"')):
            return [" ".join([*words[:i], choice, *words[i + 1:]]) for choice in word.split("|")]
    return [line]


def shown_commands() -> list[Shown]:
    found: list[Shown] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        name = str(page.relative_to(ROOT))
        for line in _code_lines(text):
            command = re.sub(r"\s+#.*$", "", line.strip().removeprefix("$ ")).strip()
            if command.startswith("evplatform ") and not command.startswith(OUTPUT_LINES):
                found.append(Shown(name, command))
        prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        for span in re.findall(r"`(evplatform [^`]+)`", prose):
            if span.strip() != "evplatform …":
                found += [Shown(name, alternative, inline=True) for alternative in _alternatives(span.strip())]
    return found


@cache
def _cli() -> click.Command:
    """The full application once (building it takes a while; every test here reads it)."""
    return typer.main.get_command(app)


def _resolve(words: list[str]) -> tuple[list[str], click.Command]:
    """The command path the words name (subcommands walked while they match) and its command."""
    command = _cli()
    path: list[str] = []
    context = click.Context(command)
    for word in words:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(context, word)
        if sub is None and isinstance(command, PublishByDefault):  # `ota release MANIFEST` is `… publish MANIFEST`
            command = command.commands["publish"]
            path = [*path, "publish"]
            break
        if sub is None:
            break
        command, path = sub, [*path, word]
        context = click.Context(command, parent=context)
    return path, command


def _options(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


def test_the_pages_show_commands() -> None:
    pages = {s.page for s in shown_commands()}
    assert len(shown_commands()) > 40
    assert {"README.md", "docs/feature-models.md", "docs/ota.md", "docs/fleet.md", "docs/insights.md"} <= pages


def test_every_shown_command_and_option_exists() -> None:
    wrong: list[str] = []
    for shown in shown_commands():
        words = shlex.split(shown.line)[1:]
        path, command = _resolve(words)
        group_only = isinstance(command, click.Group) and not command.invoke_without_command
        if not path or (group_only and not (shown.inline and len(path) == len(words))):
            wrong.append(f"{shown.page}: {shown.line!r}: no such command")
            continue
        options = {w.strip("[]").split("=", 1)[0] for w in words if w.strip("[]").startswith("--")}
        unknown = sorted(options - _options(command))
        if unknown:
            wrong.append(f"{shown.page}: {shown.line!r}: `evplatform {' '.join(path)}` has no {unknown}")
    assert not wrong, "\n".join(wrong)


def test_help_of_every_shown_command_path() -> None:
    paths = sorted({tuple(_resolve(shlex.split(s.line)[1:])[0]) for s in shown_commands()})
    assert len(paths) > 30
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(_cli(), [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output, path


@pytest.mark.parametrize("line", RUN)
def test_cheap_shown_commands_run_on_the_demo(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = {s.line for s in shown_commands() if not s.inline}
    assert line in shown, f"{line!r} is no longer shown in the docs: update RUN"
    monkeypatch.chdir(tmp_path)  # nothing the command might write lands in the repository
    result = CliRunner().invoke(_cli(), shlex.split(line)[1:], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.strip()
