"""Errors the commands report in one line: bad input (naming the field and what is allowed) and
failed numerical solves."""

from __future__ import annotations

from typing import Any, Mapping


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


class SolverError(RuntimeError):
    """A numerical solve failed even after the allowed step reductions (what failed, when, where)."""


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


def options_from_mapping(cls: type, section: "Mapping[str, Any] | None", field: str) -> Any:
    """Build the options dataclass ``cls`` from a config mapping; unknown keys raise InputError.

    ``field`` is the dotted config path of the section (e.g. ``geometry.packing2d``); an unknown
    key ``k`` is reported as ``<field>.<k>`` with the known keys as what is allowed.
    """
    import dataclasses

    if section is not None and not isinstance(section, Mapping):
        raise InputError(field, f"got {section!r}", "a mapping of options")
    section = dict(section or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    known = sorted(fields)
    for key in sorted(section):
        require(key in known, f"{field}.{key}", "unknown option", ", ".join(known))
        section[key] = _typed(section[key], fields[key].type, f"{field}.{key}")
    return cls(**section)


def _typed(value: Any, annotation: Any, field: str) -> Any:
    """``value`` checked against a scalar annotation (``float``, ``int``, ``bool``, ``str``, optionally
    ``| None``): numbers finite, no bool for a number, no text for either; other annotations as given."""
    import math
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    optional = name.endswith(" | None")
    name = name.removesuffix(" | None")
    if value is None and optional:
        return None
    if name in ("float", "int"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if name == "int":
            ok = ok and float(value).is_integer()
        require(ok, field, f"got {value!r}", "a finite number" if name == "float" else "an integer")
        return float(value) if name == "float" else int(value)
    if name == "bool":
        require(isinstance(value, bool), field, f"got {value!r}", "true or false")
    elif name == "str":
        require(isinstance(value, str), field, f"got {value!r}", "text")
    return value
