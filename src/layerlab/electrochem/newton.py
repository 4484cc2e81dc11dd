"""Modified (chord) Newton with Jacobian reuse across iterations and time steps, one rank.

The serial fast path of the DFN's implicit step (``Discretisation.newton = "chord"``; ``"snes"`` is
PETSc's Newton with the Jacobian refreshed every second iteration, the reference).  As in SUNDIALS
IDA (Hindmarsh et al., ACM TOMS 31 (2005) 363; Brenan, Campbell & Petzold, *Numerical Solution of
Initial-Value Problems in DAEs*, SIAM 1996, sec. 5.2):

* the LU factors of the Jacobian are kept between iterations and between steps; they are refreshed
  when the BDF leading coefficient ``a0 / dt`` has moved by more than ``GAMMA_CHANGE`` since the
  factorisation, at the next iteration when the contraction rate |du_k| / |du_k-1| exceeds
  ``RATE_REFRESH`` or an update was clipped (so a hard solve becomes full Newton), and for the
  next step when a solve needed more than ``SLOW_ITERATIONS`` iterations or failed;
* the iteration stops when the estimated distance to the solution, ``rate / (1 - rate) x |du|``
  (the rate carried from the previous solve until two corrections give a fresh one), is below
  ``tol`` in the weighted max norm ``|du_i| / (atol + rtol |u_i|)`` of the time-step error test,
  or when the residual passes the reference's test (``|F| <= max(f_atol, f_rtol |F_0|)``: needed
  where an unknown barely moves the residual, e.g. a saturated surface's logit);
* a solve that fails with reused factors is retried once from the same guess with a fresh Jacobian.

Residual and Jacobian are the dolfinx forms, assembled as before (the Jacobian through
:class:`~layerlab.electrochem.sparse_jacobian.SparseJacobian`); each Newton update is clipped per
unknown to the layout's Newton limits, as SNES's pre-check does on the reference path.
"""

from __future__ import annotations

import numpy as np

from layerlab.electrochem.sparse_jacobian import SparseJacobian
from layerlab.fe import MPI, PETSc, fem

GAMMA_CHANGE = 0.3      # refactorise when a0/dt moved by more than this fraction
RATE_REFRESH = 0.2      # a contraction rate above this refreshes the Jacobian at the next iteration
SLOW_ITERATIONS = 4     # a solve needing more iterations marks the factors stale for the next
SS_FRESH = 20.0         # rate / (1 - rate) assumed after a refresh (IDA's value)


class ChordNewton:
    """Newton solver for ``F(u) = 0`` reusing the factorised Jacobian while it converges."""

    def __init__(self, form, u: fem.Function, b: PETSc.Vec, jac: SparseJacobian,
                 bcs: list, limits: np.ndarray, rtol: float, atol: float, tol: float, max_it: int,
                 f_rtol: float = 0.0, f_atol: float = 0.0) -> None:
        self.form, self.u, self.b, self.jac, self.bcs = form, u, b, jac, list(bcs)
        self.limits = limits
        self.rtol, self.atol, self.tol, self.max_it = rtol, atol, tol, max_it
        self.f_rtol, self.f_atol = f_rtol, f_atol
        self.du = b.duplicate()
        self.ksp = PETSc.KSP().create(MPI.COMM_SELF)
        self.ksp.setType("preonly")
        pc = self.ksp.getPC()
        pc.setType("lu")
        pc.setFactorSolverType("petsc")
        pc.setFactorOrdering("natural")
        self.ksp.setOperators(jac.mat)
        self._gamma_J: float | None = None       # a0/dt of the factors held (None: none)
        self._ss = SS_FRESH
        self.iterations = 0                       # of the last solve
        self.jacobians = 0                        # Jacobian refreshes since construction

    def invalidate(self) -> None:
        """Force a fresh Jacobian at the next iteration (e.g. controls changed their structure)."""
        self._gamma_J = None

    def _residual(self) -> np.ndarray:
        b = self.b
        with b.localForm() as loc:
            loc.set(0.0)
        fem.petsc.assemble_vector(b, self.form)
        arr = b.getArray()
        for bc in self.bcs:        # rows of constrained dofs: u - g (u is kept at g)
            bc.set(arr, self.u.x.array, -1.0)
        return arr

    def _refresh(self, gamma: float) -> None:
        self.jac._assemble_block()
        self.jac.update()          # the matrix state changes: the next KSP solve refactorises
        self._gamma_J = gamma
        self._ss = SS_FRESH
        self.jacobians += 1

    def solve(self, gamma: float, full: bool = False) -> int:
        """Solve from the current ``u``; ``gamma = a0 / dt``; ``full``: a fresh Jacobian every
        iteration.  Returns > 0 when converged, <= 0 when not (as SNES's converged reason)."""
        for bc in self.bcs:
            bc.set(self.u.x.array)
        guess = self.u.x.array.copy()
        stale = (self._gamma_J is None or abs(gamma / self._gamma_J - 1.0) > GAMMA_CHANGE)
        reason, fresh = self._iterate(gamma, refresh=stale or full, full=full)
        if reason <= 0 and not fresh:          # reused factors failed: once more with new ones
            self.u.x.array[:] = guess
            n = self.iterations
            reason, _ = self._iterate(gamma, refresh=True, full=full)
            self.iterations += n
        if reason <= 0 or self.iterations > SLOW_ITERATIONS:
            self._gamma_J = None
        return reason

    def destroy(self) -> None:
        self.ksp.destroy()
        self.du.destroy()

    def _iterate(self, gamma: float, refresh: bool, full: bool) -> tuple[int, bool]:
        """Newton iterations; returns (reason, whether the factors were refreshed in them)."""
        u = self.u.x.array
        lim = np.resize(self.limits, u.size)
        fresh = False
        old = None
        self.iterations = 0
        try:
            for k in range(self.max_it):
                F = self._residual()
                fnorm = float(np.sqrt(F @ F))
                if not np.isfinite(fnorm):
                    return -101, fresh
                if k == 0:
                    f0 = fnorm
                elif fnorm <= max(self.f_atol, self.f_rtol * f0):    # SNES's residual test
                    return 3, fresh
                if refresh or (full and k > 0):
                    self._refresh(gamma)
                    refresh, fresh = False, True
                    old = None
                self.ksp.solve(self.b, self.du)
                du = self.du.getArray(readonly=True)
                step = np.clip(-du, -lim, lim)
                clipped = bool(np.any(np.abs(du) > lim))
                u += step
                self.iterations += 1
                nrm = float(np.max(np.abs(step) / (self.atol + self.rtol * np.abs(u)), initial=0.0))
                if not np.isfinite(nrm):
                    return -101, fresh
                if clipped:            # a trust-region step: no rate, new Jacobian next
                    old, refresh = None, True
                    continue
                if old is not None and old > 0:
                    rate = nrm / old
                    self._ss = rate / (1.0 - rate) if rate < 1.0 else np.inf
                    refresh = rate > RATE_REFRESH
                if self._ss * nrm <= self.tol or nrm <= 1e-4 * self.tol:
                    return 2, fresh
                old = nrm
        except PETSc.Error:
            return -100, fresh
        return -5, fresh
