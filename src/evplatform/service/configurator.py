"""Feature-model analyses and configurator sessions for the API and the dashboard (issue 15, section 1).

The answers come from ``evplatform.variability`` (backbone, false-optional, atomic sets, count,
explanations, propagation with reasons, min-cost completion); this module only chooses what to run,
keeps configurator sessions and turns the domain values into JSON-ready dicts.

A configurator session keeps a :class:`~evplatform.variability.propagation.Propagator` (its SAT
solver and witness store: ~74 MB on Automotive02 v4, measured), so sessions live on the server in
a :class:`SessionStore` bounded four ways — a number of sessions, a number per account, an estimate of
their memory, and an idle timeout read from the server's clock — and the least recently used session
goes first. An
evicted or unknown session is a ``NotFoundError`` (404), and a session is visible only to the
account that opened it.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from evplatform.clock import Clock, aware_now
from evplatform.errors import ConflictError, EvplatformError, NotFoundError, ParseError, VariabilityError
from evplatform.platform import bom_of
from evplatform.variability import analysis
from evplatform.variability._decisions import check_known
from evplatform.variability.cnf import CNF, Relation, encode
from evplatform.variability.completion import complete_min_cost
from evplatform.variability.counting import count_configurations
from evplatform.variability.explain import Explanation, explain_dead, explain_invalid
from evplatform.variability.formats import format_suffix, load_model
from evplatform.variability.model import FeatureModel
from evplatform.variability.propagation import Propagation, Propagator, Reason
from evplatform.workspace import Workspace

logger = logging.getLogger(__name__)

MAX_SESSIONS = 64
#: Sessions of one account: opening more closes that account's least recently used, never another's.
MAX_SESSIONS_PER_OWNER = 8
#: Memory all sessions of one server may take, by :func:`session_bytes`' estimate.
MAX_SESSION_BYTES = 1024**3
IDLE_TIMEOUT = timedelta(minutes=30)
#: Resident memory of one session per clause literal of the CNF, measured after the first complete
#: propagation: 452 B on Automotive02 v4 (163,446 literals, 74 MB), 677 B on the demo (566 literals).
BYTES_PER_LITERAL = 700
SESSION_OVERHEAD_BYTES = 256 * 1024
#: Dead features explained in one analysis (each explanation is a few SAT calls).
MAX_EXPLAINED = 50
#: Consequences of a step whose reasons are given (each reason found by the backbone costs a SAT core).
MAX_REASONS = 1000
UPLOAD_MAX_BYTES = 8 * 1024**2


class ModelFileError(ParseError):
    """An uploaded model that cannot be read: the CLI's ``file:line:column`` message, HTTP 422."""

    http_status = 422


class SessionsFull(EvplatformError):
    """A session whose model alone needs more memory than the server gives all sessions."""

    http_status = 503


# --- analyses ---------------------------------------------------------------------------------


def analyse(model: FeatureModel, cnf: CNF, file: str) -> dict[str, Any]:
    """Every analysis of ``fm analyze`` at once, with explanations naming ``file``'s lines.

    ``file`` is how the model is named in the answer (a workspace-relative path or an upload's
    name): the server's own paths never appear.
    """
    start = time.perf_counter()
    backbone = analysis.backbone(cnf)
    valid = backbone.valid
    dead = list(backbone.dead)
    explained = [_explanation(explain_dead(model, name), file) for name in dead[:MAX_EXPLAINED]] if valid else []
    return {
        "file": file,
        "features": cnf.n_features,
        "constraints": len(model.constraints),
        "valid": valid,
        "core": list(backbone.core),
        "dead": dead,
        "false_optional": analysis.false_optional_features(model, cnf, backbone),
        "atomic_sets": analysis.atomic_sets(model, cnf, backbone),
        "count": str(count_configurations(cnf)),
        "explanations": {
            "invalid": None if valid else _explanation(explain_invalid(model), file),
            "dead": explained,
            "dead_not_explained": max(0, len(dead) - len(explained)) if valid else 0,
        },
        "seconds": round(time.perf_counter() - start, 3),
    }


