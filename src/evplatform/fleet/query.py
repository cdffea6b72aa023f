"""Fleet filter queries: a small language to pick vehicles, parsed, then resolved against the fleet.

    model = "su7" and market in (EU) and version("adas") < "2.5" and last_seen < 7d

Grammar (``pyparsing``, already installed with matplotlib; keywords and field names are
case-insensitive)::

    query      := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not"* atom                  (a run of "not", so no recursion per "not")
    atom       := "(" or_expr ")" | comparison
    comparison := field op value | field ["not"] "in" "(" value ("," value)* ")"
    field      := name ["(" value ")"]         version("adas"), campaign(2), crashes(30d)
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"
    value      := "double" or 'single' quoted string | bare word (su7/max, 2.5.0, 7d, 2026-11-01)

``parse`` gives the syntax tree (every node knows its 1-based column, so each error names where
it is); ``resolve`` checks each comparison against what the fleet holds (``Catalogue``) and turns
it into an exact ``store.vehicle_query`` condition: ids matched case-insensitively (``SU7`` is
``su7``), a region expanded to its member markets (``EU`` → DE, FR, …: ``market_lineage``),
versions compared in version order (``2.10`` > ``2.9``), durations turned into instants on the
server's clock. The store compiles that condition to SQL (SQLite and PostgreSQL).

Bounds: a query is at most ``MAX_LENGTH`` characters and nests parentheses at most ``MAX_DEPTH``
deep (checked before parsing, so a hostile query costs no recursion), ``MAX_VALUES`` values per list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol, cast

import pyparsing as pp

from evplatform.errors import FleetError
from evplatform.ota.releases import version_key
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import vehicle_query as vq
from evplatform.store import vehicles as vdb
from evplatform.workspace.model import market_lineage
from evplatform.workspace.sources import did_you_mean

logger = logging.getLogger(__name__)

MAX_LENGTH = 1_000
MAX_DEPTH = 8
MAX_VALUES = 100
CAMPAIGN_STATES = ("pending", "offered", "succeeded", "failed", "rolled_back", "cancelled")
DURATION_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
DEFAULT_CRASH_WINDOW = "7d"


class QueryError(FleetError):
    """A fleet filter query that is malformed or names something the fleet does not have."""

    http_status = 422

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        self.reason = message
        super().__init__(f"query column {column}: {message}")


# -- syntax tree ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Value:
    text: str
    quoted: bool
    column: int


@dataclass(frozen=True, slots=True)
class Term:
    """``field[(arg)] op value`` or ``field [not] in (values)`` (op ``in`` / ``not in``)."""

    field: str
    arg: Value | None
    op: str
    values: tuple[Value, ...]
    column: int


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Node


Node = Term | And | Or | Not


def _column(text: str, loc: int) -> int:
    """1-based column of the first non-blank character at or after ``loc`` (parse actions may get the
    location before the whitespace pyparsing skipped)."""
    while loc < len(text) and text[loc].isspace():
        loc += 1
    return int(pp.col(loc, text))


@cache
def _grammar() -> pp.ParserElement:
    """The parser, built once (pyparsing elements are reusable; no global packrat switch)."""
    and_, or_, not_, in_ = (pp.CaselessKeyword(k) for k in ("and", "or", "not", "in"))
    keyword = and_ | or_ | not_ | in_
    name = pp.Word(pp.alphas, pp.alphanums + "_")
    bare = ~keyword + pp.Word(pp.alphanums + "_.-/:+*")
    quoted = (pp.QuotedString('"', esc_char="\\") | pp.QuotedString("'", esc_char="\\")).set_name("a value")

    def make_value(quoted_flag: bool) -> Callable[[str, int, pp.ParseResults], Value]:
        return lambda s, loc, t: Value(str(t[0]), quoted_flag, _column(s, loc))

    value = pp.MatchFirst([quoted.copy().set_parse_action(make_value(True)),
                           bare.set_parse_action(make_value(False))]).set_name("a value")
    lpar, rpar = pp.Suppress("("), pp.Suppress(")")
    field = pp.Group(name + pp.Optional(lpar + value + rpar)).set_name("a field name")
    op = pp.one_of("= != <= >= < > ~").set_name("an operator")
    values = pp.Group(lpar - pp.DelimitedList(value, min=1, max=MAX_VALUES) - rpar).set_name("(a list of values)")
    negated_in = pp.Group(pp.Optional(not_) + in_).set_name("in")
    tail = ((op - value) | (negated_in - values)).set_name("an operator (= != < <= > >= ~ in)")
    comparison = (field + tail).set_name("a comparison").set_parse_action(_term)
    expression = pp.Forward().set_name("a condition")
    atom = (comparison | (lpar - expression - rpar)).set_name("a condition")
    unary = (pp.ZeroOrMore(not_) + atom).set_parse_action(_negate)
    conjunction = (unary + pp.ZeroOrMore(and_.suppress() - unary)).set_parse_action(lambda t: _join(And, t))
    expression <<= (conjunction + pp.ZeroOrMore(or_.suppress() - conjunction)  # type: ignore[operator]
                    ).set_parse_action(lambda t: _join(Or, t))
    whole: pp.ParserElement = expression + pp.StringEnd().set_name("'and', 'or' or the end")
    return whole


def _term(text: str, loc: int, tokens: pp.ParseResults) -> Term:
    field_tokens = tokens[0]
    arg = field_tokens[1] if len(field_tokens) > 1 else None
    if isinstance(tokens[1], str):
        op, vals = tokens[1], (tokens[2],)
    else:
        op = "not in" if len(tokens[1]) == 2 else "in"
        vals = tuple(tokens[2])
    return Term(str(field_tokens[0]).lower(), arg, op, vals, _column(text, loc))


def _negate(tokens: pp.ParseResults) -> Node:
    *nots, atom = list(tokens)
    return Not(atom) if len(nots) % 2 else cast(Node, atom)


def _join(kind: type[And] | type[Or], tokens: pp.ParseResults) -> Node:
    parts = tuple(tokens)
    return cast(Node, parts[0]) if len(parts) == 1 else kind(parts)


def _check_bounds(text: str) -> None:
    """Refuse an over-long or over-nested query before the (recursive) parser sees it."""
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is {len(text):,} characters long; at most {MAX_LENGTH:,}", MAX_LENGTH + 1)
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise QueryError(f"parentheses nested more than {MAX_DEPTH} deep", index + 1)
        elif char == ")":
            depth = max(0, depth - 1)


def parse(text: str) -> Node | None:
    """The syntax tree of a query (None for an empty one: every vehicle); QueryError names the column."""
    if not text.strip():
        return None
    _check_bounds(text)
    try:
        result = _grammar().parse_string(text, parse_all=True)
    except pp.ParseBaseException as error:
        found = f", found {text[error.loc:error.loc + 12]!r}" if error.loc < len(text) else ", found the end"
        message = f"{error.msg[:1].lower()}{error.msg[1:]}{found}"
        raise QueryError(message, _column(text, error.loc)) from None
    except RecursionError:  # pragma: no cover - the depth bound keeps the parser far from it
        raise QueryError("the query is nested too deeply", 1) from None
    return cast(Node, result[0])


# -- resolution against the fleet ----------------------------------------------------------------

class Catalogue(Protocol):
    """What names in a query may refer to: the fleet's ids, markets with parents, ECUs, campaigns."""

    def values(self, field: str) -> Sequence[str]: ...  # model, trim, trim_key, market

    def market_parents(self) -> Mapping[str, str | None]: ...

    def ecus(self) -> Sequence[str]: ...

    def versions(self, ecu: str) -> Sequence[str]: ...

    def campaigns(self) -> Sequence[int]: ...


