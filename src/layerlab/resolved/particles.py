"""Per-particle state of a resolved run on a packing's mesh: mean stoichiometry of every sphere.

Each particle cell belongs to the packing sphere of smallest power distance at its centroid (the
level-set mesher's rule, :class:`layerlab.geometry.levelset3d.SphereUnion`), so two overlapping
spheres split at the plane of their intersection circle.  The state of charge of a sphere is the
volume mean of ``s`` over its cells (cell means of the P1 field, exact for P1), gathered over ranks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerlab.fe import MPI, fem, mesh, ufl


@dataclass(frozen=True)
class ParticleState:
    """Spheres of the packing that carry cells in the model (connected to the collector)."""

    sphere: np.ndarray          # packing sphere index
    radius_m: np.ndarray
    population: np.ndarray      # "L" / "S" (the packing's sphere_population)
    depth_m: np.ndarray         # centre height above the current collector
    volume_m3: np.ndarray       # modelled (meshed, connected) volume of the sphere's cells
    stoichiometry: np.ndarray   # volume-mean s = c_s / c_max


class ParticleIntegrals:
    """Cell integrals of ``s`` on the solid submesh, binned per packing sphere."""

    def __init__(self, model, packing: Mapping[str, Any]) -> None:
        from layerlab.geometry.levelset3d import union_of_packing

        self.model, self.packing = model, packing
        V0 = fem.functionspace(model.ph.solid, ("DG", 0))
        v0 = ufl.TestFunction(V0)
        s = model.u[2]
        dx = ufl.Measure("dx", domain=model.ph.solid)
        self._s = fem.form(s * v0 * dx)
        self._v = fem.form(v0 * dx)
        self.n = n = V0.dofmap.index_map.size_local
        msh = model.ph.solid
        mid = mesh.compute_midpoints(msh, msh.topology.dim, np.arange(n, dtype=np.int32))
        self.sphere = union_of_packing(packing).nearest(mid)[1]
        self.n_spheres = len(packing["sphere_radius_m"])

    def state(self) -> ParticleState:
        comm = self.model.comm
        s_cell = fem.assemble_vector(self._s).array[:self.n]
        v_cell = fem.assemble_vector(self._v).array[:self.n]
        ns = self.n_spheres
        sv = comm.allreduce(np.bincount(self.sphere, weights=s_cell, minlength=ns), op=MPI.SUM)
        vol = comm.allreduce(np.bincount(self.sphere, weights=v_cell, minlength=ns), op=MPI.SUM)
        keep = np.flatnonzero(vol > 0)
        p = self.packing
        return ParticleState(sphere=keep, radius_m=np.asarray(p["sphere_radius_m"], float)[keep],
                             population=np.asarray(p["sphere_population"], dtype=str)[keep],
                             depth_m=np.asarray(p["sphere_z_m"], float)[keep], volume_m3=vol[keep],
                             stoichiometry=sv[keep] / vol[keep])

