"""Uniform sampling from a d-DNNF compiled by d4 (its NNF text format), with exact big-integer counts.

d4's output is a decision-DNNF: ``o``/``a`` nodes, ``t``/``f`` leaves, and edges
``parent child lit… 0`` that set literals. It is not smooth (a branch may leave variables
out), so each node's variable set is kept as a bit mask and an OR branch's count is scaled
by 2^(variables it leaves out). Sampling walks down from the root: an OR picks a branch with
probability proportional to its scaled count (leaving-out variables get fair coins), an AND
samples every child. Each model is then drawn with probability 1/count: uniform.
"""

from __future__ import annotations

import random

import py_d4

from evplatform.errors import VariabilityError

Edge = tuple[int, list[int]]  # (child, literals set on the edge)


class DDNNF:
    """A parsed d-DNNF over variables ``1..n_vars``; :meth:`sample` draws models uniformly."""

    def __init__(self, nnf: str, n_vars: int) -> None:
        self.n_vars = n_vars
        self.kind: dict[int, str] = {}
        self.edges: dict[int, list[Edge]] = {}
        for line in nnf.splitlines():
            parts = line.split()
            if not parts or parts[0] == "c":
                continue
            if parts[0] in ("o", "a", "t", "f"):
                node = int(parts[1])
                self.kind[node] = parts[0]
                self.edges.setdefault(node, [])
            else:
                numbers = [int(x) for x in parts]
                self.edges.setdefault(numbers[0], []).append((numbers[1], numbers[2:-1]))
        children = {child for edges in self.edges.values() for child, _ in edges}
        roots = [node for node in self.kind if node not in children]
        if len(roots) != 1:
            raise VariabilityError(f"d4 returned a d-DNNF with {len(roots)} roots")
        self.root = roots[0]
        self.mask: dict[int, int] = {}
        self.count: dict[int, int] = {}
        for node in self._postorder(self.root):
            self._evaluate(node)
        # d4 numbers nodes differently from run to run; a canonical edge order keeps seeded samples equal
        for edges in self.edges.values():
            edges.sort(key=lambda e: (self._edge(e)[0], sorted(e[1])))

    def _postorder(self, root: int) -> list[int]:
        order: list[int] = []
        seen = {root}
        stack = [(root, iter(self.edges[root]))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(self.edges[child])))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def _edge(self, edge: Edge) -> tuple[int, int]:
        child, literals = edge
        mask = self.mask[child]
        for lit in literals:
            mask |= 1 << abs(lit)
        return mask, self.count[child]

    def _evaluate(self, node: int) -> None:
        kind = self.kind[node]
        if kind in ("t", "f"):
            self.mask[node], self.count[node] = 0, int(kind == "t")
            return
        parts = [self._edge(e) for e in self.edges[node]]
        mask = 0
        for m, _ in parts:
            mask |= m
        if kind == "a":
            count = 1
            for _, c in parts:
                count *= c
        else:
            width = mask.bit_count()
            count = sum(c << (width - m.bit_count()) for m, c in parts)
        self.mask[node], self.count[node] = mask, count

    def model_count(self) -> int:
        """Models over all ``n_vars`` variables (those the root never mentions are free)."""
        return self.count[self.root] << (self.n_vars - self.mask[self.root].bit_count())

    def sample(self, rng: random.Random) -> list[bool]:
        """One model drawn uniformly: ``values[v]`` for v in 1..n_vars (index 0 unused)."""
        if self.count[self.root] == 0:
            raise VariabilityError("the formula has no model to sample")
        values = [False] * (self.n_vars + 1)
        everything = ((1 << (self.n_vars + 1)) - 1) & ~1
        _coins(everything & ~self.mask[self.root], values, rng)
        stack = [self.root]
        while stack:
            node = stack.pop()
            kind = self.kind[node]
            edges = self.edges[node]
            if kind == "a":
                chosen = edges
            elif kind == "o":
                width = self.mask[node]
                weights = [c << (width.bit_count() - m.bit_count()) for m, c in map(self._edge, edges)]
                pick = rng.randrange(sum(weights))
                for edge, weight in zip(edges, weights, strict=True):
                    if pick < weight:
                        chosen = [edge]
                        _coins(width & ~self._edge(edge)[0], values, rng)
                        break
                    pick -= weight
            else:
                continue
            for child, literals in reversed(chosen):  # popped in canonical order
                for lit in literals:
                    values[abs(lit)] = lit > 0
                stack.append(child)
        return values


def _coins(mask: int, values: list[bool], rng: random.Random) -> None:
    """Fair coins for the variables in ``mask`` (they are free in the chosen branch)."""
    while mask:
        low = mask & -mask
        values[low.bit_length() - 1] = rng.random() < 0.5
        mask ^= low


def compile_ddnnf(clauses: list[list[int]], n_vars: int) -> DDNNF:
    """Compile with d4 (its statistics silenced) and parse the result."""
    from evplatform.variability.counting import d4_options, quiet_stdout

    with quiet_stdout():
        try:
            solver = py_d4.Solver(clauses, n_vars, d4_options())  # deterministic: seeded samples repeat
            text = solver.compile().getNNFString()
        except Exception as error:
            raise VariabilityError(f"d4 could not compile the model: {error}") from error
    return DDNNF(text, n_vars)