class StoreCatalogue:
    """A ``Catalogue`` read from the store (lazily, once per name), plus ids a workspace declares."""

    def __init__(self, store: Store, extra: Mapping[str, Sequence[str]] | None = None) -> None:
        self._store = store
        self._extra = extra or {}
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def values(self, field: str) -> Sequence[str]:
        if field == "market":
            return cast(Sequence[str], self._once("market", lambda: sorted(set(self.market_parents()) | set(
                vq.distinct_values(self._store, "market")) | set(self._extra.get("market", ())))))
        return cast(Sequence[str], self._once(field, lambda: sorted(set(vq.distinct_values(
            self._store, cast(vq.TextColumn, field))) | set(self._extra.get(field, ())))))

    def market_parents(self) -> Mapping[str, str | None]:
        return cast(Mapping[str, str | None], self._once(
            "parents", lambda: {m.id: m.parent for m in vdb.markets(self._store).values()}))

    def ecus(self) -> Sequence[str]:
        return cast(Sequence[str], self._once("ecus", lambda: sorted(set(vq.ecus(self._store)) | set(
            self._extra.get("ecu", ())))))

    def versions(self, ecu: str) -> Sequence[str]:
        """From one census of the software column (one GROUP BY for every ECU): a query per ECU over the
        JSON path took ~350 ms on PostgreSQL's ``json`` type for 10,000 vehicles, the census ~60 ms."""
        census = cast(dict[str, dict[tuple[str, str], int]],
                      self._once("census", lambda: vq.software_census(self._store)))
        return sorted({version for (_component, version) in census.get(ecu, {}) if version})

    def campaigns(self) -> Sequence[int]:
        return cast(Sequence[int], self._once("campaigns", lambda: [c.id for c in cdb.list_campaigns(self._store)]))


