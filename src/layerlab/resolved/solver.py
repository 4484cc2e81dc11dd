"""Galvanostatic time stepping of the resolved half cell: adaptive implicit Euler with cut-offs.

Steps grow (by ``growth``, 1.5x) after an easy step (Newton converged, voltage change below ``dv_max_V``) and
are halved on a failed Newton solve or a too-large voltage change.  A voltage cut-off is located
by secant/bisection on the length of the last step from the last accepted state, to
``|V - V_cut| < cutoff_tol_V`` (a failed solve counts as past the cut-off: near the end of a
discharge the particle surface saturates and the voltage plunges).  The charge is the time
integral of the lithium-foil current with the same implicit-Euler rule as the storage terms, so
``Li(t) - Li(0) = Q(t) / F`` to solver tolerance.

Every linear solve of the Newton iterations is counted (a KSP monitor): ``Trace.linear_solves``
(one per Newton iteration, rejected attempts and the cut-off search included) and
``Trace.linear_its`` (Krylov iterations; 1 per solve for MUMPS), so the iterations per Newton step of
``SolverSettings.linear`` can be compared at h and h/2 (``bench/bench_resolved.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from layerlab.errors import SolverError
from layerlab.resolved.model import FIELDS, ResolvedModel, SolverSettings

log = logging.getLogger("layerlab.resolved")


# GAMG tuning of ``gmres-fieldsplit`` (measured with bench/bench_resolved.py, README): dropping
# weak connections (threshold 0.05) keeps the V-cycles of the c_e and phi_e blocks effective on the
# graded sphere meshes; without it the GMRES iterations per Newton iteration grew 1.8x from h to h/2.
FIELDSPLIT_GAMG_OPTIONS = tuple((f"fieldsplit_{name}_pc_gamg_threshold", 0.05) for name in FIELDS)


def linear_solver_settings(linear: str, **kwargs) -> SolverSettings:
    """:class:`SolverSettings` of ``resolved.linear_solver = linear`` (plus ``kwargs``), the Krylov
    options with their measured tuning."""
    tuned = FIELDSPLIT_GAMG_OPTIONS if linear == "gmres-fieldsplit" else ()
    return SolverSettings(linear=linear, petsc_options=tuned + tuple(kwargs.pop("petsc_options", ())), **kwargs)


@dataclass(frozen=True)
class StepControl:
    dt_initial_s: float = 1.0
    dt_max_s: float = 600.0
    dv_max_V: float = 0.01
    max_halvings: int = 12
    cutoff_tol_V: float = 1e-5
    growth: float = 1.5          # step growth after an easy step


@dataclass
class Trace:
    """Time series at every accepted step of one constant-current segment (first entry: start)."""

    t_s: list[float] = field(default_factory=list)
    voltage_V: list[float] = field(default_factory=list)
    current_A_m2: list[float] = field(default_factory=list)
    charge_C_m2: list[float] = field(default_factory=list)
    li_electrolyte_mol_m2: list[float] = field(default_factory=list)
    li_particles_mol_m2: list[float] = field(default_factory=list)
    mean_stoichiometry: list[float] = field(default_factory=list)
    profiles: list[tuple[float, dict]] = field(default_factory=list)
    end_reason: str = ""
    newton_its: int = 0
    rejected: int = 0
    linear_solves: int = 0       # linear solves (Newton iterations of every attempt) in the segment
    linear_its: int = 0          # Krylov iterations of those solves (MUMPS: one per solve)

    @property
    def linear_its_per_solve(self) -> float:
        """Mean linear iterations per Newton iteration (per linear solve)."""
        return self.linear_its / max(self.linear_solves, 1)

    @property
    def capacity_C_m2(self) -> float:
        """Charge passed in the segment (discharge > 0), C/m2."""
        return self.charge_C_m2[-1] - self.charge_C_m2[0]


class Runner:
    """Keeps time and charge of a :class:`ResolvedModel` across segments."""

    def __init__(self, model: ResolvedModel, control: StepControl | None = None,
                 profile_edges_m: np.ndarray | None = None, profile_every_s: float | None = None,
                 on_output: Callable[[float], None] | None = None) -> None:
        self.m = model
        self.c = control or StepControl()
        self.t_s = 0.0
        self.charge_C_m2 = 0.0
        self.edges = profile_edges_m
        self.every = profile_every_s
        self.on_output = on_output
        self._next_output = 0.0
        self.linear_counts = [0, 0]          # linear solves, Krylov iterations (whole run)
        model.linear_ksp.setMonitor(self._count_linear)

    def _count_linear(self, ksp, it: int, rnorm: float) -> None:
        """KSP monitor: called with it = 0 at the start of each solve, then once per iteration."""
        self.linear_counts[0 if it == 0 else 1] += 1

    def _record(self, tr: Trace, force_profile: bool = False) -> None:
        m = self.m
        tr.t_s.append(self.t_s)
        tr.voltage_V.append(m.voltage())
        tr.current_A_m2.append(m.foil_current())
        tr.charge_C_m2.append(self.charge_C_m2)
        li_e, li_s = m.lithium()
        tr.li_electrolyte_mol_m2.append(li_e)
        tr.li_particles_mol_m2.append(li_s)
        tr.mean_stoichiometry.append(m.mean_stoichiometry())
        if self.edges is not None and self.every is not None and (force_profile or self.t_s >= self._next_output):
            tr.profiles.append((self.t_s, m.profiles(self.edges)))
            if self.on_output is not None:
                self.on_output(self.t_s)
            while self._next_output <= self.t_s:
                self._next_output += self.every

    def _step(self, dt: float, current: float, saved: list[np.ndarray]) -> tuple[bool, int]:
        self.m.restore(saved)
        return self.m.solve(dt, current)

    def run_cc(self, current_A_m2: float, v_min_V: float | None = None, v_max_V: float | None = None,
               duration_s: float = math.inf, label: str = "CC") -> Trace:
        """Constant current (discharge > 0) until a voltage cut-off or ``duration_s``."""
        m, c = self.m, self.c
        tr = Trace()
        counts0 = list(self.linear_counts)
        t_end = self.t_s + duration_s
        self._record(tr, force_profile=True)

        def g(V: float) -> float:
            out = math.inf
            if v_min_V is not None:
                out = min(out, V - v_min_V)
            if v_max_V is not None:
                out = min(out, v_max_V - V)
            return out

        dt = c.dt_initial_s
        while True:
            saved = m.state()
            V_old = tr.voltage_V[-1]
            dt = min(dt, t_end - self.t_s)
            halvings = 0
            while True:
                ok, its = self._step(dt, current_A_m2, saved)
                dV = abs(m.voltage() - V_old) if ok else math.inf
                first = len(tr.t_s) == 1      # the overpotential jumps at a current change
                if ok and (first or dV <= 2 * c.dv_max_V or g(m.voltage()) < 0 or dt < 1e-3):
                    break
                if not ok and g(V_old) < 0.05 and halvings >= 3:
                    break                   # at the plunge: let the cut-off search handle it
                if not ok and V_old < m.ocp_min_V and halvings >= 6:
                    break                   # surfaces saturated below the OCP range
                halvings += 1
                tr.rejected += 1
                if halvings > c.max_halvings:
                    raise SolverError(f"resolved solve failed at t = {self.t_s:.6g} s in {label} "
                                       f"(dt = {dt:.3g} s) after {c.max_halvings} halvings")
                dt *= 0.5
            tr.newton_its += its
            V = m.voltage() if ok else -math.inf
            if not ok and g(V_old) >= 0.05:
                m.restore(saved)
                tr.end_reason = "saturation (voltage plunge below the OCP range)"
                log.warning("%s ended by particle-surface saturation at V = %.4f V", label, V_old)
                break
            if not ok or g(V) < 0:
                dt = self._locate(dt, current_A_m2, saved, g, g(V_old))
                self._accept(dt)
                self._record(tr, force_profile=True)
                tr.end_reason = "voltage cut-off"
                break
            self._accept(dt)
            self._record(tr)
            if len(tr.t_s) % 20 == 0:
                log.info("%s: t = %.6g s, dt = %.3g s, V = %.4f V, %d Newton its so far", label, self.t_s, dt,
                         tr.voltage_V[-1], tr.newton_its)
            if self.t_s >= t_end - 1e-9 * max(1.0, duration_s):
                tr.end_reason = "duration"
                break
            lag = m.settings.jacobian_lag
            easy_its = m.settings.rebuild_its if lag == 0 else 4 if lag == 1 else 4 + lag
            grow = c.growth if (its <= easy_its and (dV < c.dv_max_V or len(tr.t_s) == 2)) else 1.0
            dt = min(c.dt_max_s, dt * grow)
        m.commit()
        tr.linear_solves, tr.linear_its = (n - n0 for n, n0 in zip(self.linear_counts, counts0))
        log.info("%s at %.4g A/m2: %s after %.6g s, %d steps (%d rejected), %d Newton its, %.3g linear its "
                 "per solve (%s), capacity %.6g C/m2, V = %.4f V", label, current_A_m2, tr.end_reason,
                 tr.t_s[-1] - tr.t_s[0], len(tr.t_s) - 1, tr.rejected, tr.newton_its, tr.linear_its_per_solve,
                 m.settings.linear, tr.capacity_C_m2, tr.voltage_V[-1])
        return tr

    def _accept(self, dt: float) -> None:
        self.t_s += dt
        self.charge_C_m2 += dt * self.m.foil_current()
        self.m.commit()

    def _locate(self, dt: float, current: float, saved: list[np.ndarray],
                g: Callable[[float], float], g0: float) -> float:
        """Step length from the saved state at which the cut-off is met (state left there)."""
        lo, hi, g_lo, g_hi = 0.0, dt, g0, None
        best = None
        for _ in range(60):
            if g_hi is not None and math.isfinite(g_hi) and g_hi != g_lo:
                t = hi - g_hi * (hi - lo) / (g_hi - g_lo)
                if not (lo + 0.02 * (hi - lo) < t < hi - 0.02 * (hi - lo)):
                    t = 0.5 * (lo + hi)
            else:
                t = 0.5 * (lo + hi)
            ok, _ = self._step(t, current, saved)
            gt = g(self.m.voltage()) if ok else -math.inf
            if ok and abs(gt) < self.c.cutoff_tol_V:
                return t
            if gt > 0:
                lo, g_lo, best = t, gt, t
            else:
                hi, g_hi = t, gt
            if hi - lo < 1e-10 * max(dt, 1.0):
                break
        t = best if best is not None else lo
        ok, _ = self._step(t, current, saved)
        log.warning("cut-off located only to |g| = %.3g V (step %.3g s)", g(self.m.voltage()), t)
        return t
