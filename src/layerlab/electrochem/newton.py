"""Modified Newton with Jacobian reuse across iterations and time steps, one rank.

The DFN's implicit step on one rank by default (``Discretisation.newton = "chord"``; ``"snes"``:
PETSc's Newton with the Jacobian assembled every second iteration, the reference, and what runs
on several ranks).
Measured on the rate test, the Jacobian assembly (~0.3 ms) costs 5x a residual (~0.06 ms) and the
LU of its structural nonzeros ~0.05 ms, so assemblies are what to save:

* the Jacobian is affine in the BDF leading coefficient ``gamma = a0 / dt`` at a fixed state
  (time derivatives enter as ``(a0 X(u) + a1 X(u_n) + a2 X(u_nn)) / dt``; exactly so without SEI):
  it is held split as ``K + gamma M`` (``M`` from one more assembly at ``dt / 2``, renewed every
  ``M_REFRESH`` refreshes), so a new step size only rewrites the values and refactorises;
* the split is kept between iterations and steps, and refreshed at the state of the iterate when
  the residual contracts by less than ``RATE_REFRESH`` per iteration (as IDA refreshes when its
  convergence rate degrades: Hindmarsh et al., ACM TOMS 31 (2005) 363), and for the next step
  when a solve needed more than ``SLOW_ITERATIONS`` iterations or failed;
* the stopping test is the reference's: ``|F| <= max(atol, rtol |F_0|)`` or an update below
  ``1e-14 |u|`` (2-norms, SNES's ``stol``), so lithium is conserved as on the SNES path;
* every update is clipped per unknown to the layout's Newton limits, and surface logits are kept
  within +-``logit_max``, as SNES's pre-check does; the LU shifts zero pivots (a surface saturated to
  round-off leaves its logit column ~0) and a solve stalled at the round-off floor counts as
  converged (``roundoff``: the test of ``DFNModel._at_roundoff``), both as on the SNES path;
  a residual grown ``DIVERGED``-fold is a failure at once (measured: such solves, clipped steps
  on saturating surfaces, never converged, and cost a Jacobian an iteration until ``max_it``), and
  so is one grown ``FRESH_GROWTH``-fold by an update from a Jacobian just assembled (Newton itself
  leaving its basin: on the paper's rate test these were the saturation plunges at the ends of the
  discharges, where each such solve went on to the ``DIVERGED`` test at a Jacobian per iteration).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from layerlab.electrochem.sparse_jacobian import SparseJacobian
from layerlab.fe import MPI, PETSc, fem

RATE_REFRESH = 0.2      # |F_k| / |F_k-1| above this: new Jacobian at the next iteration
SLOW_ITERATIONS = 8     # a solve needing more iterations refreshes the Jacobian for the next
M_REFRESH = 10          # refreshes between two assemblies of the storage part M
DIVERGED = 1e4          # |F| above this x max(|F_0|, 1): diverged (the step is halved)
FRESH_GROWTH = 10.0     # |F| grown this-fold by an update with a fresh Jacobian: diverged
STOL = 1e-14            # |du| <= STOL |u|: converged (round-off floor of the residual)


class PackedResidual:
    """Residual assembly with the form's coefficients packed once per solve and only the entries
    of ``u`` rewritten per iteration (dolfinx repacks every coefficient at every call: 40 % of a
    residual here).  The map from packed entries to ``u``'s dofs is found by packing at two
    states and checked at construction to reproduce dolfinx's packing exactly; where it does
    not (``ok`` False), every call packs afresh."""

    def __init__(self, form, u: fem.Function) -> None:
        self.form, self.u = form, u
        saved = u.x.array.copy()
        n = saved.size
        try:
            u.x.array[:] = 0.0
            c0 = fem.pack_coefficients(form)
            u.x.array[:] = np.arange(1, n + 1, dtype=saved.dtype)
            c1 = fem.pack_coefficients(form)
            self._map = {}
            for key, a1 in c1.items():
                d = (a1 - c0[key]).reshape(-1)
                pos = np.flatnonzero(d)
                self._map[key] = (pos, np.rint(d[pos]).astype(np.int64) - 1)
            u.x.array[:] = np.random.default_rng(1).random(n)
            self.begin()
            u.x.array[:] = np.random.default_rng(2).random(n)
            self._patch()
            ref = fem.pack_coefficients(form)
            self.ok = all(np.array_equal(ref[k], self._coeffs[k]) for k in ref)
        finally:
            u.x.array[:] = saved

    def begin(self) -> None:
        """Pack constants and coefficients afresh (at the start of a solve)."""
        self._consts = fem.pack_constants(self.form)
        self._coeffs = fem.pack_coefficients(self.form)

    def _patch(self) -> None:
        x = self.u.x.array
        for key, (pos, idx) in self._map.items():
            self._coeffs[key].reshape(-1)[pos] = x[idx]

    def assemble(self, out: np.ndarray) -> None:
        """Add the residual at the current ``u`` into ``out``."""
        if not self.ok:
            self.begin()
        else:
            self._patch()
        fem.assemble_vector(out, self.form, self._consts, self._coeffs)


class ChordNewton:
    """Newton solver for ``F(u) = 0`` reusing the Jacobian split ``K + gamma M`` while it converges."""

    def __init__(self, form, u: fem.Function, b: PETSc.Vec, jac: SparseJacobian, bcs: list,
                 limits: np.ndarray, dt: fem.Constant, rtol: float, atol: float, max_it: int,
                 logit_dofs: np.ndarray | None = None, logit_max: float = np.inf,
                 roundoff: Callable[[Sequence[float], float], bool] | None = None) -> None:
        self.form, self.u, self.b, self.jac, self.bcs, self.dt = form, u, b, jac, list(bcs), dt
        self.lim = np.resize(limits, u.x.array.size)      # per dof (components interleaved)
        self.logit_dofs = np.asarray(logit_dofs if logit_dofs is not None else [], dtype=np.int64)
        self.logit_max = logit_max
        self.roundoff = roundoff
        self.rtol, self.atol, self.max_it = rtol, atol, max_it
        self.du = b.duplicate()
        self.packed = PackedResidual(form, u)
        self.ksp = PETSc.KSP().create(MPI.COMM_SELF)
        self.ksp.setType("preonly")
        pc = self.ksp.getPC()
        pc.setType("lu")
        pc.setFactorSolverType("petsc")
        pc.setFactorOrdering("natural")
        pc.setFactorShift(shift_type=PETSc.Mat.FactorShiftType.NONZERO)
        self.ksp.setOperators(jac.mat)
        self._K: np.ndarray | None = None         # None: no usable split held
        self._M: np.ndarray | None = None
        self._since_M = 0
        self._gamma_written: float | None = None
        self.iterations = 0                       # of the last solve
        self.jacobians = 0                        # Jacobian splits assembled since construction

    def destroy(self) -> None:
        self.ksp.destroy()
        self.du.destroy()

    def _residual(self) -> np.ndarray:
        arr = self.b.getArray()
        arr[:] = 0.0
        self.packed.assemble(arr)
        for bc in self.bcs:        # rows of constrained dofs: u - g (u is kept at g)
            bc.set(arr, self.u.x.array, -1.0)
        return arr

    def _refresh(self, gamma: float) -> None:
        """Assemble J at gamma; K = J - gamma M.  M = (J(2 gamma) - J(gamma)) / gamma (a second
        assembly at dt / 2) on the first refresh and every ``M_REFRESH``-th; in between the last
        M is kept (it holds the storage derivatives, which move slowly with the state)."""
        J1 = self.jac.assembled_values()
        if self._M is None or self._since_M >= M_REFRESH:
            dt = float(self.dt.value)
            self.dt.value = 0.5 * dt
            try:
                M = self.jac.assembled_values()
            finally:
                self.dt.value = dt
            M -= J1
            M /= gamma
            self._M, self._since_M = M, 0
        self._since_M += 1
        J1 -= gamma * self._M
        self._K = J1
        self._gamma_written = None
        self.jacobians += 1

    def _set_gamma(self, gamma: float) -> None:
        if gamma != self._gamma_written:
            self.jac.values[:] = self._K + gamma * self._M
            self.jac.write(self.jac.values)     # the next KSP solve refactorises
            self._gamma_written = gamma

    def solve(self, gamma: float, full: bool = False) -> int:
        """Solve from the current ``u``; ``gamma = a0 / dt``; ``full``: a fresh Jacobian every
        iteration.  Returns > 0 when converged, <= 0 when not (as SNES's converged reason)."""
        for bc in self.bcs:
            bc.set(self.u.x.array)
        self.packed.begin()
        guess = self.u.x.array.copy()
        reason, fresh = self._iterate(gamma, refresh=self._K is None or full, full=full)
        if reason <= 0 and not fresh:          # a reused Jacobian failed: once more with a new one
            self.u.x.array[:] = guess
            n = self.iterations
            reason, _ = self._iterate(gamma, refresh=True, full=full)
            self.iterations += n
        if reason <= 0 or self.iterations > SLOW_ITERATIONS:
            self._K = None
        return reason

    def _iterate(self, gamma: float, refresh: bool, full: bool) -> tuple[int, bool]:
        """Newton iterations; returns (reason, whether the Jacobian was refreshed in them)."""
        u = self.u.x.array
        lim = self.lim
        fresh = False
        f_old = f0 = None
        from_fresh = False        # the last update was solved with a Jacobian assembled for it
        history: list[float] = []
        self.iterations = 0
        try:
            for k in range(self.max_it + 1):
                F = self._residual()
                fnorm = float(np.sqrt(F @ F))
                if not np.isfinite(fnorm):
                    return -101, fresh
                history.append(fnorm)
                if f0 is None:
                    f0 = fnorm
                if fnorm <= max(self.atol, self.rtol * f0):
                    return 3, fresh
                if fnorm > DIVERGED * max(f0, 1.0) or (from_fresh and fnorm > FRESH_GROWTH * max(f_old, f0, 1.0)):
                    return -6, fresh
                if k == self.max_it:
                    break
                if f_old is not None and fnorm > RATE_REFRESH * f_old:
                    refresh = True
                from_fresh = refresh or full
                if from_fresh:
                    self._refresh(gamma)
                    refresh, fresh = False, True
                self._set_gamma(gamma)
                self.ksp.solve(self.b, self.du)
                du = self.du.getArray(readonly=True)
                step = np.clip(-du, -lim, lim)
                if self.logit_dofs.size:
                    ul = u[self.logit_dofs]
                    step[self.logit_dofs] = np.clip(step[self.logit_dofs], -self.logit_max - ul,
                                                    self.logit_max - ul)
                u += step
                self.iterations += 1
                if np.sqrt(step @ step) <= STOL * np.sqrt(u @ u):
                    return 4, fresh
                f_old = fnorm
        except PETSc.Error:
            return -100, fresh
        if self.roundoff is not None and self.roundoff(history, self.atol):
            return 2, fresh
        return -5, fresh
