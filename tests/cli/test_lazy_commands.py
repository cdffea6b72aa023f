"""The console script's lazy group lists exactly the commands the full application has, and a
command imports only its own module (so `evplatform check` does not load SciPy, TUF or Dask)."""

from __future__ import annotations

import subprocess
import sys

import typer

from evplatform.cli import main


def test_the_lazy_table_names_every_command_of_the_full_app() -> None:
    built = typer.main.get_command(main.app)
    assert isinstance(built, typer.core.TyperGroup)
    assert sorted(built.commands) == sorted(main.COMMANDS)


def test_each_lazy_command_resolves_to_the_registered_one() -> None:
    for name in main.COMMANDS:
        command = main.cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name


def test_check_does_not_import_other_domains() -> None:
    probe = (
        "import sys; sys.argv = ['evplatform', 'check', '--json']\n"
        "from evplatform.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['evplatform', 'insights'], "
        "['evplatform', 'ota'], ['evplatform', 'fleet'], ['evplatform', 'api'])))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
