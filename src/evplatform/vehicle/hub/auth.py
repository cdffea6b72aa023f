"""Kuksa-format authorization for the hub's vehicle API: RS256 JWTs whose ``scope`` claim grants
actions on VSS paths.

The format is Eclipse Kuksa databroker's: a bearer token (``authorization: Bearer <JWT>``) signed
RS256, audience ``kuksa.val``, with a space-separated ``scope`` claim of ``<action>[:<path>]``
entries. Actions are ``read``, ``actuate`` (includes read) and ``provide`` (includes read); a path
that names a branch covers everything below it, and ``*`` matches exactly one level
(``actuate:Vehicle.Body.*`` covers ``Vehicle.Body.Horn.IsActive``). An action without a path covers
every signal.

Stricter than Kuksa on purpose: a scope whose path matches no signal the hub can carry makes the
whole token invalid (a typo would otherwise silently grant nothing), and no token, whatever it
says, lets an app actuate steering, braking, propulsion or driver assistance
(:func:`evplatform.vehicle.hub.vss.is_motion_control`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from evplatform.errors import VehicleError

logger = logging.getLogger(__name__)

AUDIENCE = "kuksa.val"
ISSUER = "evplatform"
ALGORITHM = "RS256"
ACTIONS: tuple[str, ...] = ("read", "actuate", "provide")
#: What each granted action also allows (Kuksa: actuate and provide include read).
IMPLIES: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "actuate": frozenset({"read", "actuate"}),
    "provide": frozenset({"read", "provide"}),
}
MAX_TOKEN_CHARS = 8192
MAX_SCOPES = 256
MAX_LIFETIME_S = 366 * 24 * 3600
RSA_BITS = 3072


class AuthError(VehicleError):
    """A token the hub refuses: ``status`` is the gRPC status name Kuksa answers with."""

    def __init__(self, message: str, status: str = "UNAUTHENTICATED") -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Scope:
    """One ``action[:path-glob]`` entry of a token."""

    action: str
    pattern: tuple[str, ...] | None  # None: every signal

    def covers(self, path: str) -> bool:
        """True when the glob equals ``path`` or one of its branches (``*`` = one level)."""
        if self.pattern is None:
            return True
        parts = path.split(".")
        if len(self.pattern) > len(parts):
            return False
        return all(p == "*" or p == q for p, q in zip(self.pattern, parts, strict=False))

    def __str__(self) -> str:
        return self.action if self.pattern is None else f"{self.action}:{'.'.join(self.pattern)}"


def parse_scopes(text: str, catalogue: Iterable[str]) -> tuple[Scope, ...]:
    """The scopes of a ``scope`` claim, each checked: a known action and a path matching a signal."""
    entries = text.split()
    if not entries:
        raise AuthError("the token grants no scope")
    if len(entries) > MAX_SCOPES:
        raise AuthError(f"the token has {len(entries)} scopes; at most {MAX_SCOPES}")
    paths = list(catalogue)
    scopes = []
    for entry in entries:
        action, _, path = entry.partition(":")
        if action not in ACTIONS:
            raise AuthError(f"scope {entry!r}: unknown action {action!r} (actions: {', '.join(ACTIONS)})")
        if not path:
            scopes.append(Scope(action, None))
            continue
        parts = tuple(path.split("."))
        if any(not p for p in parts):
            raise AuthError(f"scope {entry!r}: empty path segment")
        scope = Scope(action, parts)
        if not any(scope.covers(p) for p in paths):
            raise AuthError(f"scope {entry!r}: {path!r} matches no VSS signal the hub carries")
        scopes.append(scope)
    return tuple(scopes)


@dataclass(frozen=True)
class Grant:
    """A verified token: who holds it, what it allows, until when (server clock, Unix seconds)."""

    subject: str
    scopes: tuple[Scope, ...]
    expires_at: float

    def allows(self, action: str, path: str) -> bool:
        """True when some scope grants ``action`` (directly or implied) on ``path``."""
        return any(action in IMPLIES[s.action] and s.covers(path) for s in self.scopes)


def generate_key(private_path: Path, public_path: Path) -> None:
    """Write a new RSA key pair (PEM): the private key (mode 0600) signs tokens, the hub holds the public one.

    Refuses to overwrite an existing private key: rotating a key invalidates every token it signed.
    """
    if private_path.exists():
        raise VehicleError(f"{private_path}: exists; refusing to overwrite a signing key")
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(public_pem)


def mint_token(private_pem: bytes, subject: str, scopes: Iterable[str], catalogue: Iterable[str],
               lifetime_s: int = 24 * 3600, now: float | None = None) -> str:
    """A Kuksa-format token for app ``subject``; the scopes are checked as the hub will check them."""
    if not subject or len(subject) > 128:
        raise VehicleError("the app id must be 1 to 128 characters")
    if not 0 < lifetime_s <= MAX_LIFETIME_S:
        raise VehicleError(f"token lifetime must be 1 s to {MAX_LIFETIME_S} s, got {lifetime_s}")
    text = " ".join(scopes)
    parse_scopes(text, catalogue)
    issued = int(time.time() if now is None else now)
    claims = {"sub": subject, "iss": ISSUER, "aud": [AUDIENCE], "iat": issued, "exp": issued + lifetime_s,
              "scope": text}
    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise VehicleError(f"not an unencrypted PEM private key: {exc}") from None
    return jwt.encode(claims, key, algorithm=ALGORITHM)  # type: ignore[arg-type]


class TokenVerifier:
    """Checks bearer tokens against the hub's public key; remembers tokens already verified."""

    def __init__(self, public_pem: bytes, catalogue: Iterable[str]) -> None:
        try:
            self._key = serialization.load_pem_public_key(public_pem)
        except ValueError as exc:
            raise VehicleError(f"not a PEM public key: {exc}") from None
        if not isinstance(self._key, rsa.RSAPublicKey):
            raise VehicleError("the token verification key must be an RSA public key (RS256)")
        self._rsa: rsa.RSAPublicKey = self._key
        self._catalogue = tuple(catalogue)
        self._cache: dict[str, Grant] = {}

    def verify_header(self, header: str | None, now: float | None = None) -> Grant:
        """The grant of an ``authorization`` metadata value; AuthError (UNAUTHENTICATED) otherwise."""
        if not header:
            raise AuthError("no bearer token: send 'authorization: Bearer <JWT>'")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the authorization header must be 'Bearer <JWT>'")
        return self.verify(token.strip(), now)

    def verify(self, token: str, now: float | None = None) -> Grant:
        """Check signature (RS256 only), audience, expiry and scopes; the expiry on every call."""
        clock = time.time() if now is None else now
        cached = self._cache.get(token)
        if cached is not None:
            if clock >= cached.expires_at:
                del self._cache[token]
                raise AuthError("the token has expired")
            return cached
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError(f"the token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            claims = jwt.decode(token, self._rsa, algorithms=[ALGORITHM], audience=AUDIENCE,
                                options={"require": ["exp", "sub", "scope"], "verify_iat": False},
                                leeway=0)
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.InvalidSignatureError:
            raise AuthError("the token's signature does not verify with the hub's key") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        if not isinstance(claims.get("scope"), str) or not isinstance(claims.get("sub"), str):
            raise AuthError("invalid token: 'scope' and 'sub' must be strings")
        if clock >= float(claims["exp"]):
            raise AuthError("the token has expired")
        grant = Grant(claims["sub"], parse_scopes(claims["scope"], self._catalogue), float(claims["exp"]))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = grant
        logger.debug("token of %s verified: %s", grant.subject, " ".join(map(str, grant.scopes)))
        return grant
