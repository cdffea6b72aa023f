"""Local moves on a valid configuration: the cheap way to show a literal is not fixed.

A backbone computation (core, dead, decision propagation) must show, for every feature that is
not fixed, one valid configuration with it and one without. Most features of an industrial model
are independent enough that flipping one in a known valid configuration, repairing the tree
around it (ancestors, group siblings, group minimums) and checking only the relations the change
touches gives such a configuration in microseconds; the SAT solver is left the few literals
where a move fails. Used by ``analysis`` (backbone, atomic sets, false-optional) and
``propagation`` (the configurator's complete answer).
"""

from __future__ import annotations

import copy
import time

from evplatform.variability.cnf import CNF
from evplatform.variability.model import Constraint, FeatureModel


def walk(repairer: LocalMoves, cnf: CNF, candidates: set[int]) -> float:
    """Refute candidates by local moves (each accepted one is a valid configuration).

    One pass over the candidates; returns the candidates refuted per second, so the caller
    walks again after a SAT round only while walking pays better than SAT.
    """
    names = cnf.names
    began, before = time.perf_counter(), len(candidates)
    for lit in sorted(candidates, key=abs, reverse=True):
        if lit not in candidates:
            continue
        changed = repairer.move(names[abs(lit) - 1], select=lit < 0)
        for name in changed or ():
            v = cnf.var[name]
            candidates.discard(-v if name in repairer.chosen else v)
    return (before - len(candidates)) / max(time.perf_counter() - began, 1e-6)


MOVE_LIMIT = 64  # features (and constraints) a local move may touch; bigger moves rarely pay off against SAT


class _TooBig(Exception):
    """A local move grew beyond MOVE_LIMIT (caught inside the repairer)."""


