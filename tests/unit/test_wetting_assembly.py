"""The incrementally updated step matrix and its Dirichlet lifting equal a fresh assembly of the
whole form (1 and 2 ranks); the Krylov path solves the same scheme as the direct one."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.fe import MPI, PETSc, fem
from layerlab.geometry import tags
from layerlab.wetting import testgeom
from layerlab.wetting.params import WettingParams
from layerlab.wetting.solver import Boundaries, WettingSolver


def _solver(comm: MPI.Comm, update_tol: float) -> WettingSolver:
    msh, ft = testgeom.rectangle(10.0, 20.0, 10, 20, comm=comm)
    params = WettingParams(dt_initial_s=1e-4, phi_update_tol=update_tol)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT))
    return WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - 15.0) / 1.0))


def _relative_difference_to_fresh(solver: WettingSolver) -> float:
    f = solver.forms
    f.dt.value = solver.dt_hat
    fresh = fem.petsc.assemble_matrix(f.a, bcs=solver.bcs)
    fresh.assemble()
    diff = solver.parts.combine(solver.dt_hat).copy()
    diff.axpy(-1.0, fresh)
    return diff.norm() / fresh.norm()


def _lifting_difference_to_fresh(solver: WettingSolver) -> float:
    f = solver.forms
    f.dt.value = solver.dt_hat
    fresh = fem.petsc.create_vector(f.W)
    fem.petsc.apply_lifting(fresh, [f.a], bcs=[solver.bcs])
    fresh.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    got = fresh.duplicate()
    solver.parts.combine_lifting(solver.dt_hat, got)
    got.axpy(-1.0, fresh)
    return got.norm() / fresh.norm()


def _move_front(solver: WettingSolver, update_tol: float) -> tuple[int, float]:
    """Rebuild at the initial field, move the front down by 1 um, update; return (cells updated
    on all ranks, largest |phi_f - target|)."""
    f = solver.forms
    f.phi_f.x.array[:] = f.w_old.x.array[solver._phi_map]
    solver.parts.rebuild()
    V = f.spaces["phi"][0]
    target = np.tanh((V.tabulate_dof_coordinates()[:, 1] - 14.0) / 1.0)
    solver.parts.update(target)
    cells = solver.comm.allreduce(solver.parts.cells_updated, op=MPI.SUM)
    lag = solver.comm.allreduce(float(np.max(np.abs(f.phi_f.x.array - target))), op=MPI.MAX)
    return cells, lag


@pytest.mark.parametrize("update_tol", [0.0, 1e-3, 1e-2])
def test_incremental_update_equals_fresh_assembly(update_tol: float) -> None:
    solver = _solver(MPI.COMM_WORLD, update_tol)
    cells, lag = _move_front(solver, update_tol)
    n_cells = solver.msh.topology.index_map(2).size_global
    assert lag <= update_tol
    if update_tol > 0:
        assert 0 < cells < n_cells      # only the band around the front is reassembled
    else:
        assert cells == n_cells         # tanh moved (a little) everywhere
    assert _relative_difference_to_fresh(solver) < 1e-13
    assert _lifting_difference_to_fresh(solver) < 1e-13


@pytest.mark.mpi
def test_incremental_update_equals_fresh_assembly_in_parallel() -> None:
    test_incremental_update_equals_fresh_assembly(1e-3)


def test_krylov_path_solves_the_same_scheme() -> None:
    """GMRES preconditioned by older LU factors gives the direct solution (to its tolerance) over
    front-moving steps with refrozen matrices, with fewer factorisations than matrix updates."""
    runs = {}
    for kind in ("lu", "krylov"):
        msh, ft = testgeom.rectangle(10.0, 20.0, 10, 20)
        params = WettingParams(dt_initial_s=1e-3, dt_max_s=1e-3, dphi_target=0.5, linear_solver=kind,
                               krylov_refactor_iterations=20)
        bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT))
        s = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - 18.0) / 0.7))
        for _ in range(12):
            s.step()
        runs[kind] = s
    lu, kr = runs["lu"], runs["krylov"]
    assert kr.step_count == lu.step_count and kr.time_s == pytest.approx(lu.time_s, rel=1e-12)
    assert kr.n_matrix_updates == lu.n_matrix_updates == lu.n_factorisations >= 4
    assert kr.n_factorisations < kr.n_matrix_updates and kr.krylov_iterations > kr.step_count
    for name, tol in (("phi", 1e-7), ("u", 1e-4), ("p", 1e-4)):    # measured 8e-9, 6e-6 (rtol 1e-11)
        a, b = kr.field(name, "old").x.array, lu.field(name, "old").x.array
        assert np.max(np.abs(a - b)) <= tol * np.max(np.abs(b)), name
