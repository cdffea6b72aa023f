"""`evplatform campaign …`: plan, create and start campaigns (``cli.campaign_create``).

The group only; its commands live in their own modules, each adding itself with ``add_to(app)``.
"""

from __future__ import annotations

import typer

from evplatform.cli import campaign_create

campaign_app = typer.Typer(help="Campaigns: plan, dry run, create, start, copy a past one.", no_args_is_help=True)
campaign_create.add_to(campaign_app)


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
