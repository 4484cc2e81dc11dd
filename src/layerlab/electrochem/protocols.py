"""Test protocols: CC, CV, rest, the paper's rate test, cycling; each validated before any work.

Sign convention: current density > 0 discharges the cathode (lithiation).  ``1C`` is the
cathode's ``capacity_1C_A_m2`` (210 mA/g of active material for designs from
:mod:`layerlab.design`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from layerlab.electrochem.cell import HalfCell
from layerlab.electrochem.electrolyte import ocp_range_V, stoichiometry_at_ocp
from layerlab.electrochem.integrator import Integrator, Segment, Trace
from layerlab.errors import require

HOUR_S = 3600.0


CHARGE_MODES = ("symmetric", "fixed", "rest")
"""``symmetric``: each discharge follows a charge at the same C-rate; ``fixed``: at ``charge_c_rate``;
``rest``: no charge, each discharge starts from rest at the OCP of ``v_max_V`` (half cells)."""


@dataclass(frozen=True)
class RateTest:
    """A rate test: before each discharge a charge to ``v_max_V`` (CC, then CV when ``cv``).

    c_rates : discharge C-rates (each > 0)
    charge : "fixed" (CC at ``charge_c_rate`` before every discharge) or "symmetric" (CC at the
        discharge's own C-rate); the campaign's default (config schema) is "symmetric" without CV,
        what the paper's text states (README, rate-test protocol).  "rest" (half cells, no CV):
        no charge; the cell is set to rest at the OCP of ``v_max_V`` before every discharge, the
        limit of an infinitely slow CV charge and the state the resolved 3D runs start from
        (their DFN counterpart, ``workflow/rules/resolved3d.smk``).  This class's own defaults are
        the former campaign protocol, 0.2C CC-CV, which the benches and older tests name.
    charge_c_rate : CC charging rate of the "fixed" mode (validated in both modes)
    cv : a CV step at ``v_max_V`` after the CC charge, ending at ``cv_end_c_rate``
    rest_s : rest after each charge and each discharge (0: none)
    """

    c_rates: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0)
    charge_c_rate: float = 0.2
    cv_end_c_rate: float = 0.05
    v_min_V: float = 2.7
    v_max_V: float = 4.3
    rest_s: float = 0.0
    charge: str = "fixed"
    cv: bool = True

    def charge_rate(self, c_rate: float) -> float:
        """C-rate of the CC charge before the discharge at ``c_rate``."""
        return c_rate if self.charge == "symmetric" else self.charge_c_rate

    def charge_segments(self, cell: HalfCell, c_rate: float) -> list[Segment]:
        """CC charge (then CV, then rest, as configured) before the discharge at ``c_rate``."""
        c_ch = self.charge_rate(c_rate)
        segs = [cc(cell, -c_ch, v_max_V=self.v_max_V, label=f"charge {c_ch:g}C before {c_rate:g}C")]
        if self.cv:
            segs.append(cv(cell, self.v_max_V, self.cv_end_c_rate, label=f"CV before {c_rate:g}C"))
        if self.rest_s > 0:
            segs.append(rest(self.rest_s))
        return segs

    def validate(self, cell: HalfCell, field_prefix: str = "electrochem.protocol") -> None:
        """Raise InputError (naming the field) for a zero/negative/non-finite rate, an unknown
        charge mode or an impossible cut-off."""
        require(len(self.c_rates) > 0, f"{field_prefix}.c_rates", "empty", "at least one C-rate > 0")
        for i, c in enumerate(self.c_rates):
            require(_positive(c), f"{field_prefix}.c_rates[{i}]", f"got {c!r}", "a finite C-rate > 0")
        for name in ("charge_c_rate", "cv_end_c_rate"):
            v = getattr(self, name)
            require(_positive(v), f"{field_prefix}.{name}", f"got {v!r}", "a finite C-rate > 0")
        require(self.charge in CHARGE_MODES, f"{field_prefix}.charge", f"got {self.charge!r}",
                " or ".join(CHARGE_MODES))
        require(isinstance(self.cv, bool), f"{field_prefix}.cv", f"got {self.cv!r}", "true or false")
        if self.charge == "rest":
            require(cell.anode is None, f"{field_prefix}.charge", "got 'rest' for a full cell",
                    "symmetric or fixed (rest sets a half cell's cathode to the OCP of v_max_V)")
            require(not self.cv, f"{field_prefix}.cv", "got true with charge 'rest'", "false (no charge, no CV)")
        if self.cv:
            slowest = min(self.charge_rate(c) for c in self.c_rates)
            require(self.cv_end_c_rate < slowest, f"{field_prefix}.cv_end_c_rate",
                    f"got {self.cv_end_c_rate!r}", f"< the slowest charge C-rate ({slowest:g})")
        require(_finite(self.rest_s) and self.rest_s >= 0, f"{field_prefix}.rest_s", f"got {self.rest_s!r}",
                "finite, >= 0")
        require(_finite(self.v_min_V), f"{field_prefix}.v_min_V", f"got {self.v_min_V!r}", "a finite voltage")
        require(_finite(self.v_max_V), f"{field_prefix}.v_max_V", f"got {self.v_max_V!r}", "a finite voltage")
        check_cutoffs(cell, self.v_min_V, self.v_max_V, field_prefix)


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive(v: object) -> bool:
    return _finite(v) and v > 0


def ocv_range_V(cell: HalfCell) -> tuple[float, float]:
    """Range of the cell's open-circuit voltage: the cathode OCP range (half cell), or the cathode
    OCP range minus the anode OCP range (full cell: U_p,min - U_n,max, U_p,max - U_n,min)."""
    u_min, u_max = ocp_range_V(cell.params.positive.ocp)
    if cell.anode is not None:
        n_min, n_max = ocp_range_V(cell.params.negative.ocp)
        u_min, u_max = u_min - n_max, u_max - n_min
    return u_min, u_max


def check_cutoffs(cell: HalfCell, v_min_V: float, v_max_V: float, field_prefix: str) -> None:
    """Cut-offs must lie inside what the cell OCV can reach (:func:`ocv_range_V`).

    The upper cut-off must lie strictly inside the OCP range over stoichiometry [0, 1] (else the
    charge can never end, or never start); the lower cut-off must be positive and below the
    OCP maximum and the upper cut-off.  (A lower cut-off below the OCP minimum is allowed: the
    discharge then ends by saturation of the particle surface.)
    """
    u_min, u_max = ocv_range_V(cell)
    what = "full-cell OCV" if cell.anode is not None else "cathode OCP"
    require(u_min < v_max_V < u_max, f"{field_prefix}.v_max_V", f"got {v_max_V!r} V",
            f"inside the {what} range ({u_min:.3f}, {u_max:.3f}) V")
    require(0 < v_min_V < v_max_V, f"{field_prefix}.v_min_V", f"got {v_min_V!r} V",
            f"(0, v_max_V = {v_max_V}) V")


def one_c_A_m2(cell: HalfCell) -> float:
    """Current density of 1C, A/m2 (design value, else the theoretical capacity per hour)."""
    if cell.cathode.capacity_1C_A_m2 is not None:
        return cell.cathode.capacity_1C_A_m2
    pos = cell.params.positive
    return cell.theoretical_capacity_C_m2(pos.initial_stoichiometry, pos.discharged_stoichiometry) / HOUR_S


def cc(cell: HalfCell, c_rate: float, v_min_V: float | None = None, v_max_V: float | None = None,
       duration_s: float | None = None, label: str = "") -> Segment:
    """Constant current (C-rate > 0 discharges, < 0 charges) until a cut-off."""
    require(c_rate != 0, "electrochem.protocol.c_rate", "got 0", "a non-zero C-rate (use rest for zero)")
    dur = duration_s if duration_s is not None else 3.0 * HOUR_S / abs(c_rate)
    return Segment("current", c_rate * one_c_A_m2(cell), dur, v_min_V=v_min_V, v_max_V=v_max_V,
                   label=label or f"CC {c_rate:g}C")


def cv(cell: HalfCell, voltage_V: float, end_c_rate: float, duration_s: float = 10 * HOUR_S,
       label: str = "") -> Segment:
    """Constant voltage until |I| < end_c_rate x 1C."""
    require(end_c_rate > 0, "electrochem.protocol.cv_end_c_rate", f"got {end_c_rate!r}", "> 0")
    return Segment("voltage", voltage_V, duration_s, i_min_A_m2=end_c_rate * one_c_A_m2(cell),
                   label=label or f"CV {voltage_V:g} V")


def rest(duration_s: float, label: str = "rest") -> Segment:
    require(duration_s > 0, "electrochem.protocol.rest_s", f"got {duration_s!r}", "> 0")
    return Segment("current", 0.0, duration_s, label=label)


@dataclass
class ProtocolResult:
    """Traces of every segment and the discharge capacity per C-rate."""

    segments: list[Segment] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    discharge_c_rates: list[float] = field(default_factory=list)
    discharge_capacity_C_m2: list[float] = field(default_factory=list)
    charge_capacity_C_m2: list[float] = field(default_factory=list)


def run_segments(integrator: Integrator, segments: Sequence[Segment], result: ProtocolResult) -> None:
    for seg in segments:
        result.segments.append(seg)
        result.traces.append(integrator.run(seg))


def run_rate_test(integrator: Integrator, test: RateTest, field_prefix: str = "electrochem.protocol",
                  on_cycle=None) -> ProtocolResult:
    """Charge (:meth:`RateTest.charge_segments`; ``charge`` "rest": the rest state at the OCP of
    ``v_max_V`` instead), CC discharge, (rest) for every C-rate, in order.

    ``on_cycle(k, result)``, if given, is called after the k-th discharge (progress logging)."""
    cell = integrator.m.cell
    test.validate(cell, field_prefix)
    res = ProtocolResult()
    for c in test.c_rates:
        q0 = integrator.charge_C_m2
        if test.charge == "rest":
            integrator.restart_from_rest(stoichiometry_at_ocp(cell.params.positive.ocp, test.v_max_V))
        else:
            run_segments(integrator, test.charge_segments(cell, c), res)
        q1 = integrator.charge_C_m2
        segs = [cc(cell, c, v_min_V=test.v_min_V, label=f"discharge {c:g}C")]
        if test.rest_s > 0:
            segs.append(rest(test.rest_s))
        run_segments(integrator, segs[:1], res)
        q2 = integrator.charge_C_m2
        run_segments(integrator, segs[1:], res)
        res.discharge_c_rates.append(c)
        res.charge_capacity_C_m2.append(q0 - q1)
        res.discharge_capacity_C_m2.append(q2 - q1)
        if on_cycle is not None:
            on_cycle(len(res.discharge_capacity_C_m2) - 1, res)
    return res


def run_cycling(integrator: Integrator, cycles: int, c_rate: float, charge_c_rate: float,
                v_min_V: float, v_max_V: float, cv_end_c_rate: float = 0.05,
                field_prefix: str = "electrochem.protocol", on_cycle=None) -> ProtocolResult:
    """Repeated CC-CV charge / CC discharge."""
    require(cycles >= 1, f"{field_prefix}.cycles", f"got {cycles!r}", ">= 1")
    test = RateTest(c_rates=(c_rate,) * cycles, charge_c_rate=charge_c_rate, cv_end_c_rate=cv_end_c_rate,
                    v_min_V=v_min_V, v_max_V=v_max_V, charge="fixed", cv=True)
    return run_rate_test(integrator, test, field_prefix, on_cycle)