class LocalMoves:
    """Local moves on a valid configuration, checked against every relation they touch.

    Selecting a feature adds its missing ancestors, drops siblings beyond a group's maximum and
    completes new features' groups with their first children; deselecting drops the subtree and
    refills the parent's group. The result is valid — a proof that each feature in it is not
    dead and each left out is not core — only if every relation mentioning a changed feature
    holds (the others cannot have changed); otherwise the move is undone. Moves edit one set in
    place with an undo log and per-group counts, so a move costs the size of the change.
    Features in ``frozen`` (a configurator's decisions) are never changed.
    """

    def __init__(self, model: FeatureModel, chosen: set[str]) -> None:
        self.model = model
        self.features = model.features
        self.group_of: dict[str, int] = {}
        self.groups: list[tuple[list[str], int, int]] = []
        self.groups_of: dict[str, list[int]] = {}
        for name, feature in model.features.items():
            for group in feature.groups:
                low, high = group.bounds()
                self.groups_of.setdefault(name, []).append(len(self.groups))
                for child in group.children:
                    self.group_of[child] = len(self.groups)
                self.groups.append((group.children, low, high))
        self.constraints_of: dict[str, list[Constraint]] = {}
        for constraint in model.constraints:
            for name in constraint.expr.variables():
                self.constraints_of.setdefault(name, []).append(constraint)
        self.log: dict[str, bool] = {}
        self.frozen: set[str] = set()
        self._witness_keys: dict[str, tuple[int, ...]] = {}
        self._conflict_keys: dict[str, tuple[int, ...]] = {}  # both made on first use: analyses never need them
        self.reset(chosen)

    def _relation_keys(self) -> None:
        """Keys for :meth:`witness_keys` and :meth:`conflict_keys`, one small tuple per feature.

        Kinds of key (ints, disjoint ranges): ``H(f)`` "f itself changed"; ``M(p)`` "a child of p
        in a group without a cardinality changed"; ``G(g)`` "a member of cardinality group g
        changed"; ``C(i)`` "a feature of constraint i changed". Optional and mandatory groups are
        only parent-child implications, so siblings in them never conflict.
        """
        index = {name: i for i, name in enumerate(self.features)}
        n, n_groups = len(index), len(self.groups)
        counted = [not (low == 0 and high >= len(children)) and not (low == high == len(children))
                   for children, low, high in self.groups]
        first_constraint = 2 * n + n_groups
        ids = {id(c): first_constraint + i for i, c in enumerate(self.model.constraints)}
        for name, feature in self.features.items():
            constraints = [ids[id(c)] for c in self.constraints_of.get(name, ())]
            own, asked = [index[name]], [index[name], n + index[name]]
            g = self.group_of.get(name)
            if feature.parent is not None:
                asked.append(index[feature.parent])
                if g is not None and counted[g]:
                    own.append(2 * n + g)
                    asked.append(2 * n + g)
                else:
                    own.append(n + index[feature.parent])
            asked.extend(2 * n + k for k in self.groups_of.get(name, ()) if counted[k])
            self._witness_keys[name] = (*own, *constraints)
            self._conflict_keys[name] = (*asked, *constraints)

    def witness_keys(self, names: list[str]) -> set[int]:
        """Keys to file a set of changes (a witness) under."""
        if not self._witness_keys:
            self._relation_keys()
        return {key for name in names for key in self._witness_keys[name]}

    def conflict_keys(self, names: list[str]) -> set[int]:
        """Keys of every filed change set that may share a relation with changes to these features.

        Sound by case: two change sets can only meet in a relation if they change the same
        feature (``H``), a parent and its child (``H`` of the parent, ``M``/``G`` of its groups),
        two members of one cardinality group (``G``) or two features of one constraint (``C``).
        A witness whose keys miss every key here stays a valid configuration after these changes.
        """
        if not self._conflict_keys:
            self._relation_keys()
        return {key for name in names for key in self._conflict_keys[name]}

    def fork(self, chosen: set[str]) -> LocalMoves:
        """A second walker on the valid configuration ``chosen``, sharing this one's model tables."""
        other = copy.copy(self)
        other.frozen = set(self.frozen)
        other.reset(chosen)
        return other

    def reset(self, chosen: set[str]) -> None:
        """Start from another valid configuration."""
        self.chosen = chosen
        self.count = [0] * len(self.groups)
        group_of = self.group_of
        for name in chosen:  # a configuration selects few features: count through them, not the groups
            g = group_of.get(name)
            if g is not None:
                self.count[g] += 1

    def move(self, name: str, select: bool) -> list[str] | None:
        """Apply a move; the features it changed if the result is valid, else undo and ``None``."""
        self.log = {}
        try:
            if select:
                self._select(name)
            else:
                self._deselect(name)
            changed = [n for n, was in self.log.items() if (n in self.chosen) != was]
            if self._valid(changed):
                return changed
        except _TooBig:
            pass
        self._undo()
        return None

    def probe(self, name: str, select: bool) -> list[str] | None:
        """Like :meth:`move`, but the configuration is left as it was: the changes of a valid move, or ``None``."""
        changed = self.move(name, select)
        if changed is not None:
            self._undo()
        return changed

    def _undo(self) -> None:
        for n, was in self.log.items():
            if was != (n in self.chosen):
                (self.chosen.add if was else self.chosen.discard)(n)
                g = self.group_of.get(n)
                if g is not None:
                    self.count[g] += 1 if was else -1

    def _add(self, name: str) -> None:
        if len(self.log) > MOVE_LIMIT:
            raise _TooBig
        if name not in self.chosen:
            self.log.setdefault(name, False)
            self.chosen.add(name)
            g = self.group_of.get(name)
            if g is not None:
                self.count[g] += 1

    def _remove(self, name: str) -> None:
        if len(self.log) > MOVE_LIMIT:
            raise _TooBig
        if name in self.chosen:
            self.log.setdefault(name, True)
            self.chosen.discard(name)
            g = self.group_of.get(name)
            if g is not None:
                self.count[g] -= 1

    def _drop(self, name: str) -> None:
        stack = [name]
        while stack:
            current = stack.pop()
            if current in self.chosen:
                self._remove(current)
                stack.extend(self.features[current].children())

    def _select(self, name: str) -> None:
        path = [name, *self.model.ancestors(name)]
        while path and path[-1] in self.chosen:
            path.pop()
        for i in range(len(path) - 1, -1, -1):
            feature = path[i]
            self._add(feature)
            g = self.group_of.get(feature)
            if g is not None:
                children, _, high = self.groups[g]
                surplus = self.count[g] - high
                if surplus > 0:
                    for sibling in [c for c in children if c in self.chosen and c != feature][:surplus]:
                        self._drop(sibling)
            self._complete(feature, path[i - 1] if i else None)

    def _deselect(self, name: str) -> None:
        self._drop(name)
        g = self.group_of.get(name)
        if g is None or self.features[name].parent not in self.chosen:
            return
        children, low, _ = self.groups[g]
        for child in children:
            if self.count[g] >= low:
                break
            if child != name and child not in self.chosen:
                self._add(child)
                self._complete(child, None)

    def _complete(self, name: str, next_on_path: str | None) -> None:
        """Fill the groups of a newly selected feature up to their minimum (the path's next counts)."""
        stack = [name]
        while stack:
            for g in self.groups_of.get(stack.pop(), ()):
                children, low, _ = self.groups[g]
                count = self.count[g] + (self.group_of.get(next_on_path or "") == g)
                for child in children:
                    if count >= low:
                        break
                    if child not in self.chosen and child != next_on_path:
                        self._add(child)
                        stack.append(child)
                        count += 1

    def _valid(self, changed: list[str]) -> bool:  # noqa: C901 - the local-move validity check, kept flat because it is hot
        after = self.chosen
        if self.frozen and not self.frozen.isdisjoint(changed):
            return False  # a configurator's decisions stay as the user set them
        if self.model.root not in after:
            return False
        groups: set[int] = set()
        constraints: dict[int, Constraint] = {}
        for name in changed:
            feature = self.features[name]
            if feature.parent is not None and name in after and feature.parent not in after:
                return False
            if name not in after and any(c in after for c in feature.children()):
                return False
            g = self.group_of.get(name)
            if g is not None and feature.parent in after:
                groups.add(g)
            if name in after:
                groups.update(self.groups_of.get(name, ()))
            for constraint in self.constraints_of.get(name, ()):
                constraints[id(constraint)] = constraint
            if len(constraints) > MOVE_LIMIT:
                return False  # touches hub features: evaluating would cost more than asking SAT
        for g in groups:
            _, low, high = self.groups[g]
            if not low <= self.count[g] <= high:
                return False
        return all(c.expr.evaluate(after) for c in constraints.values())