def workspace_ids(ws: Any) -> dict[str, list[str]]:
    """The ids a workspace declares, so a query may name a model or market with no vehicle yet."""
    return {"model": list(ws.models), "trim": sorted({t.id for t in ws.trims()}),
            "trim_key": [t.key for t in ws.trims()], "market": list(ws.markets),
            "ecu": sorted({s.ecu for s in ws.software.values()})}


_NEEDS_ARG = {"version"}
_TAKES_ARG = {"version", "campaign", "crashes"}
_ORDERED = ("<", "<=", ">", ">=")
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _require_op(term: Term, allowed: Sequence[str]) -> None:
    if term.op not in allowed:
        raise QueryError(f"{term.field} does not take {term.op!r} (use {', '.join(allowed)})", term.column)


def _pick(value: Value, known: Sequence[str], what: str) -> str:
    """The known id equal to ``value`` ignoring case; QueryError (with a suggestion) otherwise."""
    lowered = {k.lower(): k for k in known}
    found = lowered.get(value.text.lower())
    if found is None:
        hint = did_you_mean(value.text, known) or (f" (known: {', '.join(list(known)[:20])})" if known else "")
        raise QueryError(f"unknown {what} {value.text!r}{hint}", value.column)
    return found


def _membership(term: Term, condition: vq.Condition) -> vq.Condition:
    return vq.NotOf(condition) if term.op in ("!=", "not in") else condition


def _ids(term: Term, catalogue: Catalogue) -> vq.Condition:
    _require_op(term, ("=", "!=", "in", "not in"))
    if term.field == "market":
        wanted = {_pick(v, catalogue.values("market"), "market") for v in term.values}
        parents = catalogue.market_parents()
        covered = [m for m in catalogue.values("market") if wanted & set(market_lineage(m, parents))]
        return _membership(term, vq.ColumnIn("market", tuple(sorted(covered))))
    if term.field == "trim":
        keys = [v for v in term.values if "/" in v.text]
        bare = [v for v in term.values if "/" not in v.text]
        parts: list[vq.Condition] = []
        if keys:
            parts.append(vq.ColumnIn("trim_key", tuple(_pick(v, catalogue.values("trim_key"), "trim") for v in keys)))
        if bare:
            parts.append(vq.ColumnIn("trim", tuple(_pick(v, catalogue.values("trim"), "trim") for v in bare)))
        return _membership(term, parts[0] if len(parts) == 1 else vq.AnyOf(tuple(parts)))
    return _membership(term, vq.ColumnIn("model", tuple(_pick(v, catalogue.values("model"), "model")
                                                        for v in term.values)))


def _vin(term: Term) -> vq.Condition:
    _require_op(term, ("=", "!=", "in", "not in", "~"))
    if term.op == "~":
        return vq.VinContains(term.values[0].text.upper())
    return _membership(term, vq.ColumnIn("vin", tuple(v.text.upper() for v in term.values)))


