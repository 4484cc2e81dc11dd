"""MPI smoke job for the SLURM test: one MPI world across the launched ranks + a distributed Poisson solve.

Run as ``{launcher} -n N python mpi_smoke.py OUT.json``. Checks nothing itself; it records what the
test asserts: the world size, each rank's SLURM task id (srun's SLURM_PROCID, proving srun placed the
ranks), the cells each rank owns, and the error of a P2 solve of -lap u = -6 with
u = 1 + x^2 + 2 y^2 on the unit square (P2 reproduces it exactly, so the error is at solver tolerance).
"""

from __future__ import annotations

import os
import socket
import sys

import numpy as np

from layerlab.fe import MPI, fem, mesh, ufl
from layerlab.io import write_json_atomic


def poisson_error(comm: MPI.Intracomm, n: int = 16) -> tuple[float, int]:
    """L2 error of the P2 Poisson solve and this rank's number of owned cells."""
    import dolfinx.fem.petsc

    msh = mesh.create_unit_square(comm, n, n)
    V = fem.functionspace(msh, ("Lagrange", 2))
    u_exact = fem.Function(V)
    u_exact.interpolate(lambda x: 1.0 + x[0] ** 2 + 2.0 * x[1] ** 2)
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    dofs = fem.locate_dofs_topological(V, tdim - 1, mesh.exterior_facet_indices(msh.topology))
    bc = fem.dirichletbc(u_exact, dofs)
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    f = fem.Constant(msh, -6.0)
    problem = dolfinx.fem.petsc.LinearProblem(
        ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, f * v * ufl.dx, bcs=[bc],
        petsc_options_prefix="smoke_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"})
    uh = problem.solve()
    if isinstance(uh, tuple):
        uh = uh[0]
    err_local = fem.assemble_scalar(fem.form((uh - u_exact) ** 2 * ufl.dx))
    err = float(np.sqrt(comm.allreduce(err_local, op=MPI.SUM)))
    return err, int(msh.topology.index_map(tdim).size_local)


def main(out: str) -> None:
    comm = MPI.COMM_WORLD
    err, cells = poisson_error(comm)
    rank_info = {"rank": comm.rank, "slurm_procid": os.environ.get("SLURM_PROCID"),
                 "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                 "slurm_step_id": os.environ.get("SLURM_STEP_ID"),
                 "host": socket.gethostname(), "owned_cells": cells}
    ranks = comm.gather(rank_info, root=0)
    if comm.rank == 0:
        write_json_atomic(out, {"world_size": comm.size, "l2_error": err, "ranks": ranks,
                                "total_cells": sum(r["owned_cells"] for r in ranks)})


if __name__ == "__main__":
    main(sys.argv[1])
