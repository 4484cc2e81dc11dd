"""Steady diffusion (= conduction) through one phase of a resolved microstructure.

The phase is a set of cells of a parent mesh inside a box-shaped region.  Along direction ``a`` the problem
is: Laplace's equation on the submesh of the phase cells, u = 1 on the region face ``x_a = lo``, u = 0 on
``x_a = hi``, insulating elsewhere (the other faces and the phase interface, which is the submesh boundary).
With D = 1 the flux Q equals the dissipation ``int |grad u|^2 dx`` (energy identity), so

    D_eff / D = Q L_a / A_a,   tortuosity factor tau = eps D / D_eff,   MacMullin number N_M = D / D_eff,

with eps the phase's volume fraction of the region.  Clusters of phase cells that touch neither face carry
no flux and would make the system singular: they are pinned (u = 0) and their volume fraction is reported;
clusters that touch no face of any requested direction are left out of the submesh.  Cells
are connected when they share a vertex (as P1 unknowns do).  Solver: CG + GAMG with a tight
unpreconditioned-residual tolerance, so results agree across rank counts to well below 1e-8.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from layerlab.fe import MPI, PETSc, dolfinx, fem, mesh, ufl

log = logging.getLogger("layerlab.transport")

AXES: tuple[str, ...] = ("x", "y", "z")
DEFAULT_RTOL = 1e-10
#: PETSc options of every solve (CG + GAMG; hypre is not in the pip wheel); rtol is added per call
SOLVER_OPTIONS: dict[str, str | int | float | bool] = {
    "ksp_type": "cg", "ksp_norm_type": "unpreconditioned", "ksp_atol": 0.0, "ksp_max_it": 5000,
    "ksp_error_if_not_converged": True, "ksp_converged_use_initial_residual_norm": True, "pc_type": "gamg",
    "pc_gamg_aggressive_coarsening": 0,  # measured: ~2x cheaper set-up and CG on voxel Laplacians
}


@dataclass(frozen=True)
class Region:
    """An axis-aligned box ``lower_m <= x <= upper_m`` in which a phase is analysed."""

    lower_m: tuple[float, float, float]
    upper_m: tuple[float, float, float]

    @property
    def extent_m(self) -> np.ndarray:
        return np.asarray(self.upper_m) - np.asarray(self.lower_m)

    @property
    def volume_m3(self) -> float:
        return float(np.prod(self.extent_m))

    @property
    def tol_m(self) -> float:
        return 1e-9 * float(self.extent_m.max())


@dataclass(frozen=True)
class PhaseTransport:
    """Effective transport of one phase along one direction of a region."""

    direction: str
    phase_fraction: float        # phase volume / region volume
    isolated_fraction: float     # volume of clusters touching neither face / region volume
    relative_diffusivity: float  # D_eff / D (0 when no cluster connects the two faces)
    n_dofs: int                  # unknowns of the solve (0 when not solved)
    iterations: int              # CG iterations
    timings_s: dict[str, float] = field(default_factory=dict, compare=False)  # submesh, assembly, setup, cg

    @property
    def tortuosity_factor(self) -> float:
        """tau = eps D / D_eff (inf when the phase does not percolate)."""
        return self.phase_fraction / self.relative_diffusivity if self.relative_diffusivity > 0 else math.inf

    @property
    def macmullin_number(self) -> float:
        """N_M = D / D_eff (inf when the phase does not percolate)."""
        return 1.0 / self.relative_diffusivity if self.relative_diffusivity > 0 else math.inf


def owned_cell_volumes(msh: "mesh.Mesh") -> np.ndarray:
    """Volumes of the owned cells of ``msh`` (assembled, so any cell type works)."""
    V0 = fem.functionspace(msh, ("DG", 0))
    vol = fem.assemble_vector(fem.form(ufl.TestFunction(V0) * ufl.dx))
    n_owned = msh.topology.index_map(msh.topology.dim).size_local
    dofs = V0.dofmap.list[:n_owned, 0]
    return vol.array[dofs]


def _face_touches(msh: "mesh.Mesh", cells: np.ndarray, region: Region) -> np.ndarray:
    """(len(cells), 6) bools: cell has a node on face x-lo, x-hi, y-lo, y-hi, z-lo, z-hi of the region."""
    x = msh.geometry.x[msh.geometry.dofmaps[0][cells]]
    touch = np.zeros((len(cells), 6), dtype=bool)
    for a in range(3):
        touch[:, 2 * a] = np.any(np.abs(x[:, :, a] - region.lower_m[a]) < region.tol_m, axis=1)
        touch[:, 2 * a + 1] = np.any(np.abs(x[:, :, a] - region.upper_m[a]) < region.tol_m, axis=1)
    return touch


def cell_clusters(msh: "mesh.Mesh", cells: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """Connected clusters (vertex sharing) of the owned ``cells`` across all ranks.

    The cell-vertex graph is gathered on rank 0 (global vertex numbers), labelled there and the labels
    scattered back.

    Returns
    -------
    labels : cluster id of each cell of ``cells``
    touches : (n_clusters, 6) bools, cluster touches region face x-lo, x-hi, y-lo, y-hi, z-lo, z-hi
    """
    comm = msh.comm
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim, 0)
    c2v = msh.topology.connectivity(tdim, 0)
    nv = int(c2v.offsets[1] - c2v.offsets[0])
    verts = c2v.array.reshape(-1, nv)[cells]
    gverts = msh.topology.index_map(0).local_to_global(verts.reshape(-1).astype(np.int32)).reshape(verts.shape)
    touch = _face_touches(msh, cells, region)
    all_v = comm.gather(gverts, root=0)
    all_t = comm.gather(touch, root=0)
    chunks, touches = None, None
    if comm.rank == 0:
        V = np.concatenate(all_v) if all_v else np.zeros((0, nv), np.int64)
        T = np.concatenate(all_t)
        n = len(V)
    if comm.rank == 0 and n == 0:
        touches, chunks = np.zeros((0, 6), bool), [np.zeros(0, np.int64)] * comm.size
    elif comm.rank == 0:
        uniq, inv = np.unique(V.reshape(-1), return_inverse=True)
        rows = np.repeat(np.arange(n), nv)
        graph = scipy.sparse.coo_matrix((np.ones(len(rows), np.int8), (rows, n + inv)),
                                        shape=(n + len(uniq), n + len(uniq))).tocsr()
        _, lab = scipy.sparse.csgraph.connected_components(graph, directed=False)
        ids, cell_lab = np.unique(lab[:n], return_inverse=True)
        touches = np.column_stack([np.bincount(cell_lab, weights=T[:, f].astype(float), minlength=len(ids)) > 0
                                   for f in range(6)])
        counts = np.cumsum([len(v) for v in all_v])[:-1]
        chunks = np.split(cell_lab.astype(np.int64), counts)
    labels = comm.scatter(chunks, root=0)
    touches = comm.bcast(touches, root=0)
    return labels, touches


def _quadrature(msh: "mesh.Mesh") -> dict[str, int]:
    """Quadrature metadata: degree 2 is exact for Q1 gradients on parallelepiped hexahedra (voxels)."""
    return {"quadrature_degree": 2} if msh.topology.cell_type == mesh.CellType.hexahedron else {}


def _solve_unit_drop(sub: "mesh.Mesh", V: "fem.FunctionSpace", axis: int, region: Region, pinned: np.ndarray,
                     rtol: float) -> tuple[float, int, dict[str, float]]:
    """Flux through the phase submesh for u = 1 at the lower and 0 at the upper region face of ``axis``.

    ``pinned`` are submesh cells of clusters touching neither face: u = 0 there (they carry no flux, and
    the system stays non-singular).  Returns (flux per unit D and unit drop, CG iterations, timings in s).
    """
    t0 = time.perf_counter()
    lo, hi, tol = region.lower_m[axis], region.upper_m[axis], region.tol_m
    dofs_lo = fem.locate_dofs_geometrical(V, lambda x: np.abs(x[axis] - lo) < tol)
    dofs_hi = fem.locate_dofs_geometrical(V, lambda x: np.abs(x[axis] - hi) < tol)
    dofs_pin = fem.locate_dofs_topological(V, sub.topology.dim, pinned)
    zero = PETSc.ScalarType(0.0)
    bcs = [fem.dirichletbc(PETSc.ScalarType(1.0), dofs_lo, V), fem.dirichletbc(zero, dofs_hi, V),
           fem.dirichletbc(zero, dofs_pin, V)]
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.dx(metadata=_quadrature(sub))
    a = fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * dx)
    L = fem.form(fem.Constant(sub, zero) * v * dx)
    A = dolfinx.fem.petsc.assemble_matrix(a, bcs=bcs)
    A.assemble()
    t1 = time.perf_counter()
    b = dolfinx.fem.petsc.assemble_vector(L)
    dolfinx.fem.petsc.apply_lifting(b, [a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(b, bcs)
    uh = fem.Function(V)
    for bc in bcs:  # initial guess carries the boundary values: rtol then measures the interior residual
        bc.set(uh.x.array)
    ksp = PETSc.KSP().create(sub.comm)
    ksp.setOperators(A)
    prefix = f"layerlab_transport_{id(ksp)}_"
    ksp.setOptionsPrefix(prefix)
    opts = PETSc.Options()
    for key, value in {**SOLVER_OPTIONS, "ksp_rtol": rtol}.items():
        opts[prefix + key] = value
    ksp.setFromOptions()
    ksp.setInitialGuessNonzero(ksp.getType() != PETSc.KSP.Type.PREONLY)
    ksp.setUp()
    t2 = time.perf_counter()
    ksp.solve(b, uh.x.petsc_vec)
    t3 = time.perf_counter()
    uh.x.scatter_forward()
    its = ksp.getIterationNumber()
    for key in list(opts.getAll()):
        if key.startswith(prefix):
            opts.delValue(key)
    energy = fem.assemble_scalar(fem.form(ufl.inner(ufl.grad(uh), ufl.grad(uh)) * dx))
    flux = sub.comm.allreduce(float(energy), op=MPI.SUM)
    for obj in (A, b, ksp):
        obj.destroy()
    timings = {"assembly": t1 - t0, "pc_setup": t2 - t1, "cg": t3 - t2}
    log.debug("solve %s: assembly %.2f s, PC set-up %.2f s, CG %.2f s (%d its)", AXES[axis], *timings.values(), its)
    return flux, its, timings


def _phase_submesh(msh: "mesh.Mesh", cells: np.ndarray, labels: np.ndarray
                   ) -> tuple["mesh.Mesh", "fem.FunctionSpace", np.ndarray]:
    """Submesh of ``cells``, its P1 space and the cluster label of each owned submesh cell."""
    sub, cell_map, _, _ = mesh.create_submesh(msh, msh.topology.dim, cells)
    sub.topology.create_connectivity(sub.topology.dim, sub.topology.dim)  # for pinning whole cells
    n_sub = sub.topology.index_map(sub.topology.dim).size_local
    parent = cell_map.sub_topology_to_topology(np.arange(n_sub, dtype=np.int32), False)
    lookup = np.full(msh.topology.index_map(msh.topology.dim).size_local, -1, dtype=np.int64)
    lookup[cells] = labels
    sub_labels = lookup[parent]
    assert np.all(sub_labels >= 0), "submesh cell outside the phase"
    return sub, fem.functionspace(sub, ("Lagrange", 1)), sub_labels


def phase_transport(msh: "mesh.Mesh", cells: np.ndarray, region: Region, directions: tuple[str, ...] = AXES,
                    rtol: float = DEFAULT_RTOL, volumes: np.ndarray | None = None) -> dict[str, PhaseTransport]:
    """Effective diffusivity of the phase made of the owned ``cells`` (all inside ``region``) per direction.

    One submesh holds the clusters that touch a face of some requested direction; per direction, the
    clusters touching neither of its two faces are pinned to u = 0 (no flux) and reported as isolated.

    Parameters
    ----------
    msh : parent mesh (collective: every rank calls, possibly with no cells)
    cells : owned local cell indices of the phase inside the region
    region : the box the fractions and faces refer to
    directions : subset of "x", "y", "z"
    rtol : CG tolerance on the unpreconditioned residual, relative to the initial one
    volumes : volumes of all owned cells of ``msh`` (computed when not given)
    """
    comm = msh.comm
    vol = owned_cell_volumes(msh) if volumes is None else volumes
    cell_vol = vol[cells]
    phase_fraction = comm.allreduce(float(cell_vol.sum()), op=MPI.SUM) / region.volume_m3
    labels, touches = cell_clusters(msh, cells, region)
    faces = {d: (touches[:, 2 * AXES.index(d)], touches[:, 2 * AXES.index(d) + 1]) for d in directions}
    keep_cluster = np.zeros(len(touches), dtype=bool)
    for t_lo, t_hi in faces.values():
        keep_cluster |= t_lo | t_hi
    system = None
    out: dict[str, PhaseTransport] = {}
    for d in directions:
        axis = AXES.index(d)
        t_lo, t_hi = faces[d]
        isolated = ~(t_lo | t_hi)[labels] if len(labels) else np.zeros(0, bool)
        iso_fraction = comm.allreduce(float(cell_vol[isolated].sum()), op=MPI.SUM) / region.volume_m3
        if not np.any(t_lo & t_hi):
            log.info("direction %s: phase does not percolate (fraction %.4f)", d, phase_fraction)
            out[d] = PhaseTransport(d, phase_fraction, iso_fraction, 0.0, 0, 0)
            continue
        t0 = time.perf_counter()
        if system is None:
            kept = keep_cluster[labels] if len(labels) else np.zeros(0, bool)
            system = _phase_submesh(msh, cells[kept], labels[kept])
        sub, V, sub_labels = system
        t_sub = time.perf_counter() - t0
        pinned = np.flatnonzero(~(t_lo | t_hi)[sub_labels]).astype(np.int32)
        flux, its, timings = _solve_unit_drop(sub, V, axis, region, pinned, rtol)
        timings = {"submesh": t_sub, **timings}
        n_dofs = V.dofmap.index_map.size_global
        extent = region.extent_m
        area = float(np.prod(np.delete(extent, axis)))
        rel = flux * float(extent[axis]) / area
        out[d] = PhaseTransport(d, phase_fraction, iso_fraction, rel, n_dofs, its, timings)
        log.info("direction %s: eps %.4f, D_eff/D %.5f, tau %.4f, isolated %.2e, %d dofs, %d CG its",
                 d, phase_fraction, rel, out[d].tortuosity_factor, iso_fraction, n_dofs, its)
    return out