def model_label(ws: Workspace) -> str:
    """The feature model's file relative to the workspace (``features.uvl``), never a server path."""
    source = Path(ws.feature_model.source or "features.uvl")
    try:
        return source.resolve().relative_to(ws.root.resolve()).as_posix()
    except ValueError:
        return source.name


def workspace_analysis(ws: Workspace) -> dict[str, Any]:
    return analyse(ws.feature_model, encode(ws.feature_model), model_label(ws))


def _explanation(explanation: Explanation, file: str) -> dict[str, Any]:
    reasons = [{"kind": "decision", "text": text, "line": None, "where": None}
               for text in explanation.reasons[:len(explanation.decisions)]]
    reasons += [_relation(relation, file) for relation in explanation.relations]
    feature = explanation.subject.removesuffix(" is dead") if explanation.subject.endswith(" is dead") else None
    return {"subject": explanation.subject, "feature": feature, "reasons": reasons}


def _relation(relation: Relation, file: str) -> dict[str, Any]:
    return {"kind": relation.kind, "text": relation.text, "line": relation.line,
            "where": f"{file}:{relation.line}" if relation.line else None}


def analyse_upload(filename: str, data: bytes) -> dict[str, Any]:
    """Analyse an uploaded model file (format by the name's suffix), errors as the CLI's ``file:line:column``."""
    name = _safe_name(filename)
    if len(data) > UPLOAD_MAX_BYTES:
        raise ModelFileError(f"the file has {len(data):,} bytes; at most {UPLOAD_MAX_BYTES:,} are analysed", name)
    try:
        format_suffix(Path(name))
        with tempfile.TemporaryDirectory(prefix="evplatform-fm-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            model = load_model(path)
        model.source = name
        return analyse(model, encode(model), name)
    except ParseError as error:  # the same message as the CLI, with the upload's name for the server's path
        raise ModelFileError(error.message, name, error.line, error.column) from None
    except RecursionError:  # the readers and the encoding walk the tree recursively
        raise ModelFileError(f"features nested too deeply to analyse (deeper than about "
                             f"{sys.getrecursionlimit():,} levels of the file)", name) from None


def _safe_name(filename: str) -> str:
    """The upload's base name with only letters, digits, ``.``, ``_`` and ``-`` (no path, no NUL)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in base)[:200]
    return cleaned.lstrip(".") or "model"


# --- configurator sessions -------------------------------------------------------------------


def session_bytes(cnf: CNF) -> int:
    """The memory a session on ``cnf`` is expected to take (see ``BYTES_PER_LITERAL``)."""
    return SESSION_OVERHEAD_BYTES + BYTES_PER_LITERAL * sum(len(clause) for clause in cnf.clauses)


@dataclass
class Start:
    """Where a session starts: a trim in a market (its own decisions), or nothing decided."""

    trim: str | None = None
    market: str | None = None
    selected: list[str] = field(default_factory=list)
    deselected: list[str] = field(default_factory=list)


def start_from(ws: Workspace, trim_key: str | None, market: str | None) -> Start:
    """The decisions of a trim in a market: the trim's selections and deselections plus the market's."""
    if trim_key is None:
        if market is not None:
            raise VariabilityError("a market needs a trim: start from a trim in a market, or from nothing")
        return Start()
    trim = ws.trim(trim_key)
    chosen = market or ws.platform.base_market
    ws.configuration(trim, chosen)  # WorkspaceError when the trim is not sold there
    selected = sorted(set(trim.selected) | set(ws.markets[chosen].select))
    return Start(trim.key, chosen, selected, sorted(trim.deselected))


class ConfiguratorSession:
    """One user's configuration in progress: decisions, their consequences with reasons, completions.

    Every use holds the session's lock (the propagator's solver is not thread-safe); a closed
    (evicted) session answers 404 to a request that was already waiting for it.
    """

    def __init__(self, session_id: str, owner: str, model: FeatureModel, cnf: CNF, file: str, start: Start,
                 now: datetime) -> None:
        self.id, self.owner, self.model, self.cnf, self.file = session_id, owner, model, cnf, file
        self.trim, self.market = start.trim, start.market
        self.created = self.last_used = now
        self.bytes = session_bytes(cnf)
        self.lock = threading.Lock()
        self.closed = False
        self.selected: list[str] = []
        self.deselected: list[str] = []
        self.propagator = Propagator(cnf)
        self._state: dict[str, Any] = {}
        #: After a unit-only answer: the decisions and state before it, restored if the complete answer refuses.
        self._pending: tuple[list[str], list[str], dict[str, Any]] | None = None
        try:
            self._decide(check_known(start.selected, model.features, "the selection"),
                         check_known(start.deselected, model.features, "the deselection"))
        except BaseException:
            self.propagator.close()
            raise

    def state(self) -> dict[str, Any]:
        """The complete answer for the decisions (computed now if the last step answered by unit propagation)."""
        with self.lock:
            self._check_open()
            self._settle()
            return self._state

    def apply(self, select: Sequence[str] = (), deselect: Sequence[str] = (), retract: Sequence[str] = (),
              unit_only: bool = False) -> dict[str, Any]:
        """Retract, then select and deselect; a decision no valid configuration allows is refused (409)
        with a minimal set of reasons, and the session keeps its previous decisions.

        ``unit_only``: answer with unit propagation alone (well under a millisecond on Automotive02 v4)
        and leave the complete answer to the next :meth:`state` — the page draws the first answer at
        once and asks for the second (FeatureIDE issue #923: a configurator that freezes on big
        models). A contradiction only the complete answer finds is then refused by that call (409), and
        the decisions before this step come back."""
        known = self.model.features
        select = check_known(select, known, "the selection")
        deselect = check_known(deselect, known, "the deselection")
        retract = check_known(retract, known, "the retraction")
        both = sorted(set(select) & set(deselect))
        if both:
            raise VariabilityError(f"{', '.join(both)} cannot be both selected and deselected")
        with self.lock:
            self._check_open()
            self._settle()
            gone = set(retract) | set(select) | set(deselect)
            selected = [n for n in self.selected if n not in gone] + list(dict.fromkeys(select))
            deselected = [n for n in self.deselected if n not in gone] + list(dict.fromkeys(deselect))
            if unit_only:
                self._decide_unit(selected, deselected)
            else:
                self._decide(selected, deselected)
            return self._state

    def complete(self, attribute: str) -> dict[str, Any]:
        """The valid completion of the decisions with the least sum of ``attribute``."""
        numeric = _numeric_attributes(self.model)
        if attribute not in numeric:
            listed = ", ".join(sorted(numeric)) or "none"
            raise VariabilityError(f"no feature has a numeric attribute {attribute!r} (numeric attributes: {listed})")
        with self.lock:
            self._check_open()
            selected, deselected = list(self.selected), list(self.deselected)
        best = complete_min_cost(self.model, selected, deselected, attribute=attribute)
        return {"id": self.id, "attribute": attribute, "selected": sorted(best.selected),
                "added": sorted(best.added), "cost": best.cost, "added_cost": best.added_cost}

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                self.propagator.close()

    def _check_open(self) -> None:
        if self.closed:
            raise NotFoundError("configurator session", self.id)

    def _decide(self, selected: list[str], deselected: list[str]) -> None:
        start = time.perf_counter()
        try:
            unit = self.propagator.propagate_unit(selected, deselected)
            full = self.propagator.propagate(selected, deselected)
        except VariabilityError as error:
            raise self._conflict(selected, deselected, error) from None
        self.selected, self.deselected = selected, deselected
        self._state = self._render(unit, full, time.perf_counter() - start)

    def _decide_unit(self, selected: list[str], deselected: list[str]) -> None:
        """The unit-propagation answer only; the complete one waits for :meth:`_settle`."""
        start = time.perf_counter()
        try:
            unit = self.propagator.propagate_unit(selected, deselected)
        except VariabilityError as error:
            raise self._conflict(selected, deselected, error) from None
        self._pending = (self.selected, self.deselected, self._state)
        self.selected, self.deselected = selected, deselected
        self._state = self._render(unit, unit, time.perf_counter() - start)

    def _settle(self) -> None:
        """Compute the complete answer a unit-only step left; a refusal restores the decisions before it."""
        if self._pending is None:
            return
        selected, deselected, state = self._pending
        self._pending = None
        try:
            self._decide(self.selected, self.deselected)
        except ConflictError:
            self.selected, self.deselected, self._state = selected, deselected, state
            raise

    def _conflict(self, selected: list[str], deselected: list[str], error: VariabilityError) -> ConflictError:
        try:
            why = explain_invalid(self.model, selected, deselected)
        except VariabilityError:  # nothing better to say than the propagator's own words
            return ConflictError(str(error))
        reasons = "; ".join(r["text"] + (f" ({r['where']})" if r["where"] else "")
                            for r in _explanation(why, self.file)["reasons"])
        return ConflictError(f"{error}: {reasons}")

    def _render(self, unit: Propagation, full: Propagation, seconds: float) -> dict[str, Any]:
        decided = set(self.selected) | set(self.deselected)
        fixed = full.forced | full.forbidden
        by_unit = unit.forced | unit.forbidden
        ordered = sorted(fixed, key=lambda n: (n not in by_unit, self.cnf.var[n]))
        explained = {name: _reason(full.reasons[name], self.file, name in by_unit) for name in ordered[:MAX_REASONS]}

        def rows(names: Iterable[str]) -> list[dict[str, Any]]:
            return [explained.get(n) or {"feature": n, "rule": None, "line": None, "where": None, "decisions": [],
                                        "by": "unit" if n in by_unit else "backbone"}
                    for n in sorted(names, key=self.cnf.var.__getitem__)]

        names = self.cnf.feature_names()
        return {
            "id": self.id, "file": self.file, "trim": self.trim, "market": self.market, "features": len(names),
            "selected": list(self.selected), "deselected": list(self.deselected),
            "forced": rows(full.forced), "forbidden": rows(full.forbidden),
            "open": [n for n in names if n not in fixed and n not in decided],
            "complete": full.complete, "pending": not full.complete,
            "unit": {"forced": len(unit.forced), "forbidden": len(unit.forbidden), "seconds": unit.seconds},
            "seconds": seconds,
        }


def _reason(reason: Reason, file: str, by_unit: bool) -> dict[str, Any]:
    return {"feature": reason.feature, "rule": reason.rule, "line": reason.line,
            "where": f"{file}:{reason.line}" if reason.line else None, "decisions": list(reason.decisions),
            "by": "unit" if by_unit else "backbone"}


def _numeric_attributes(model: FeatureModel) -> set[str]:
    return {key for feature in model.features.values() for key, value in feature.attributes.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


class SessionStore:
    """The server's configurator sessions: at most ``max_sessions`` and ``max_bytes`` (estimated), at most
    ``max_per_owner`` of one account (so one account cannot push out everyone else's), each dropped
    after ``idle`` without use on the server's ``clock``; the least recently used goes first."""

    def __init__(self, clock: Clock, max_sessions: int = MAX_SESSIONS, max_bytes: int = MAX_SESSION_BYTES,
                 idle: timedelta = IDLE_TIMEOUT, max_per_owner: int = MAX_SESSIONS_PER_OWNER) -> None:
        if min(max_sessions, max_bytes, max_per_owner) < 1 or idle <= timedelta(0):
            raise ValueError("a session store holds at least one session for some time")
        self.clock, self.max_sessions, self.max_bytes, self.idle = clock, max_sessions, max_bytes, idle
        self.max_per_owner = max_per_owner
        self._sessions: OrderedDict[str, ConfiguratorSession] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def bytes(self) -> int:
        with self._lock:
            return sum(s.bytes for s in self._sessions.values())

    def open(self, owner: str, model: FeatureModel, cnf: CNF, file: str, start: Start) -> ConfiguratorSession:
        """A new session (its first propagation done); older sessions make room for it."""
        if session_bytes(cnf) > self.max_bytes:
            raise SessionsFull(f"a session on this model needs about {session_bytes(cnf):,} bytes; this server "
                               f"gives all sessions {self.max_bytes:,}")
        session = ConfiguratorSession(secrets.token_urlsafe(16), owner, model, cnf, file, start,
                                      aware_now(self.clock))
        with self._lock:
            dropped = self._expired()
            self._sessions[session.id] = session
            own = [s for s in self._sessions.values() if s.owner == owner]
            for old in own[:max(0, len(own) - self.max_per_owner)]:  # least recently used first
                dropped.append(self._sessions.pop(old.id))
            while len(self._sessions) > self.max_sessions or self._total() > self.max_bytes:
                dropped.append(self._sessions.popitem(last=False)[1])
        self._close(dropped, "evicted")
        return session

    def get(self, owner: str, session_id: str) -> ConfiguratorSession:
        """The caller's session, now marked used; ``NotFoundError`` when unknown, expired, evicted or another's."""
        with self._lock:
            dropped = self._expired()
            session = self._sessions.get(session_id)
            if session is not None and session.owner == owner:
                session.last_used = aware_now(self.clock)
                self._sessions.move_to_end(session_id)
        self._close(dropped, "expired")
        if session is None or session.owner != owner:
            raise NotFoundError("configurator session", session_id)
        return session

    def delete(self, owner: str, session_id: str) -> None:
        session = self.get(owner, session_id)
        with self._lock:
            self._sessions.pop(session_id, None)
        self._close([session], "closed")

    def close(self) -> None:
        """Close every session (the server is stopping)."""
        with self._lock:
            dropped = list(self._sessions.values())
            self._sessions.clear()
        self._close(dropped, "closed")

    def _total(self) -> int:
        return sum(s.bytes for s in self._sessions.values())

    def _expired(self) -> list[ConfiguratorSession]:
        """Sessions idle longer than ``idle`` (removed here, closed by the caller outside the lock)."""
        deadline = aware_now(self.clock) - self.idle
        old = [s for s in self._sessions.values() if s.last_used <= deadline]
        for session in old:
            del self._sessions[session.id]
        return old

    @staticmethod
    def _close(sessions: list[ConfiguratorSession], why: str) -> None:
        for session in sessions:
            logger.info("configurator session %s %s", session.id[:6], why,
                        extra={"event": "fm_session_" + why, "owner": session.owner})
            session.close()


# --- export as a trim ------------------------------------------------------------------------


def export_trim(ws: Workspace, session: ConfiguratorSession, model_id: str, trim_id: str) -> dict[str, Any]:
    """The session's configuration as the ``models/<model_id>.yaml`` a trim needs, to commit by hand.

    The trim selects what the session decided plus what those decisions force (so the file reads on
    its own) and deselects what was decided off, less what any market selects itself (``Market_EU``,
    its inlet, its mandated functions): the loader adds those per market, and a trim that named one
    market's would clash in the others. Price and volume come from
    the trim the session started from (from scratch: 1, a placeholder the header says to fill in, as the
    reader wants both above zero). The browser never
    writes the workspace: this is text to copy.
    """
    for label, value in (("model", model_id), ("trim", trim_id)):
        if not value.replace("-", "").replace("_", "").isalnum() or not value.isascii():
            raise VariabilityError(f"the {label} id {value!r} may hold only letters, digits, '-' and '_'")
    state = session.state()
    by_markets = {name for market in ws.markets.values() for name in market.select}
    chosen = (set(state["selected"]) | {row["feature"] for row in state["forced"]}) - by_markets
    selected = sorted(chosen, key=session.cnf.var.__getitem__)
    base = ws.trim(session.trim) if session.trim else None
    trim: dict[str, Any] = {"name": f"{base.name} (configured)" if base else trim_id,
                            "price": _plain(base.price) if base else 1,
                            "volume_per_year": _plain(base.volume_per_year) if base else 1,
                            "select": selected}
    deselected = [name for name in state["deselected"] if name not in by_markets]
    if deselected:
        trim["deselect"] = deselected
    document = {"name": model_id, "trims": {trim_id: trim}}
    header = (f"# models/{model_id}.yaml: exported from configurator session "
              f"(start: {session.trim or 'scratch'}{' in ' + session.market if session.market else ''})\n")
    if base is None:
        header += "# price and volume_per_year are placeholders (1): fill them in before committing\n"
    text = header + yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=100)
    note = (f"save as models/{model_id}.yaml and list {model_id} under models: in platform.yaml"
            if model_id not in ws.models else
            f"model {model_id} exists: add trim {trim_id} under trims: in models/{model_id}.yaml")
    return {"file": f"models/{model_id}.yaml", "yaml": text, "note": note, "complete": state["complete"],
            "selected": len(selected), "problems": _trim_problems(ws, set(selected), set(deselected), session.market)}


