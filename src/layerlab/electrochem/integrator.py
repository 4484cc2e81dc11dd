"""Adaptive implicit time stepping of a :class:`~layerlab.electrochem.dfn.DFNModel`.

Variable-step BDF2 (BDF1 for the first step of a segment).  The local error is estimated from
the difference between the implicit solution and the linear extrapolation of the last two
states, on the time-differentiated unknowns, in a weighted RMS norm (``rtol``, ``atol`` on the
scaled unknowns), and on the cell voltage in current mode; steps are accepted when both are <= 1.
A failed Newton solve halves the step and retries, ``max_halvings`` times, then raises :class:`SolverFailure` with a clear message.
A converged step that leaves a radial stoichiometry outside [0, 1] counts as failed: BDF2 can
overshoot 1 next to a surface that has just saturated, and from such a state no step converges
(seen at the end of 0.1C discharges with a layer conductivity ~1e-3 S/m, where one layer saturates
while another still reacts; ``tests/verification/test_dfn_low_conductivity.py``).

A discharge whose reacting particle surfaces are all saturated while the voltage is below the
OCP range (the voltage then plunges toward the cut-off: j0 -> 0 as c_surf -> c_max) ends at the
last accepted state when a step of at most ``PLUNGE_DT_FRACTION`` of the segment's elapsed time can
no longer be solved; the end reason says so.  The charge left to the cut-off is below I x dt of
that step (PyBaMM/IDAKLU, which follows the plunge to the cut-off, gives capacities within 0.02-0.6 % on the paper's rate test; bench_dfn.py).

Events (cut-off voltage in CC, cut-off current in CV) are located by secant iteration on the
step size from the last accepted state, to ``|V - V_cut| < 1e-6 V`` (or 1e-6 relative current),
so that the capacity does not depend on the step size.

Charge is integrated with the same BDF recursion as the storage terms
(``a0 Q_{n+1} + a1 Q_n + a2 Q_{n-1} = dt I_{n+1}``), so lithium in the cell plus charge through
the lithium foil / F is conserved to solver tolerance, and the reported capacity is exactly the
charge that moved the lithium.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from layerlab.electrochem.dfn import DFNModel, SolverFailure
from layerlab.fe import MPI

log = logging.getLogger("layerlab.electrochem")

STOICHIOMETRY_SLACK = 1e-12
"""A converged step whose radial stoichiometry leaves [0, 1] by more than this is rejected."""
PLUNGE_DT_FRACTION = 1e-4
"""A discharge in the saturation plunge ends once a step of at most this fraction of the time
elapsed in the segment can no longer be solved (the charge it leaves is below that fraction of the
step's discharge); larger failed steps are halved further."""
OVERSHOOT = -200
"""Reason returned by ``Integrator._try`` for such a step (SNES reasons are > -200)."""


@dataclass
class Segment:
    """One protocol step.

    mode : "current" (value = current density, A/m2, discharge positive) or "voltage" (V)
    v_min_V / v_max_V : voltage events in current mode; i_min_A_m2 : |current| event in voltage mode
    duration_s : end time of the segment (always an event)
    """

    mode: str
    value: float
    duration_s: float
    v_min_V: float | None = None
    v_max_V: float | None = None
    i_min_A_m2: float | None = None
    label: str = ""


@dataclass
class Trace:
    """Time series recorded at every accepted step (first entry: segment start)."""

    t_s: list[float] = field(default_factory=list)
    voltage_V: list[float] = field(default_factory=list)
    current_A_m2: list[float] = field(default_factory=list)
    charge_C_m2: list[float] = field(default_factory=list)
    inventory_mol_m2: list[float] = field(default_factory=list)
    sei_current_A_m2: list[float] = field(default_factory=list)
    sei_lithium_mol_m2: list[float] = field(default_factory=list)
    profiles: list[dict] = field(default_factory=list)
    end_reason: str = ""
    steps: int = 0
    newton_its: int = 0
    rejected: int = 0


class Integrator:
    """Runs segments on a model, keeping time, charge and the BDF history between them."""

    def __init__(self, model: DFNModel, record_profiles: bool = True, current_ramp_s: float = 1.0,
                 max_steps: int = 20000) -> None:
        self.m = model
        self.d = model.disc
        self.t_s = 0.0
        self.charge_C_m2 = 0.0          # net charge through the foil (discharge positive)
        self.record_profiles = record_profiles
        self.current_ramp_s = current_ramp_s
        self.max_steps = max_steps
        self._ramp_from: float | None = None
        self._seg_t0 = 0.0
        self._last_current: float | None = None
        self._diff = np.tile(model.layout.differential_mask(), model.u.x.array.size // model.layout.size)
        nloc = model.V.dofmap.index_map.size_local * model.layout.size
        self._diff_idx = np.flatnonzero(self._diff[:nloc])     # owned differential dofs

    def restart_from_rest(self, stoichiometry: float) -> None:
        """Set the cell to its rest state at cathode ``stoichiometry`` (:meth:`DFNModel.set_initial_state`)
        with no current before it: the next current step starts as from a fresh integrator (no ramp);
        time and charge run on."""
        self.m.set_initial_state(stoichiometry)
        self._last_current = None

    # -- helpers ------------------------------------------------------------------------------
    def _err(self, dt: float, dt_prev: float | None) -> float:
        """Error estimate of the last step (<= 1 accepted): the distance between the implicit
        solution and the linear extrapolation of the last two states (BDF1's error where
        ``dt_prev`` is None), scaled by ``dt / (dt + dt_prev)``, in the weighted RMS norm over the
        time-differentiated unknowns (weights ``rtol |u| + atol``: IDA's norm, Hindmarsh et al., ACM
        TOMS 31 (2005) 363).  The RMS norm replaced a max norm (2026-12-08): half the steps on the
        paper's rate test, capacities within 0.03 mAh/g of a run at 100x tighter tolerances
        (README, bench_dfn.py)."""
        m = self.m
        d = self._diff_idx
        ud, un = m.u.x.array[d], m.u_n.x.array[d]
        if dt_prev is None:
            pred = un
            scale = 0.5
        else:
            pred = un + (un - m.u_nn.x.array[d]) * (dt / dt_prev)
            scale = dt / (dt + dt_prev)
        e = np.abs(ud - pred)
        e /= self.d.time_atol + self.d.time_rtol * np.abs(ud)
        sq = m.comm.allreduce(float(e @ e), op=MPI.SUM)
        n = m.comm.allreduce(int(e.size), op=MPI.SUM)
        return scale * math.sqrt(sq / n) if n else 0.0

    def _voltage_err(self, seg: Segment, tr: Trace, dt: float, dt_prev: float | None, v: float) -> float:
        """The same estimate for the cell voltage ``v`` of the step in current mode, from the second
        step of a segment on (its first recorded voltage belongs to the previous current), weights
        ``rtol |V| + atol`` (V), except in the saturation plunge (:meth:`_plunging`).  The voltage is
        algebraic, so the estimate on the differential unknowns alone lets steps grow across the
        knees of the discharge curve: on PyBaMM's
        Mohtat2020 half cell at 1C the voltage between steps, interpolated linearly, was 19 mV
        RMS off PyBaMM's with the RMS norm alone, against 1.3 mV with the earlier max norm
        (2026-12-08)."""
        if seg.mode != "current" or dt_prev is None or len(tr.voltage_V) < 3:
            return 0.0
        if self._plunging(seg, v):      # the saturation plunge has its own end rule
            return 0.0
        v_n, v_nn = tr.voltage_V[-1], tr.voltage_V[-2]
        pred = v_n + (v_n - v_nn) * (dt / dt_prev)
        return dt / (dt + dt_prev) * abs(v - pred) / (self.d.time_atol + self.d.time_rtol * abs(v))

    def _try(self, seg: Segment, dt: float, dt_prev: float | None, saved: tuple, retry: bool = True) -> int:
        """Restore the saved state and attempt one step of size dt; a failed solve from the
        extrapolated guess is retried once from the last state when ``retry``."""
        m = self.m
        m.u_n.x.array[:] = saved[0]
        m.u_nn.x.array[:] = saved[1]
        if dt_prev is None:
            m.u.x.array[:] = saved[0]
        else:       # linear extrapolation as the Newton initial guess
            m.u.x.array[:] = saved[0] + (saved[0] - saved[1]) * (dt / dt_prev)
        m.set_bdf(dt, dt_prev)
        value = self._applied(seg, self.t_s + dt)
        reason = m.solve(seg.mode, value, robust=dt_prev is None)
        if reason <= 0 and dt_prev is not None and retry:   # retry from the last state
            m.u.x.array[:] = saved[0]
            reason = m.solve(seg.mode, value)
        if reason > 0 and m.stoichiometry_excess() > STOICHIOMETRY_SLACK:
            return OVERSHOOT        # a stoichiometry left [0, 1]: a smaller step (DFNModel.stoichiometry_excess)
        return reason

    def _applied(self, seg: Segment, t: float) -> float:
        """Applied current (or voltage) at time t: a current step is ramped linearly from the
        last current over ``current_ramp_s`` (a continuation that keeps Newton in its basin
        when the current reverses at a saturated surface; it changes the charge passed by at
        most |dI| x ramp / 2, and the charge bookkeeping uses the actual current)."""
        if seg.mode != "current" or self.current_ramp_s <= 0 or self._ramp_from is None:
            return seg.value
        frac = min(1.0, (t - self._seg_t0) / self.current_ramp_s)
        return self._ramp_from + (seg.value - self._ramp_from) * frac

    def _event(self, seg: Segment, V: float, I: float) -> float:
        """Signed event function: crosses zero when the segment must stop (negative = past)."""
        g = math.inf
        if seg.mode == "current":
            if seg.v_min_V is not None:
                g = min(g, V - seg.v_min_V)
            if seg.v_max_V is not None:
                g = min(g, seg.v_max_V - V)
        elif seg.i_min_A_m2 is not None:
            g = (abs(I) - seg.i_min_A_m2) / max(seg.i_min_A_m2, 1e-30)
        return g

    # -- main loop --------------------------------------------------------------------------------
    def run(self, seg: Segment) -> Trace:
        """Integrate one segment until its event or duration; returns its trace."""
        m, d = self.m, self.d
        tr = Trace()
        t0 = self.t_s
        t_end = t0 + seg.duration_s
        dt_prev: float | None = None
        self._seg_t0 = t0
        self._ramp_from = self._last_current if seg.mode == "current" else None
        m.relax_surface_guess()
        prev_state = m.u.x.array.copy()      # state at t_{n-1} (BDF2 history)
        q_prev = self.charge_C_m2
        dt = min(d.dt_initial_s, seg.duration_s)
        self._record(tr, seg)
        g_old = None
        while True:
            saved = (m.u.x.array.copy(), prev_state)
            q_saved = (self.charge_C_m2, q_prev)
            dt = min(dt, t_end - self.t_s)
            halvings = 0
            retry = not self._plunging(seg, tr.voltage_V[-1])     # no retry from the last state in the plunge
            while True:
                reason = self._try(seg, dt, dt_prev, saved, retry=retry)
                if reason <= 0:
                    halvings += 1
                    plunging = halvings > 3 and self._plunging(seg, tr.voltage_V[-1])
                    if plunging and (dt <= PLUNGE_DT_FRACTION * (self.t_s - t0)
                                     or halvings > d.max_halvings + 30):
                        break
                    if halvings > d.max_halvings and not plunging:
                        raise SolverFailure(
                            f"DFN Newton solve failed at t = {self.t_s:.6g} s in segment {seg.label!r} "
                            f"(mode {seg.mode}, value {seg.value:g}) after {d.max_halvings} step halvings "
                            f"(last dt = {dt:.3g} s, SNES reason {reason})")
                    dt *= 0.5
                    tr.rejected += 1
                    continue
                if reason <= 0:      # saturation plunge: end at the last accepted state
                    break
                V = m.voltage()
                err = max(self._err(dt, dt_prev), self._voltage_err(seg, tr, dt, dt_prev, V))
                if err > 1.0 and dt > 1e-6:
                    tr.rejected += 1
                    dt *= max(0.2, 0.9 / math.sqrt(err))
                    continue
                break
            if reason <= 0:
                m.u.x.array[:] = saved[0]
                tr.end_reason = "saturation (voltage plunge below the OCP range)"
                log.info("segment %s ended by particle-surface saturation at V = %.4f V, t = %.6g s: "
                         "the voltage falls steeply toward the cut-off and a step of %.2g s no longer "
                         "converges; charge left to the cut-off < I x that step", seg.label,
                         tr.voltage_V[-1], self.t_s, dt)
                break
            tr.newton_its += m.newton_iterations(seg.mode)
            I = m.current()
            g_new = self._event(seg, V, I)
            if g_new < 0:
                g0 = g_old if g_old is not None else self._event(seg, *self._last(tr))
                dt, V, I = self._locate(seg, saved, dt, dt_prev, g0, g_new)
                self._accept(dt, dt_prev, q_saved, I)
                self._record(tr, seg, V, I)
                tr.end_reason = "voltage cut-off" if seg.mode == "current" else "current cut-off"
                break
            self._accept(dt, dt_prev, q_saved, I)
            self._record(tr, seg, V, I)
            g_old = g_new
            prev_state, q_prev = saved[0], q_saved[0]
            if self.t_s >= t_end - 1e-9 * max(1.0, seg.duration_s):
                tr.end_reason = "duration"
                break
            if len(tr.t_s) > self.max_steps:
                raise SolverFailure(f"DFN segment {seg.label!r} exceeded {self.max_steps} steps at "
                                    f"t = {self.t_s:.6g} s (time step {dt:.3g} s)")
            dt_prev = dt
            dt = min(d.dt_max_s, dt * min(2.0, 0.9 / math.sqrt(max(err, 1e-4))))
        m.u_n.x.array[:] = m.u.x.array
        self._last_current = tr.current_A_m2[-1]
        tr.steps = len(tr.t_s) - 1
        log.info("segment %s: %s after %.1f s, %d steps (%d rejected), %d Newton iterations, V = %.4f V",
                 seg.label, tr.end_reason, self.t_s - t0, tr.steps, tr.rejected, tr.newton_its,
                 tr.voltage_V[-1])
        return tr

    def _plunging(self, seg: Segment, voltage_V: float) -> bool:
        """True when a discharge at ``voltage_V`` is below the OCP range with all reacting surfaces
        saturated (full cell: cathode surfaces saturated or graphite surfaces empty, at any voltage)."""
        if seg.mode != "current" or seg.value <= 0 or seg.v_min_V is None:
            return False
        if voltage_V >= self.m.ocp_min_V:
            return False
        return self.m.saturated()

    def _last(self, tr: Trace) -> tuple[float, float]:
        return tr.voltage_V[-1], tr.current_A_m2[-1]

    def _accept(self, dt: float, dt_prev: float | None, q_saved: tuple, I: float) -> None:
        a0, a1, a2 = (float(c.value) for c in self.m.a)
        q_n, q_nn = q_saved
        self.charge_C_m2 = (dt * I - a1 * q_n - a2 * q_nn) / a0
        self.t_s += dt

    def _locate(self, seg: Segment, saved: tuple, dt: float, dt_prev: float | None,
                g0: float, g1: float) -> tuple[float, float, float]:
        """Secant/bisection on the step size so the event function vanishes."""
        m = self.m
        lo, hi, g_lo, g_hi = 0.0, dt, g0, g1
        tol = 1e-6
        V = I = 0.0
        for _ in range(40):
            t = hi - g_hi * (hi - lo) / (g_hi - g_lo) if g_hi != g_lo else 0.5 * (lo + hi)
            if not (lo < t < hi) or (hi - lo) < 1e-12:
                t = 0.5 * (lo + hi)
            reason = self._try(seg, t, dt_prev, saved)
            if reason <= 0:
                t = 0.5 * (lo + hi)
                reason = self._try(seg, t, dt_prev, saved)
                if reason <= 0:
                    raise SolverFailure(f"DFN solve failed while locating the cut-off of segment {seg.label!r}")
            V, I = m.voltage(), m.current()
            g = self._event(seg, V, I)
            if abs(g) < tol or (g < 0 and hi - lo < 1e-9):
                return t, V, I
            if g > 0:
                lo, g_lo = t, g
            else:
                hi, g_hi = t, g
        return t, V, I

    def _record(self, tr: Trace, seg: Segment, V: float | None = None, I: float | None = None) -> None:
        """Append the state (``V``, ``I``: already evaluated at this state, else evaluated here)."""
        m = self.m
        tr.t_s.append(self.t_s)
        tr.voltage_V.append(m.voltage() if V is None else V)
        tr.current_A_m2.append(m.current() if I is None else I)
        tr.charge_C_m2.append(self.charge_C_m2)
        tr.inventory_mol_m2.append(m.lithium_inventory())
        if getattr(m, "sei", "none") != "none":
            tr.sei_current_A_m2.append(m.sei_current())
            tr.sei_lithium_mol_m2.append(m.sei_lithium())
        if self.record_profiles:
            tr.profiles.append(m.nodal_profiles())
