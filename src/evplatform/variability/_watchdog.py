"""A wall-clock limit for SAT calls: a timer thread interrupts the solvers at the deadline.

python-sat's solvers have conflict and propagation budgets but no clock, and a budget says
nothing about seconds (one conflict on Automotive02 costs a thousand times one on the demo).
``solve_limited(expect_interrupt=True)`` releases the GIL and returns ``None`` once another
thread calls the solver's ``interrupt()``: a :class:`Watchdog` arms one ``threading.Timer`` for
its deadline, and each :meth:`Watchdog.solve` registers its solver for the length of the call, so
the timer interrupts whatever call is running when time is up. A call that is interrupted, or
made after the deadline, raises :class:`NotDecided`, which the caller turns into "not decided
in N s" (an unknown, never a guess).

An interrupt left pending on a solver would stop its next call at once; every solver a watchdog
interrupted belongs to a check that has just been abandoned, so none is reused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol, cast


class NotDecided(Exception):
    """A SAT check that did not finish within its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"not decided in {seconds:g} s")
        self.seconds = seconds


class Interruptible(Protocol):
    """What a watched solver offers (python-sat's Glucose4, Cadical195, …)."""

    def conf_budget(self, budget: int = ...) -> None: ...
    def solve_limited(self, assumptions: list[int] = ..., expect_interrupt: bool = ...) -> bool | None: ...
    def interrupt(self) -> None: ...


class Watchdog:
    """A deadline ``seconds`` after :meth:`__enter__` for every SAT call made through :meth:`solve`.

    ``seconds=None`` sets no limit (the calls still release the GIL, so other threads run
    meanwhile).
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._solvers: dict[int, Interruptible] = {}
        self._expired = threading.Event()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Watchdog:
        if self.seconds is not None:
            self._timer = threading.Timer(max(self.seconds, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()

    @property
    def expired(self) -> bool:
        return self._expired.is_set()

    @property
    def note(self) -> str:
        return str(NotDecided(self.seconds or 0.0))

    def check(self) -> None:
        """Raise :class:`NotDecided` once the deadline has passed (for loops between calls)."""
        if self._expired.is_set():
            raise NotDecided(self.seconds or 0.0)

    def solve(self, solver: Interruptible, assumptions: Iterable[int] = (), budget: int | None = None) -> bool | None:
        """``solver``'s answer under ``assumptions``; ``None`` only when ``budget`` conflicts ran out.

        Raises :class:`NotDecided` when the deadline passes before or during the call.
        """
        self.check()
        key = id(solver)
        with self._lock:
            self._solvers[key] = solver
        try:
            solver.conf_budget(-1 if budget is None else budget)  # -1: no budget (one left by an earlier call)
            result = solver.solve_limited(assumptions=list(assumptions), expect_interrupt=True)
        finally:
            with self._lock:  # after this the timer cannot reach the solver, which its owner may then delete
                del self._solvers[key]
        if result is None and (budget is None or self._expired.is_set()):
            raise NotDecided(self.seconds or 0.0)
        return cast("bool | None", result)

    def _fire(self) -> None:
        with self._lock:
            self._expired.set()
            for solver in self._solvers.values():
                solver.interrupt()
