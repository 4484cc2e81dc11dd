"""Electrochemical double layers as a DFN term (half cell): the cathode particles' and the lithium
foil's interfaces charge like capacitors in parallel with their reactions.

``i_dl = C_dl a d(phi_s - phi_e)/dt`` (A/m3, ``a = sum_p 3 eps_p / R_p``) leaves the solid and
enters the electrolyte's charge balance; at the foil ``C_Li d(phi_Li - phi_e)/dt`` (A/m2,
``phi_Li = 0``) enters it at ``x = 0`` and adds to the cell current.  The salt balance sees only
the faradaic currents (the capacitive current moves no lithium): the same double layers the small-signal
impedance (:class:`~layerlab.electrochem.impedance.LinearisedDFN`) adds to its mass matrix, so
with this term the time-domain DFN has them too.  Values: typical 0.1-0.2 F/m2 of interface
(10-20 uF/cm2, e.g. Ong & Newman, J. Electrochem. Soc. 146 (1999) 4360).

Use: ``DFNModel(cell, extra_terms=[DoubleLayer(DoubleLayerParams(0.2, 0.2))])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from layerlab.electrochem.terms import LEFT, FormContext, Term
from layerlab.errors import require


@dataclass(frozen=True)
class DoubleLayerParams:
    """Double-layer capacitances, F per m2 of interface (particle surface; foil area)."""

    cathode_F_m2: float = 0.2
    lithium_F_m2: float = 0.2

    def __post_init__(self) -> None:
        for f in ("cathode_F_m2", "lithium_F_m2"):
            c = getattr(self, f)
            require(math.isfinite(c) and c >= 0, f"double_layer.{f}", f"got {c!r}", "a finite capacitance >= 0 F/m2")


class DoubleLayer(Term):
    """Capacitive currents of the cathode particles' and the Li foil's double layers."""

    name = "double layer"

    def __init__(self, params: DoubleLayerParams) -> None:
        self.params = params

    def reactions(self, ctx: FormContext) -> None:
        m = ctx.model
        require(m.cell.anode is None, "double_layer", "a full cell", "a half cell (Li foil at x = 0)")
        area = sum(3.0 * m.eps_p[p] / m.cell.cathode.radius_m[p] for p in m.pops)
        lay = ctx.layout
        self._i_dl = self.params.cathode_F_m2 * area * (ctx.ddt(lay.phi_s) - ctx.ddt(lay.phi_e))
        self._i_li = -self.params.lithium_F_m2 * ctx.ddt(lay.phi_e)      # foil -> electrolyte, A/m2
        ctx.cell_current = ctx.cell_current + self._i_li * ctx.ds(LEFT)

    def residual(self, ctx: FormContext) -> Any:
        v, lay = ctx.v, ctx.layout
        # out of the solid (+ in the phi_s row), into the electrolyte (- in the phi_e rows)
        return (self._i_dl * (v[lay.phi_s] - v[lay.phi_e]) * ctx.dxv
                - self._i_li * v[lay.phi_e] * ctx.ds(LEFT))
