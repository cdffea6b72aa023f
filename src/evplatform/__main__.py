"""`python -m evplatform` runs the CLI."""

from evplatform.cli.main import run

run()