def _version(term: Term, catalogue: Catalogue) -> vq.Condition:
    _require_op(term, ("=", "!=", "in", "not in", *_ORDERED))
    if term.arg is None:
        raise QueryError(f"{term.field} needs an ECU: {term.field}(\"adas\")", term.column)
    ecu = _pick(term.arg, catalogue.ecus(), "ECU")
    installed = catalogue.versions(ecu)
    if term.op in _ORDERED:
        bound = version_key(term.values[0].text)
        test: Callable[[tuple[Any, ...]], bool] = {
            "<": lambda k: k < bound, "<=": lambda k: k <= bound, ">": lambda k: k > bound, ">=": lambda k: k >= bound,
        }[term.op]
        return vq.VersionIn(ecu, tuple(v for v in installed if test(version_key(v))))
    wanted = {version_key(v.text) for v in term.values}
    return _membership(term, vq.VersionIn(ecu, tuple(v for v in installed if version_key(v) in wanted)))


def duration(value: Value) -> timedelta | None:
    """``7d`` → 7 days (units m, h, d, w); None when the value is not a duration."""
    text = value.text.strip().lower()
    if len(text) < 2 or text[-1] not in DURATION_UNITS or not text[:-1].isdigit():
        return None
    amount = int(text[:-1])
    if amount > 100_000:
        raise QueryError(f"duration {value.text!r} is too long (at most 100,000 units)", value.column)
    return amount * DURATION_UNITS[text[-1]]


def _instant(value: Value) -> tuple[datetime, bool]:
    """A date (whole day: True) or an ISO date-time (UTC when no zone is given)."""
    try:
        if len(value.text) == 10:
            return datetime.combine(date.fromisoformat(value.text), datetime.min.time(), UTC), True
        moment = datetime.fromisoformat(value.text)
    except ValueError:
        raise QueryError(f"{value.text!r} is neither a duration (7d, 12h) nor a date (2026-11-01)",
                         value.column) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), False


def _time(term: Term, now: datetime) -> vq.Condition:
    value = term.values[0]
    if term.field == "last_seen" and value.text.lower() == "never" and not value.quoted:
        _require_op(term, ("=", "!="))
        return _membership(term, vq.NeverSeen())
    _require_op(term, ("=", "!=", *_ORDERED))
    def make(op: Any, at: datetime) -> vq.Condition:
        return vq.LastSeen(op, at) if term.field == "last_seen" else vq.Registered(op, at)

    age = duration(value)
    if age is not None:
        if term.op not in _ORDERED:
            raise QueryError(f"compare {term.field} with a duration using < or > (age), or give a date", term.column)
        return make(_FLIPPED[term.op], now - age)  # older than 7 days (> 7d) = before now - 7 days
    at, whole_day = _instant(value)
    if not whole_day or term.op in ("<", ">="):
        return make(term.op, at)
    end = at + timedelta(days=1)
    if term.op == "<=":
        return make("<", end)
    if term.op == ">":
        return make(">=", end)
    day = vq.AllOf((make(">=", at), make("<", end)))
    return day if term.op == "=" else vq.NotOf(day)


def _campaign(term: Term, catalogue: Catalogue) -> vq.Condition:
    _require_op(term, ("=", "!=", "in", "not in"))
    campaign_id: int | None = None
    if term.field == "campaign":
        if term.arg is None or not term.arg.text.isdigit() or int(term.arg.text) not in catalogue.campaigns():
            where = term.arg.column if term.arg is not None else term.column
            known = ", ".join(str(c) for c in catalogue.campaigns()) or "none"
            given = term.arg.text if term.arg is not None else ""
            raise QueryError(f"campaign({given}): give a campaign id (known: {known})", where)
        campaign_id = int(term.arg.text)
    states: list[str] = []
    absent = False
    for value in term.values:
        word = value.text.lower()
        if word in ("none", "any"):
            absent |= word == "none"
            states.extend(() if word == "none" else CAMPAIGN_STATES)
            continue
        states.append(_pick(value, CAMPAIGN_STATES, "campaign state"))
    parts: list[vq.Condition] = []
    if states:
        parts.append(vq.CampaignState(campaign_id, tuple(dict.fromkeys(states))))
    if absent:
        parts.append(vq.NotOf(vq.CampaignState(campaign_id, ())))
    return _membership(term, parts[0] if len(parts) == 1 else vq.AnyOf(tuple(parts)))


