"""Time stepping of the coupled scheme: frozen matrix, reused LU factors, adaptive steps, retries, checkpoints.

One :class:`WettingSolver` owns the forms of :mod:`layerlab.wetting.model`, the boundary conditions
and a MUMPS LU solver.  The matrix (through ``phi_f`` and ``dt``) is updated ("refrozen")
every ``params.refactor_every`` steps, and sooner once the phase field has drifted from the frozen
one by more than ``params.phi_drift_max`` anywhere; between updates only the right-hand
side changes.  How a changed matrix is solved is ``params.linear_solver``:

- ``"lu"``: every matrix update is refactorised (the direct solve of each step);
- ``"krylov"`` (default): GMRES (right preconditioned, so the true residual is what converges, to
  ``krylov_rtol`` of the right-hand side) on the current matrix, preconditioned by the MUMPS factors
  of an earlier one.  The factors are rebuilt only when a solve needed more than
  ``krylov_refactor_iterations`` iterations (from the next step on), or at once when it did not
  converge.  The scheme, and so every result, is that of ``"lu"`` to the solver tolerance; a
  refactorisation costs ~10-15 preconditioned iterations, and the front moves by a few cells between
  two, so most updates need none.  The drift limit matters: the frozen advection ``u . grad(phi_f)`` keeps feeding
``phi`` where the interface *was*, so a front that moves past its frozen position (a meniscus
snapping through a throat) overshoots ``|phi| = 1`` and, on real packings, left the allowed band
after ~0.2 s with a fixed ``K = 10``.
A refactorisation moves the frozen field only at vertices that changed by more than
``params.phi_update_tol`` and reassembles only their cells (:mod:`layerlab.wetting.assembly`; about a
tenth of the cells in the packings, a third less time per factorisation than a whole assembly).
The step size is changed only at matrix updates (brought forward while the step could double).
The lifting of the Dirichlet values is kept with the matrix parts.  A failed step (non-finite values, or the
phase field leaving ``[-phi_bound, phi_bound]``) is discarded, the step halved and retried; after
``max_retries`` consecutive failures :class:`WettingDiverged` is raised (the last checkpoint on
disk is left as it is).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from layerlab.errors import SolverError
from layerlab.fe import MPI, PETSc, fem, mesh as dmesh, ufl
from layerlab.io import atomic_path
from layerlab.wetting.assembly import SplitMatrix
from layerlab.wetting.model import Forms, build_forms
from layerlab.wetting.params import LENGTH_SCALE_M, WettingParams

log = logging.getLogger("layerlab.wetting")


GROW_AFTER_STEPS = 3
"""Update the matrix early, to double the step, once this many steps in a row would allow it (the
ramp from ``dt_initial_s`` does not wait for ``refactor_every`` steps per doubling)."""


class WettingDiverged(SolverError):
    """The time step was halved ``max_retries`` times without a successful step."""


@dataclass(frozen=True)
class Boundaries:
    """Which facet tags get which condition (tags as in :mod:`layerlab.geometry.tags`).

    ``inlet``: ``u = (0, -U)``, ``phi = 1``; ``outlet``: traction free; ``slip_x`` / ``slip_y``:
    symmetry ``u_x = 0`` / ``u_y = 0`` (axis-aligned boundaries); ``walls``: no-slip and wall energy
    (contact angle); ``pin_pressure_at``: a point where ``p = 0`` (closed boxes only).
    """

    facet_tags: dmesh.MeshTags
    inlet: tuple[int, ...] = ()
    outlet: tuple[int, ...] = ()
    slip_x: tuple[int, ...] = ()
    slip_y: tuple[int, ...] = ()
    walls: tuple[int, ...] = ()
    pin_pressure_at: tuple[float, float] | None = None


def _facets(bnd: Boundaries, tags: tuple[int, ...]) -> np.ndarray:
    """The local facets carrying any of ``tags``."""
    if not tags:
        return np.zeros(0, dtype=np.int32)
    return np.unique(np.concatenate([bnd.facet_tags.find(t) for t in tags])).astype(np.int32)


def dirichlet_bcs(bnd: Boundaries, u_sub: fem.FunctionSpace | None, p_sub: fem.FunctionSpace | None,
                  phi_sub: fem.FunctionSpace | None, u_in_hat: float) -> list[fem.DirichletBC]:
    """The Dirichlet conditions of ``bnd`` on the (sub)spaces of velocity, pressure and phase field
    (``None``: that field is not in the space the conditions are for)."""
    fdim = bnd.facet_tags.dim
    bcs: list[fem.DirichletBC] = []

    def constant_bc(sub: fem.FunctionSpace, tags: tuple[int, ...], value: tuple[float, ...]) -> None:
        Vc, _ = sub.collapse()
        f = fem.Function(Vc)
        f.interpolate(lambda x: np.vstack([np.full(x.shape[1], v) for v in value]))
        dofs = fem.locate_dofs_topological((sub, Vc), fdim, _facets(bnd, tags))
        bcs.append(fem.dirichletbc(f, dofs, sub))

    # order matters where sets touch: later conditions win, so no-slip walls come last
    if u_sub is not None:
        if bnd.slip_x:
            constant_bc(u_sub.sub(0), bnd.slip_x, (0.0,))
        if bnd.slip_y:
            constant_bc(u_sub.sub(1), bnd.slip_y, (0.0,))
        if bnd.inlet:
            constant_bc(u_sub, bnd.inlet, (0.0, -u_in_hat))
    if phi_sub is not None and bnd.inlet:
        constant_bc(phi_sub, bnd.inlet, (1.0,))
    if u_sub is not None and bnd.walls:
        constant_bc(u_sub, bnd.walls, (0.0, 0.0))
    if p_sub is not None and bnd.pin_pressure_at is not None:
        V_p, _ = p_sub.collapse()
        x0, y0 = bnd.pin_pressure_at
        dofs = fem.locate_dofs_geometrical((p_sub, V_p), lambda x: np.isclose(x[0], x0) & np.isclose(x[1], y0))
        bcs.append(fem.dirichletbc(fem.Function(V_p), dofs, p_sub))
    return bcs


class WettingSolver:
    """The coupled Cahn-Hilliard / Stokes problem on a 2D mesh in micrometres (nondimensional).

    Parameters
    ----------
    msh : mesh with coordinates in units of ``LENGTH_SCALE_M`` (1 um)
    bnd : boundary conditions by facet tag
    params : physical and numerical parameters
    phi0 : initial phase field, ``phi0(x) -> array`` on points ``x`` of shape (3, n)
    """

    def __init__(self, msh: dmesh.Mesh, bnd: Boundaries, params: WettingParams,
                 phi0: Callable[[np.ndarray], np.ndarray]) -> None:
        self.msh, self.bnd, self.params = msh, bnd, params
        self.comm = msh.comm
        self.ds = ufl.Measure("ds", domain=msh, subdomain_data=bnd.facet_tags)
        self.dt_hat = params.dt_initial_s / params.time_scale_s
        self.forms: Forms = build_forms(msh, self.ds, tuple(bnd.walls), params, self.dt_hat)
        self.t_hat = 0.0
        self.step_count = 0
        self._since_factor = 0
        self._dt_proposal = self.dt_hat
        self._need_factor = True
        self._dt_prev = 0.0
        self._last_phi_max = float("nan")
        self.bcs = self._dirichlet_bcs()
        V_phi, phi_map = self.forms.spaces["phi"]
        self._phi_map = np.asarray(phi_map).ravel()
        phi_init = fem.Function(V_phi)
        phi_init.interpolate(phi0)
        self.forms.w_old.x.array[self._phi_map] = phi_init.x.array
        self.forms.w_old.x.scatter_forward()
        self.forms.w_new.x.array[:] = self.forms.w_old.x.array
        self.parts = SplitMatrix(self.forms, self.bcs, params.phi_update_tol)
        self.A: PETSc.Mat | None = None      # the frozen matrix of the current step
        self.P: PETSc.Mat | None = None      # the matrix whose LU factors are held ("krylov": a copy)
        self._krylov = params.linear_solver == "krylov"
        self._refactor = True             # rebuild the LU factors at the next matrix update
        self._fresh_parts = True          # the next matrix update assembles the parts from scratch
        self.b = fem.petsc.create_vector(self.forms.W)
        self.b_lift = fem.petsc.create_vector(self.forms.W)   # -A[:, bc] g of the frozen matrix
        self.ksp = PETSc.KSP().create(self.comm)
        pc = self.ksp.getPC()
        pc.setType("lu")
        pc.setFactorSolverType("mumps")
        if self._krylov:
            self.ksp.setType("gmres")
            self.ksp.setGMRESRestart(params.krylov_max_iterations)
            self.ksp.setPCSide(PETSc.PC.Side.RIGHT)
            self.ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
            self.ksp.setTolerances(rtol=params.krylov_rtol, atol=0.0, max_it=params.krylov_max_iterations)
            self.ksp.setInitialGuessNonzero(True)      # the previous step's state
        else:
            self.ksp.setType("preonly")
        self.n_factorisations = 0         # LU factorisations (checkpoints included)
        self.n_matrix_updates = 0         # changes of the frozen field or step size
        self.krylov_iterations = 0        # GMRES iterations over all steps ("krylov")
        self.timings = {"factorise_s": 0.0, "assemble_s": 0.0, "solve_s": 0.0}   # wall time (this rank)

    # ---- set-up ----------------------------------------------------------------------------------
    def _dirichlet_bcs(self) -> list[fem.DirichletBC]:
        W = self.forms.W
        return dirichlet_bcs(self.bnd, W.sub(0), W.sub(1), W.sub(2), self.params.u_in_hat)

    # ---- fields ----------------------------------------------------------------------------------
    def field(self, name: str, which: str = "new") -> fem.Function:
        """A copy of ``u``, ``p``, ``phi`` or ``mu`` in its collapsed space."""
        V, dofs = self.forms.spaces[name]
        f = fem.Function(V, name=name)
        src = self.forms.w_new if which == "new" else self.forms.w_old
        f.x.array[:] = src.x.array[np.asarray(dofs)]
        return f

    @property
    def time_s(self) -> float:
        return self.t_hat * self.params.time_scale_s

    @property
    def dt_s(self) -> float:
        return self.dt_hat * self.params.time_scale_s

    # ---- one step --------------------------------------------------------------------------------
    def _factorise(self) -> None:
        """Freeze the current phase field (within ``phi_update_tol``) and step size in the matrix
        (and factorise it, with ``"lu"`` or when the Krylov solves asked for it)."""
        f = self.forms
        phi_now = f.w_old.x.array[self._phi_map]
        if self._fresh_parts:
            f.phi_f.x.array[:] = phi_now
        else:
            t0 = time.perf_counter()
            self.parts.update(phi_now)
            self.timings["assemble_s"] += time.perf_counter() - t0
        f.dt.value = self.dt_hat
        self._build_factors(refactor=self._refactor or not self._krylov)
        self.n_matrix_updates += 1
        self._since_factor = 0
        self._need_factor = False

    def _build_factors(self, refactor: bool = True) -> None:
        """Assemble the matrix of ``phi_f`` and ``dt`` (its parts from scratch when
        ``_fresh_parts``) and its lifting of the Dirichlet values (constant while the matrix is);
        factorise it when ``refactor``."""
        t0 = time.perf_counter()
        if self._fresh_parts:
            self.parts.rebuild()
            self._fresh_parts = False
        self.A = self.parts.combine(self.dt_hat)
        self.parts.combine_lifting(self.dt_hat, self.b_lift)
        self.timings["assemble_s"] += time.perf_counter() - t0
        if refactor:
            self._refactorise()
        else:
            self.ksp.setOperators(self.A, self.P)

    def _refactorise(self) -> None:
        """LU-factorise the current matrix (held as a copy with ``"krylov"``, whose matrix moves on)."""
        t0 = time.perf_counter()
        if self._krylov:
            if self.P is None:
                self.P = self.A.copy()
            else:
                self.A.copy(self.P, PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
            self.ksp.getPC().setReusePreconditioner(False)
            self.ksp.setOperators(self.A, self.P)
            self.ksp.setUp()
            self.ksp.getPC().setReusePreconditioner(True)
        else:
            self.ksp.setOperators(self.A)
            self.ksp.setUp()
        self.n_factorisations += 1
        self._refactor = False
        self.timings["factorise_s"] += time.perf_counter() - t0

    def _solve(self) -> None:
        t0 = time.perf_counter()
        f = self.forms
        with self.b.localForm() as loc:
            loc.set(0.0)
        fem.petsc.assemble_vector(self.b, f.L)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.b.axpy(1.0, self.b_lift)
        fem.petsc.set_bc(self.b, self.bcs)
        x = f.w_new.x.petsc_vec
        if self._krylov:
            f.w_old.x.petsc_vec.copy(x)
            self.ksp.solve(self.b, x)
            its = self.ksp.getIterationNumber()
            self.krylov_iterations += its
            if self.ksp.getConvergedReason() < 0:      # the factors are too old: refactorise, solve again
                log.debug("GMRES stopped after %d iterations (%s); refactorising",
                          its, self.ksp.getConvergedReason())
                self.timings["solve_s"] += time.perf_counter() - t0
                self._refactorise()
                t0 = time.perf_counter()
                f.w_old.x.petsc_vec.copy(x)
                self.ksp.solve(self.b, x)
                self.krylov_iterations += self.ksp.getIterationNumber()
                if self.ksp.getConvergedReason() < 0:
                    raise PETSc.Error(int(self.ksp.getConvergedReason()))
            elif its > self.params.krylov_refactor_iterations:
                self._refactor = True
        else:
            self.ksp.solve(self.b, x)
        f.w_new.x.scatter_forward()
        self.timings["solve_s"] += time.perf_counter() - t0

    def _where_phi_max(self) -> str:
        """`` at (x, y) um`` of the largest |phi| of the last attempt (for the failure message)."""
        V, _ = self.forms.spaces["phi"]
        n = V.dofmap.index_map.size_local
        vals = np.abs(self.forms.w_new.x.array[self._phi_map][:n]) if n else np.zeros(0)
        local = (float(vals.max()), *V.tabulate_dof_coordinates()[int(vals.argmax()), :2]) if n else (-1.0, 0.0, 0.0)
        best = max(self.comm.allgather(local))
        return f" at ({best[1]:.3g}, {best[2]:.3g}) um"

    def _phi_drift(self) -> float:
        """``max |phi_n - phi_f|``: how far the state has moved from the matrix's frozen field."""
        f = self.forms
        d = np.abs(f.w_old.x.array[self._phi_map] - f.phi_f.x.array)
        return self._max(float(np.max(d, initial=0.0)))

    def _max(self, value: float) -> float:
        return self.comm.allreduce(value, op=MPI.MAX)

    def step(self) -> float:
        """Advance one step (retrying with halved steps on failure); return the step taken (s)."""
        p = self.params
        f = self.forms
        retries = 0
        while True:
            if self._since_factor >= p.refactor_every or self._phi_drift() > p.phi_drift_max:
                self._need_factor = True
            ok, dphi = True, np.inf
            try:
                if self._need_factor:
                    self.dt_hat = min(self._dt_proposal, p.dt_max_s / p.time_scale_s)
                    self._factorise()
                f.extrap.value = self.dt_hat / self._dt_prev if self._dt_prev > 0 and retries == 0 else 0.0
                self._solve()
                phi_new = f.w_new.x.array[self._phi_map]
                finite = bool(np.all(np.isfinite(f.w_new.x.array)))
                finite = self.comm.allreduce(finite, op=MPI.LAND)
                if finite:
                    phi_max = self._max(float(np.max(np.abs(phi_new), initial=0.0)))
                    self._last_phi_max = phi_max
                    dphi = self._max(float(np.max(np.abs(phi_new - f.w_old.x.array[self._phi_map]),
                                                  initial=0.0)))
                    ok = phi_max <= p.phi_bound and dphi <= 4.0 * p.dphi_target
                else:
                    ok = False
            except PETSc.Error as err:  # e.g. a singular factorisation
                log.warning("linear solve failed: %s", err)
                ok = False
            if ok:
                break
            retries += 1
            new_dt = self.dt_hat / 2.0
            if retries > p.max_retries or new_dt * p.time_scale_s < p.dt_min_s:
                f.w_new.x.array[:] = np.nan_to_num(f.w_new.x.array, nan=0.0)
                raise WettingDiverged(
                    f"time step failed {retries} times at t = {self.time_s:.6g} s (last dt {self.dt_s:.3g} s, "
                    f"max |dphi| {dphi:.3g}, max |phi| {self._last_phi_max:.3g} of {p.phi_bound:g} allowed"
                    f"{self._where_phi_max()}); stopping, the last checkpoint is kept")
            log.warning("step failed at t = %.6g s with dt = %.3g s; retrying with dt = %.3g s",
                        self.time_s, self.dt_s, new_dt * p.time_scale_s)
            f.w_new.x.array[:] = f.w_old.x.array
            self._dt_proposal = new_dt
            self._need_factor = True
        # accept
        taken = self.dt_hat
        self.t_hat += taken
        self.step_count += 1
        self._since_factor += 1
        f.phi_prev.x.array[:] = f.w_old.x.array[self._phi_map]
        self._dt_prev = taken
        f.w_old.x.array[:] = f.w_new.x.array
        grow = 2.0 if dphi <= 0 else min(2.0, max(0.5, 0.9 * p.dphi_target / dphi))
        proposal = taken * grow
        if self._since_factor == 1:
            self._dt_proposal = proposal
        else:
            self._dt_proposal = min(self._dt_proposal, proposal)
        if dphi > p.dphi_target:   # too large a change: refactorise with a smaller step at once
            self._need_factor = True
        elif (self._since_factor >= GROW_AFTER_STEPS and self._dt_proposal >= 2.0 * taken
              and taken < p.dt_max_s / p.time_scale_s):
            self._need_factor = True   # every step since the factorisation allows doubling: do it now
        return taken * p.time_scale_s

    # ---- checkpoints -----------------------------------------------------------------------------
    def _ckpt_file(self, folder: Path) -> Path:
        return Path(folder) / f"rank{self.comm.rank}_of{self.comm.size}.npz"

    def save_checkpoint(self, folder: str | Path, extra: dict | None = None) -> None:
        """Write this rank's state atomically (all ranks call this)."""
        V_phi, _ = self.forms.spaces["phi"]
        path = self._ckpt_file(Path(folder))
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, w_old=self.forms.w_old.x.array, phi_f=self.forms.phi_f.x.array,
                         phi_prev=self.forms.phi_prev.x.array, dt_prev=np.array(self._dt_prev),
                         coords=V_phi.tabulate_dof_coordinates()[:, :2],
                         scalars=np.array([self.t_hat, self.dt_hat, self._dt_proposal]),
                         counters=np.array([self.step_count, self._since_factor, int(self._need_factor)]),
                         extra=np.array([extra or {}], dtype=object))
        self.comm.Barrier()
        self._fresh_parts = True     # as a resumed run does: the same matrix and factors, bit for bit
        self._build_factors()

    def load_checkpoint(self, folder: str | Path) -> dict | None:
        """Restore the state saved by :meth:`save_checkpoint` with the same mesh and rank count.

        Returns the ``extra`` dictionary, or None when no complete checkpoint exists."""
        path = self._ckpt_file(Path(folder))
        have = self.comm.allreduce(path.exists(), op=MPI.LAND)
        if not have:
            return None
        data = np.load(path, allow_pickle=True)
        V_phi, _ = self.forms.spaces["phi"]
        same = (data["w_old"].shape == self.forms.w_old.x.array.shape
                and np.allclose(data["coords"], V_phi.tabulate_dof_coordinates()[:, :2]))
        steps = self.comm.allgather(int(data["counters"][0]))
        if not self.comm.allreduce(same, op=MPI.LAND) or len(set(steps)) != 1:
            raise RuntimeError(f"checkpoint in {folder} does not match this mesh/partition; remove it to restart")
        f = self.forms
        f.w_old.x.array[:] = data["w_old"]
        f.w_new.x.array[:] = data["w_old"]
        f.phi_f.x.array[:] = data["phi_f"]
        f.phi_prev.x.array[:] = data["phi_prev"]
        self._dt_prev = float(data["dt_prev"])
        self.t_hat, self.dt_hat, self._dt_proposal = (float(v) for v in data["scalars"])
        self.step_count, self._since_factor, need = (int(v) for v in data["counters"])
        f.dt.value = self.dt_hat
        self._build_factors()       # the factors of the frozen matrix exactly as they were
        self._need_factor = bool(need)
        return data["extra"][0]


def mesh_to_scaled(msh: dmesh.Mesh) -> None:
    """Rescale mesh coordinates from metres to micrometres (in place)."""
    msh.geometry.x[:] /= LENGTH_SCALE_M
