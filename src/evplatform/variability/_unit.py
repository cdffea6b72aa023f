"""Unit propagation with reasons, on our own watched-literal structure.

Why not the SAT solver's ``propagate``: a configurator must say *why* a feature became forced,
so every implied literal keeps the clause that implied it (the implication graph). Binary
clauses, most of a feature model's clauses, are implication lists; longer clauses use two
watched literals, which stay valid when the assignment is reset, so a query costs only the
literals it implies. The root-level consequences (the root, mandatory chains) are computed
once and reused by every query.
"""

from __future__ import annotations

from collections.abc import Sequence

DECISION = -1  # reason of a literal the user decided
UNKNOWN = 0


class UnitPropagator:
    """``propagate(decisions)`` → implied literals with the clause index that implied each."""

    def __init__(self, n_vars: int, clauses: Sequence[Sequence[int]]) -> None:
        self.n_vars = n_vars
        self.clauses = [list(c) for c in clauses]
        size = 2 * n_vars + 2
        self.implications: list[list[tuple[int, int]]] = [[] for _ in range(size)]  # lit true → (lit, clause)
        self.watches: list[list[int]] = [[] for _ in range(size)]  # lit false → clauses to revisit
        self.units: list[tuple[int, int]] = []
        self.empty_clause: int | None = None
        for index, clause in enumerate(self.clauses):
            if not clause:
                self.empty_clause = index
            elif len(clause) == 1:
                self.units.append((clause[0], index))
            elif len(clause) == 2:
                a, b = clause
                self.implications[self._code(-a)].append((b, index))
                self.implications[self._code(-b)].append((a, index))
            else:
                self.watches[self._code(clause[0])].append(index)
                self.watches[self._code(clause[1])].append(index)
        self.base_value = [0] * (n_vars + 1)
        self.base_reason = [UNKNOWN] * (n_vars + 1)
        self.base_trail: list[int] = []
        self.root_conflict: int | None = self.empty_clause
        if self.root_conflict is None:
            value, reason = [0] * (n_vars + 1), [UNKNOWN] * (n_vars + 1)
            trail: list[int] = []
            self.root_conflict = self._run(value, reason, trail, self.units)
            self.base_value, self.base_reason, self.base_trail = value, reason, trail
        self._last: tuple[frozenset[int], list[int], list[int], list[int]] = (
            frozenset(), self.base_value, self.base_reason, self.base_trail)

    @staticmethod
    def _code(lit: int) -> int:
        return 2 * lit if lit > 0 else -2 * lit + 1

    def propagate(self, decisions: Sequence[int]) -> tuple[list[int], list[int], list[int], int | None]:
        """(value, reason, trail, conflict clause) after the decisions on top of the root level.

        ``value[v]`` is 1, -1 or 0 (unassigned); ``reason[v]`` the implying clause index, or
        ``DECISION``; ``trail`` the literals in order; a conflict stops propagation early.
        A configurator adds one decision at a time: when the decisions extend the previous
        conflict-free call's, propagation continues from that state instead of starting over.
        """
        if self.root_conflict is not None:
            return self.base_value.copy(), self.base_reason.copy(), self.base_trail.copy(), self.root_conflict
        wanted = set(decisions)
        start, value, reason, trail = self._last
        if not start <= wanted:
            start, value, reason, trail = frozenset(), self.base_value, self.base_reason, self.base_trail
        value, reason, trail = value.copy(), reason.copy(), trail.copy()
        new = [(lit, DECISION) for lit in decisions if lit not in start]
        conflict = self._run(value, reason, trail, new)
        if conflict is None:
            self._last = (frozenset(wanted), value, reason, trail)
        return value, reason, trail, conflict

    # complexity: the unit-propagation loop, kept flat because it is hot
    def _run(self, value: list[int], reason: list[int], trail: list[int],  # noqa: C901
             start: Sequence[tuple[int, int]]) -> int | None:
        head = len(trail)
        for lit, why in start:
            v = lit if lit > 0 else -lit
            sign = 1 if lit > 0 else -1
            if value[v] == -sign:
                return why if why >= 0 else _DECISION_CONFLICT
            if value[v] == 0:
                value[v] = sign
                reason[v] = why
                trail.append(lit)
        implications, watches, clauses, code = self.implications, self.watches, self.clauses, self._code
        while head < len(trail):
            lit = trail[head]
            head += 1
            for implied, index in implications[code(lit)]:
                v = implied if implied > 0 else -implied
                sign = 1 if implied > 0 else -1
                current = value[v]
                if current == 0:
                    value[v] = sign
                    reason[v] = index
                    trail.append(implied)
                elif current != sign:
                    return index
            false_lit = -lit
            watching = watches[code(false_lit)]
            i = 0
            while i < len(watching):
                index = watching[i]
                clause = clauses[index]
                if clause[0] == false_lit:
                    clause[0], clause[1] = clause[1], clause[0]
                other = clause[0]
                ov = value[other if other > 0 else -other]
                if ov != 0 and (ov > 0) == (other > 0):
                    i += 1
                    continue
                for k in range(2, len(clause)):
                    candidate = clause[k]
                    cv = value[candidate if candidate > 0 else -candidate]
                    if cv == 0 or (cv > 0) == (candidate > 0):
                        clause[1], clause[k] = candidate, false_lit
                        watches[code(candidate)].append(index)
                        watching[i] = watching[-1]
                        watching.pop()
                        break
                else:
                    if ov != 0:
                        return index
                    v = other if other > 0 else -other
                    value[v] = 1 if other > 0 else -1
                    reason[v] = index
                    trail.append(other)
                    i += 1
        return None


_DECISION_CONFLICT = -2  # two decisions contradict each other directly
DECISION_CONFLICT = _DECISION_CONFLICT