def _crashes(term: Term, now: datetime) -> vq.Condition:
    _require_op(term, ("=", "!=", *_ORDERED))
    window_value = term.arg or Value(DEFAULT_CRASH_WINDOW, False, term.column)
    window = duration(window_value)
    if window is None:
        raise QueryError(f"crashes({window_value.text}): give a window such as 7d or 24h", window_value.column)
    value = term.values[0]
    if not value.text.isdigit() or int(value.text) > 1_000_000:
        raise QueryError(f"crashes compares with a count (0 to 1,000,000), not {value.text!r}", value.column)
    return vq.CrashCount(now - window, cast(vq.Comparison, term.op), int(value.text))


def _consent(term: Term) -> vq.Condition:
    _require_op(term, ("=", "!="))
    value = term.values[0]
    flags = {"true": True, "yes": True, "false": False, "no": False}
    if value.text.lower() not in flags:
        raise QueryError(f"{term.field} is true or false, not {value.text!r}", value.column)
    wanted = flags[value.text.lower()] != (term.op == "!=")
    return vq.Consent("updates" if term.field == "consent_updates" else "telemetry", wanted)


#: Field -> how a comparison on it becomes a store condition.
_RESOLVERS: dict[str, Callable[[Term, Catalogue, datetime], vq.Condition]] = {
    "vin": lambda t, c, n: _vin(t),
    "model": lambda t, c, n: _ids(t, c),
    "trim": lambda t, c, n: _ids(t, c),
    "market": lambda t, c, n: _ids(t, c),
    "version": lambda t, c, n: _version(t, c),
    "last_seen": lambda t, c, n: _time(t, n),
    "registered": lambda t, c, n: _time(t, n),
    "campaign": lambda t, c, n: _campaign(t, c),
    "campaign_state": lambda t, c, n: _campaign(t, c),
    "crashes": lambda t, c, n: _crashes(t, n),
    "consent_updates": lambda t, c, n: _consent(t),
    "consent_telemetry": lambda t, c, n: _consent(t),
}
FIELDS = tuple(_RESOLVERS)


def _resolve_term(term: Term, catalogue: Catalogue, now: datetime) -> vq.Condition:
    if term.field not in _RESOLVERS:
        raise QueryError(f"unknown field {term.field!r}{did_you_mean(term.field, FIELDS)} "
                         f"(fields: {', '.join(FIELDS)})", term.column)
    if term.field in _NEEDS_ARG and term.arg is None:
        raise QueryError(f"{term.field} needs an ECU: {term.field}(\"adas\")", term.column)
    if term.arg is not None and term.field not in _TAKES_ARG:
        raise QueryError(f"{term.field} takes no argument", term.arg.column)
    return _RESOLVERS[term.field](term, catalogue, now)


def resolve(node: Node | None, catalogue: Catalogue, now: datetime) -> vq.Condition:
    """The exact store condition of a parsed query (``EVERYTHING`` for None)."""
    match node:
        case None:
            return vq.EVERYTHING
        case Term():
            return _resolve_term(node, catalogue, now)
        case And(parts=parts):
            return vq.AllOf(tuple(resolve(p, catalogue, now) for p in parts))
        case Or(parts=parts):
            return vq.AnyOf(tuple(resolve(p, catalogue, now) for p in parts))
        case Not(part=part):
            return vq.NotOf(resolve(part, catalogue, now))
    raise TypeError(f"not a query node: {node!r}")  # pragma: no cover


def compile_query(text: str, catalogue: Catalogue, now: datetime) -> vq.Condition:
    """Parse and resolve in one step: what the API, the pages, groups and campaigns call."""
    return resolve(parse(text), catalogue, now)


def quote(value: str) -> str:
    """A value as a query string literal (for queries built from dropdowns)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def conjunction(parts: Sequence[str]) -> str:
    """``a and (b) and …`` of the non-empty parts; a part holding ``or`` is parenthesised."""
    kept = [p.strip() for p in parts if p and p.strip()]
    if len(kept) == 1:
        return kept[0]
    return " and ".join(f"({p})" if " or " in p.lower() else p for p in kept)
