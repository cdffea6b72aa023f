"""OAuth 2.0 client credentials for data recipients (Authlib), and the consent check of every read.

A recipient authenticates at the token endpoint with its client id and secret (HTTP Basic,
``client_secret_basic``) and gets a bearer token whose scopes are data
categories. A scope is necessary, never sufficient: each read names a VIN and a category and is
admitted only while the vehicle's owner has a live consent for that recipient, VIN and category.
The consent is read from the database on every call (``store.dataact.live_categories``) — no
cache, so a revocation refuses the very next read.

Authlib has no Starlette server integration; ``RecipientServer`` implements the few methods a
framework integration supplies (request in, ``(status, body, headers)`` out), so this module
stays free of HTTP framework code.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.resource_protector import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator

from evplatform.dataact import ConsentRefused, InvalidClient
from evplatform.store import Store
from evplatform.store import dataact as db
from evplatform.store.accounts import token_digest

logger = logging.getLogger(__name__)

#: Lifetime of an access token (short: a disabled recipient's tokens die soon anyway; consent is live).
TOKEN_LIFETIME = timedelta(hours=1)
GRANT_TYPE = "client_credentials"


class RecipientClient(ClientMixin):
    """A registered data recipient as Authlib's client: confidential, client credentials only."""

    def __init__(self, info: db.RecipientInfo, scopes: tuple[str, ...]) -> None:
        self.info = info
        self.scopes = scopes

    def get_client_id(self) -> str:
        return self.info.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this server knows (every category; consent decides per vehicle)."""
        asked = (scope or "").split()
        return " ".join(s for s in dict.fromkeys(asked) if s in self.scopes) if asked else " ".join(self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(token_digest(client_secret), self.info.secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


class _Grant(ClientCredentialsGrant):
    """HTTP Basic only (RFC 6749 §2.3.1: servers MUST support it; secrets in the form are NOT
    RECOMMENDED) — and the server admits no body before an Authorization header anyway."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]  # noqa: RUF012 (Authlib's API)


class _Caseless(dict[str, str]):
    """HTTP headers whatever the case the server or Authlib spells them in."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in headers.items())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class _FormRequest(OAuth2Request):
    """A token request whose form was already parsed by the HTTP layer."""

    def __init__(self, method: str, uri: str, headers: _Caseless, form: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class RecipientServer(AuthorizationServer):
    """Authlib's authorization server bound to the store; ``scopes`` are the data categories."""

    def __init__(self, store: Store, scopes: tuple[str, ...]) -> None:
        super().__init__(scopes_supported=list(scopes))
        self.store = store
        self.scopes = scopes
        self.register_grant(_Grant)
        self.register_token_generator("default", BearerTokenGenerator(
            lambda **_: secrets.token_urlsafe(32), expires_generator=lambda *_: int(TOKEN_LIFETIME.total_seconds())))

    def query_client(self, client_id: str) -> RecipientClient | None:
        info = db.recipient(self.store, client_id)
        return None if info is None or info.disabled else RecipientClient(info, self.scopes)

    def save_token(self, token: Mapping[str, Any], request: OAuth2Request) -> None:
        client: RecipientClient = request.client
        db.save_access_token(self.store, str(token["access_token"]), client.info.id, str(token.get("scope", "")),
                             self.store.now() + timedelta(seconds=int(token["expires_in"])))
        logger.info("issued a token to %s for %s", client.info.client_id, token.get("scope", ""))

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        method, uri, headers, form = request
        return _FormRequest(method, uri, _Caseless(headers), dict(form))

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def token_response(store: Store, scopes: tuple[str, ...], method: str, uri: str, headers: Mapping[str, str],
                   form: Mapping[str, str]) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    """Answer a token request: ``(status, RFC 6749 JSON body, headers)``."""
    server = RecipientServer(store, scopes)
    status, body, out_headers = server.create_token_response((method, uri, dict(headers), dict(form)))
    return int(status), dict(body), out_headers


# --- the resource side -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token(TokenMixin):
    info: db.AccessTokenInfo
    now: datetime

    def check_client(self, client: Any) -> bool:
        return bool(client.get_client_id() == self.info.client_id)

    def get_scope(self) -> str:
        return self.info.scope

    def get_expires_in(self) -> int:
        return int((self.info.expires_at - self.info.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.info.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.info.disabled


class _Validator(BearerTokenValidator):
    """Looks the token up; with a VIN, reads the live consent for it in the same transaction."""

    def __init__(self, store: Store, now: datetime, vin: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.now = now
        self.vin = vin
        self.consent: db.ConsentedToken | None = None

    def authenticate_token(self, token_string: str) -> _Token | None:
        if self.vin is None:
            info = db.access_token(self.store, token_string)
            return None if info is None else _Token(info, self.now)
        self.consent = db.token_and_consent(self.store, token_string, self.vin, self.now)
        return None if self.consent is None else _Token(self.consent.token, self.now)


@dataclass(frozen=True, slots=True)
class _Headers:
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Reader:
    """A recipient admitted to read one category of one vehicle."""

    recipient_id: int
    client_id: str
    vehicle_id: int


def authorize_read(store: Store, authorization: str | None, vin: str, category: str) -> Reader:
    """Check the bearer token (Authlib), its scope and the owner's live consent; log refusals.

    InvalidClient (401) for a missing, unknown or expired token; ConsentRefused (403) for a scope
    the token lacks or no live consent for this VIN and category (revoked, expired, never given).
    """
    now = store.now()
    protector = ResourceProtector()
    validator = _Validator(store, now, vin)
    protector.register_token_validator(validator)
    try:
        token: _Token = protector.validate_request([category], _Headers({"Authorization": authorization or ""}))
    except OAuth2Error as error:
        if error.error == "insufficient_scope":
            raise ConsentRefused(f"the access token has no scope {category!r}") from None
        raise InvalidClient(f"access token refused: {error.error}") from None
    consent = validator.consent
    if consent is None or consent.vehicle_id is None or category not in consent.live:
        if consent is not None and consent.vehicle_id is not None:
            db.log_access(store, vin, f"recipient:{token.info.client_id}", "refused", [category],
                          {"reason": "no live consent"})
        raise ConsentRefused(f"no live consent of the owner of {vin} for {category!r}")
    return Reader(token.info.recipient_id, token.info.client_id, consent.vehicle_id)


def authenticate(store: Store, authorization: str | None) -> db.AccessTokenInfo:
    """The recipient behind a live access token (any scope), else InvalidClient (401)."""
    protector = ResourceProtector()
    protector.register_token_validator(_Validator(store, store.now()))
    try:
        token: _Token = protector.validate_request(None, _Headers({"Authorization": authorization or ""}))
    except OAuth2Error as error:
        raise InvalidClient(f"access token refused: {error.error}") from None
    return token.info
