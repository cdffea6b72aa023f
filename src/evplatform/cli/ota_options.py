"""Options and key handling shared by the ``ota`` command modules (cli/ota.py, cli/ota_release.py).

Both modules import this one and neither imports the other's options, so there is no import
cycle between them. Offline keys are decrypted with the passphrase read from the environment
variable named by ``--passphrase-env`` (never from the command line, where it would land in the
shell history and the process list). Plaintext offline keys are refused unless
``--insecure-demo-keys`` is given (``make run`` does; see docs/ota-key-ceremony.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from evplatform.errors import OtaError
from evplatform.ota.keys import KeyRing

DEFAULT_ROOT = Path(".evplatform/ota")
RootOpt = Annotated[Path, typer.Option("--root", help="OTA folder (Image repository, Director, images).")]
KeysOpt = Annotated[Path | None, typer.Option("--keys", help="Key directory (default: <root>/keys).")]
PassphraseEnvOpt = Annotated[
    str | None,
    typer.Option("--passphrase-env", help="Name of the environment variable holding the offline keys' passphrase."),
]

InsecureDemoKeysOpt = Annotated[
    bool,
    typer.Option("--insecure-demo-keys",
                 help="Allow unencrypted offline keys, also inside the server's folder: a throw-away demo only."),
]


def passphrase_from_env(variable: str | None) -> str | None:
    """The passphrase in ``$variable``; OtaError if the variable is named but unset or empty."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise OtaError(f"environment variable {variable} is not set (it should hold the key passphrase)")
    return value


def keys_dir_of(root: Path, keys: Path | None) -> Path:
    return keys if keys is not None else root / "keys"


def keyring_of(root: Path, keys: Path | None, passphrase_env: str | None, insecure_demo_keys: bool = False) -> KeyRing:
    return KeyRing(keys_dir_of(root, keys), passphrase_from_env(passphrase_env), insecure_demo_keys=insecure_demo_keys)