def _plain(value: float) -> float | int:
    """A whole number written as one (``253500``, not ``253500.0``)."""
    return int(value) if float(value).is_integer() else value


def _trim_problems(ws: Workspace, selected: set[str], deselected: set[str], market: str | None) -> list[str]:
    """What the workspace reader would refuse in the exported trim, in the base market (every model is
    checked there) and the session's market: the same closure and rules as the loader, so the page can
    say so before anyone commits the file."""
    problems: list[str] = []
    fm = ws.feature_model
    for market_id in dict.fromkeys([ws.platform.base_market, market or ws.platform.base_market]):
        chosen = fm.mandatory_closure(selected | set(ws.markets[market_id].select))
        clash = sorted(chosen & deselected)
        if clash:
            problems.append(f"in {market_id}: deselected {', '.join(clash)} are forced by the selection")
        problems += [f"in {market_id}: {error}" for error in fm.configuration_errors(frozenset(chosen))]
    return problems


def bom_figures(ws: Workspace, session: ConfiguratorSession) -> dict[str, Any]:
    """BOM cost and mass of what is selected so far (decided or forced): a lower bound until complete."""
    state = session.state()
    chosen = set(state["selected"]) | {row["feature"] for row in state["forced"]}
    bom = bom_of(ws.parts, chosen)
    return {"cost": round(bom.cost, 2), "mass_kg": round(bom.mass_kg, 1), "complete": state["complete"]}


def feature_rows(model: FeatureModel) -> list[dict[str, Any]]:
    """The feature tree flattened in file order for the configurator's list: name, depth, the kind of
    group it sits in (how a FeatureIDE user reads it: alternative, or, optional, mandatory), its line
    and its cost attribute."""
    rows: list[dict[str, Any]] = []
    stack: list[tuple[str, int, str | None]] = [(model.root, 0, None)]  # no recursion: trees may be deep
    while stack:
        name, depth, kind = stack.pop()
        feature = model.features[name]
        cost = feature.attributes.get("cost")
        rows.append({"name": name, "depth": depth, "group": kind, "abstract": feature.abstract,
                     "line": feature.line, "cost": cost if isinstance(cost, int | float) else None})
        children = [(child, depth + 1, group.kind.value) for group in feature.groups for child in group.children]
        stack.extend(reversed(children))
    return rows
