"""Input errors that name the offending field and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input, detected before any work is done.

    Parameters
    ----------
    field : dotted name of the offending field (e.g. ``design.porosity``)
    problem : what is wrong with the given value
    allowed : what would have been accepted
    """

    def __init__(self, field: str, problem: str, allowed: str = "") -> None:
        self.field = field
        self.problem = problem
        self.allowed = allowed
        msg = f"{field}: {problem}"
        if allowed:
            msg += f" (allowed: {allowed})"
        super().__init__(msg)


def require(condition: bool, field: str, problem: str, allowed: str = "") -> None:
    """Raise :class:`InputError` unless ``condition`` holds."""
    if not condition:
        raise InputError(field, problem, allowed)


def require_in_range(value: float, field: str, low: float, high: float,
                     *, low_open: bool = False, high_open: bool = False) -> None:
    """Raise :class:`InputError` unless ``low <= value <= high`` (or the open variants)."""
    lo_ok = value > low if low_open else value >= low
    hi_ok = value < high if high_open else value <= high
    if not (lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise InputError(field, f"got {value!r}", f"{lb}{low}, {high}{rb}")
