"""Incremental assembly of the wetting matrix: reassemble only the cells whose frozen field changed.

The step matrix is ``A = A_rest + A_mass / dt`` (see :class:`layerlab.wetting.model.Forms`).  Only
the viscosity, density and coupling terms depend on the frozen phase field ``phi_f``, and between
two factorisations ``phi_f`` changes only near moving interfaces.  :class:`SplitMatrix` keeps
``A_rest`` and ``A_mass`` assembled and moves them to a new frozen field by adding, on the cells
that touch a changed vertex only, the difference of the phase-dependent terms.  Vertices whose
value moved by no more than ``update_tol`` keep their old frozen value, so the matrix is exactly
(to round-off) the matrix of a frozen field within ``update_tol`` of the current phase field; with
``update_tol = 0`` every vertex that moved at all is updated.  :meth:`SplitMatrix.rebuild`
assembles both parts from scratch (first factorisation, restarts from a checkpoint).

Dirichlet rows and columns: every assembly skips them; ``A_rest`` carries the unit diagonal of the
constrained dofs and ``A_mass`` a zero one (dolfinx *inserts* the diagonal, so increments re-insert
the same value).

The lifting of the Dirichlet values, ``-A[:, bc] g``, is linear in the matrix too: ``lift_rest`` and
``lift_mass`` are kept with the parts (incremented on the same cells), so a new step size or frozen
field needs no assembly over the whole mesh for it either.
"""

from __future__ import annotations

import numpy as np

from layerlab.fe import PETSc, fem
from layerlab.wetting.model import Forms

SAME = PETSc.Mat.Structure.SAME_NONZERO_PATTERN


class SplitMatrix:
    """``A_rest`` and ``A_mass`` of :class:`Forms`, kept current with the frozen field ``phi_f``."""

    def __init__(self, forms: Forms, bcs: list[fem.DirichletBC], update_tol: float) -> None:
        self.forms, self.bcs, self.update_tol = forms, bcs, float(update_tol)
        self.rest = self.new_matrix()
        self.mass = self.new_matrix()
        V_phi = forms.spaces["phi"][0]
        self._cell_vertices = V_phi.dofmap.list           # P1 dofs of each local cell
        self._n_owned_cells = V_phi.mesh.topology.index_map(V_phi.mesh.topology.dim).size_local
        self._coeffs = {c: c for c in (forms.phi_f, forms.phi_f_next)}
        self.cells_updated = 0                           # owned cells reassembled by the last update
        self.step_matrix: PETSc.Mat | None = None
        self.lift_rest = fem.petsc.create_vector(forms.W)
        self.lift_mass = fem.petsc.create_vector(forms.W)
        self._lift_tmp = fem.petsc.create_vector(forms.W)

    def new_matrix(self) -> PETSc.Mat:
        """A matrix with the nonzero pattern of the whole step matrix (both parts share it)."""
        return fem.petsc.create_matrix(self.forms.a)

    def rebuild(self) -> None:
        """Assemble both parts at the current ``phi_f`` from scratch."""
        for mat, form, diag in ((self.rest, self.forms.a_rest, 1.0), (self.mass, self.forms.a_mass, 0.0)):
            mat.zeroEntries()
            fem.petsc.assemble_matrix(mat, form, bcs=self.bcs, diag=diag)
            mat.assemble()
        for vec, form in ((self.lift_rest, self.forms.a_rest), (self.lift_mass, self.forms.a_mass)):
            with vec.localForm() as loc:
                loc.set(0.0)
            self._add_lifting(vec, form)
        self.cells_updated = self._n_owned_cells

    def _add_lifting(self, vec: PETSc.Vec, form: fem.Form) -> None:
        """``vec += -A(form)[:, bc] g`` on the owned entries."""
        tmp = self._lift_tmp
        with tmp.localForm() as loc:
            loc.set(0.0)
        fem.petsc.apply_lifting(tmp, [form], bcs=[self.bcs])
        tmp.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        vec.axpy(1.0, tmp)

    def update(self, phi_target: np.ndarray) -> None:
        """Move ``phi_f`` towards ``phi_target`` (P1 values incl. ghosts, consistent across ranks)
        at the vertices that differ by more than ``update_tol``, and the matrix parts with it."""
        f = self.forms
        changed = np.abs(phi_target - f.phi_f.x.array) > self.update_tol
        f.phi_f_next.x.array[:] = np.where(changed, phi_target, f.phi_f.x.array)
        cells = np.flatnonzero(changed[self._cell_vertices].any(axis=1)).astype(np.int32)
        cells = cells[cells < self._n_owned_cells]
        self.cells_updated = int(cells.size)
        msh = f.W.mesh
        spaces = [f.W, f.W]
        subdomains = {fem.IntegralType.cell: [(1, cells)]}
        for mat, vec, compiled, diag in ((self.rest, self.lift_rest, f.delta_rest, 1.0),
                                         (self.mass, self.lift_mass, f.delta_mass, 0.0)):
            delta = fem.create_form(compiled, spaces, msh, subdomains, self._coeffs, {})
            fem.petsc.assemble_matrix(mat, delta, bcs=self.bcs, diag=diag)   # (re)inserts the same diagonal
            mat.assemble()
            self._add_lifting(vec, delta)
        f.phi_f.x.array[:] = f.phi_f_next.x.array

    def combine(self, dt_hat: float) -> PETSc.Mat:
        """The step matrix ``A_rest + A_mass / dt_hat`` (the same object on every call)."""
        if self.step_matrix is None:
            self.step_matrix = self.rest.copy()
        else:
            self.rest.copy(self.step_matrix, SAME)
        self.step_matrix.axpy(1.0 / dt_hat, self.mass, SAME)
        return self.step_matrix

    def combine_lifting(self, dt_hat: float, out: PETSc.Vec) -> None:
        """``out = lift_rest + lift_mass / dt_hat`` (owned entries): the lifting of the step matrix."""
        self.lift_rest.copy(out)
        out.axpy(1.0 / dt_hat, self.lift_mass)
