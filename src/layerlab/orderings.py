"""Whether model values follow an order the paper states: one :class:`Row` per statement.

Shared by the comparison table (:mod:`layerlab.aggregate.comparison`) and the calibration
(:mod:`layerlab.electrochem.calibration`), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

TIE_REL = 0.005
"""Relative difference below which two model values count as equal (the DFN's mesh/step accuracy)."""


@dataclass
class Row:
    """One line of results/comparison.csv."""

    figure: str
    kind: str          # "value" or "ordering"
    quantity: str
    case: str
    paper: str
    model: str
    holds: str         # "yes", "no", "n/a" (a value: see difference), "not run"
    note: str = ""


def ordering_row(figure: str, quantity: str, case: str, values: Mapping[str, float],
                 expected: Sequence[str], descending: bool = True, unit: str = "") -> Row:
    """A row for the paper's statement that ``values`` follow ``expected`` (first is largest)."""
    paper = (" > " if descending else " < ").join(expected)
    if any(np.isnan(values.get(k, np.nan)) for k in expected):
        return Row(figure, "ordering", quantity, case, paper, "not run", "not run")
    model = "; ".join(f"{k}: {values[k]:.4g}{(' ' + unit) if unit else ''}" for k in expected)
    sign = 1.0 if descending else -1.0
    gaps = [sign * (values[a] - values[b]) for a, b in zip(expected, expected[1:])]
    scale = max(abs(values[k]) for k in expected) or 1.0
    if all(g > TIE_REL * scale for g in gaps):
        return Row(figure, "ordering", quantity, case, paper, model, "yes")
    tie = all(g > -TIE_REL * scale for g in gaps)
    return Row(figure, "ordering", quantity, case, paper, model, "no",
               f"tie within {TIE_REL:.1%} (the model's resolution)" if tie else "")


def best_row(figure: str, quantity: str, case: str, values: Mapping[str, float], best: str,
             largest: bool = True, unit: str = "") -> Row:
    """A row for the paper's statement that ``best`` has the largest (or smallest) value."""
    paper = f"{best} {'largest' if largest else 'smallest'} of {', '.join(values)}"
    if any(np.isnan(v) for v in values.values()):
        return Row(figure, "ordering", quantity, case, paper, "not run", "not run")
    model = "; ".join(f"{k}: {v:.4g}{(' ' + unit) if unit else ''}" for k, v in values.items())
    others = [v for k, v in values.items() if k != best]
    sign = 1.0 if largest else -1.0
    margin = min(sign * (values[best] - v) for v in others)
    scale = max(abs(v) for v in values.values()) or 1.0
    holds = margin > TIE_REL * scale
    note = f"tie within {TIE_REL:.1%} (the model's resolution)" if not holds and margin > -TIE_REL * scale else ""
    return Row(figure, "ordering", quantity, case, paper, model, "yes" if holds else "no", note)
