"""Who a CLI write is recorded as in the audit log: ``--as NAME``, else ``$EVPLATFORM_ACTOR``, else ``cli``.

The CLI has no sign-in of its own: it opens the database directly, so whoever runs it can already
do anything the store allows and a name given here is a label for the audit log, not a
credential. It still says who: give your account name (``--as ada``) or export
``EVPLATFORM_ACTOR=ada`` once for a shell.
"""

from __future__ import annotations

from typing import Annotated

import typer

#: The environment variable that gives the default of ``--as``.
ACTOR_ENV = "EVPLATFORM_ACTOR"
#: What the audit log records when neither ``--as`` nor the environment names anyone.
DEFAULT_ACTOR = "cli"
#: The audit log's actor column holds 128 characters.
ACTOR_LENGTH = 128


def _check(value: str) -> str:
    text = value.strip()
    if not text or len(text) > ACTOR_LENGTH or not text.isprintable():
        raise typer.BadParameter(f"a name of 1 to {ACTOR_LENGTH} printable characters, not {value[:40]!r}")
    return text


ActorOpt = Annotated[
    str,
    typer.Option("--as", envvar=ACTOR_ENV, callback=_check, show_default=True,
                 help=f"Who does it, as recorded in the audit log (default: ${ACTOR_ENV}, else "
                      f"'{DEFAULT_ACTOR}'). Give your account name; the CLI writes the database directly, so "
                      "this is a label, not a sign-in."),
]
