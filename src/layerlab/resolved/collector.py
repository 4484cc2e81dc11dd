"""Equipotential current collector of the resolved half cell: a global constraint as a rank-one term.

The aluminium collector is one conductor at the terminal potential ``V`` (unknown).  Each particle
contact passes ``i_s.n = G (phi_s - V)`` (contact conductance ``G``, S/m2), and the total is the
applied current, ``G int (phi_s - V) ds = I A_box``.  Eliminating ``V``::

    V = <phi_s> - I_cc / G,   i_s.n = I_cc + G (phi_s - <phi_s>),   I_cc = I A_box / A_contact

with ``<phi_s>`` the mean over the contacts.  The local part ``(I_cc + G phi_s) r`` is a UFL form;
the mean adds ``c v (v . x)`` to the residual, ``c = -G / A_contact``, ``v_i = int r_i ds`` (the
phi_s block only), so the Jacobian is ``A + c v v^T``.  Its inverse is applied with the
Sherman-Morrison formula around the linear solver of ``A`` (J. Sherman and W. J. Morrison, Ann.
Math. Statist. 21 (1950) 124-127): ``w = A^-1 v`` once per Jacobian, then per solve
``x = A^-1 b - w c (v . A^-1 b) / (1 + c v . w)``.  Separate particle clusters on the collector then
share the current by their kinetics, not by their contact area (issue 13).
"""

from __future__ import annotations

from typing import Callable

from layerlab.fe import PETSc, fem


class RankOneCorrection:
    """petsc4py ``python`` PC: (A + c v v^T)^-1 by Sherman-Morrison around ``inner`` (a KSP of A)."""

    def __init__(self, inner: "PETSc.KSP", v: "PETSc.Vec", c: float) -> None:
        self.inner, self.v, self.c = inner, v, c
        self.w = v.duplicate()
        self.denominator = 1.0

    def setUp(self, pc: "PETSc.PC") -> None:
        A, P = pc.getOperators()
        self.inner.setOperators(A, P)
        monitors = self.inner.getMonitor() or []
        self.inner.cancelMonitor()                   # w is not one of the Newton iterations' solves
        self.inner.solve(self.v, self.w)
        for monitor in monitors:
            self.inner.setMonitor(monitor[0], monitor[1], monitor[2])
        self._check()
        self.denominator = 1.0 + self.c * self.v.dot(self.w)

    def apply(self, pc: "PETSc.PC", b: "PETSc.Vec", x: "PETSc.Vec") -> None:
        self.inner.solve(b, x)
        self._check()
        x.axpy(-self.c * self.v.dot(x) / self.denominator, self.w)

    def _check(self) -> None:
        if self.inner.getConvergedReason() < 0:
            raise RuntimeError(f"inner linear solve diverged ({self.inner.getConvergedReason()})")


def contact_vector(template: "PETSc.Vec", form: "fem.Form", space: "fem.FunctionSpace",
                   offset: int) -> "PETSc.Vec":
    """``v_i = int r_i ds(collector)`` of the phi_s test functions, in the blocked layout of
    ``template`` (owned entries of the phi_s block start at local ``offset``)."""
    from layerlab.fe import dolfinx
    b = fem.assemble_vector(form)
    b.scatter_reverse(dolfinx.la.InsertMode.add)
    n = space.dofmap.index_map.size_local
    v = template.duplicate()
    v.zeroEntries()
    a = v.getArray()
    a[offset:offset + n] = b.array[:n]
    v.setArray(a)
    v.assemble()
    return v


def attach(snes: "PETSc.SNES", inner: "PETSc.KSP", v: "PETSc.Vec", c: float,
           assemble: Callable[["PETSc.SNES", "PETSc.Vec", "PETSc.Vec"], None], b: "PETSc.Vec") -> RankOneCorrection:
    """Add ``c v (v . x)`` to the SNES residual (``assemble(snes, x, F)`` of the forms, into ``b``) and
    the Sherman-Morrison PC to its (preonly) KSP."""

    def residual(snes_, x, F) -> None:
        assemble(snes_, x, F)
        F.axpy(c * v.dot(x), v)

    snes.setFunction(residual, b)
    ksp = snes.getKSP()
    ksp.setType("preonly")
    pc = ksp.getPC()
    pc.setType("python")
    correction = RankOneCorrection(inner, v, c)
    pc.setPythonContext(correction)
    return correction


__all__ = ["RankOneCorrection", "attach", "contact_vector"]
