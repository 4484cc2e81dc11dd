"""gmsh-mesh route: effective transport on the two-phase tetrahedral mesh of the geometry stage.

Each phase (physical groups ``electrolyte`` and ``particles`` of :data:`layerlab.geometry.tags.NAMES_3D`) is
solved on a submesh of its cells (no discontinuous coefficient), over the electrode box (the bounding box of
those cells; separator cells are excluded).  Only the whole electrode is analysed on this route: a layer
boundary is not a mesh surface, so a slab face would be jagged; per-layer values come from the voxel route.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from layerlab.errors import InputError
from layerlab.fe import MPI
from layerlab.geometry.readmesh import read_msh
from layerlab.geometry.tags import ELECTROLYTE, NAMES_3D, PARTICLES
from layerlab.transport.effective import AXES, DEFAULT_RTOL, Region, owned_cell_volumes, phase_transport
from layerlab.transport.packing import Packing
from layerlab.transport.study import ELECTRODE, TransportStudy

log = logging.getLogger("layerlab.transport")

REQUIRED_GROUPS = {name: NAMES_3D[name] for name in ("electrolyte", "particles")}


def mesh_study(comm: MPI.Comm, mesh_path: str | Path, packing: Packing | None = None,
               directions: tuple[str, ...] = AXES, rtol: float = DEFAULT_RTOL) -> TransportStudy:
    """Pore and solid transport of the whole electrode on the gmsh mesh ``mesh_path``.

    Raises
    ------
    InputError
        when the phases are not tagged (groups missing, or a phase without cells).
    """
    data = read_msh(mesh_path, 3, required=REQUIRED_GROUPS, comm=comm)
    msh, tags = data.mesh, data.cell_tags
    if tags is None:
        raise InputError("mesh", f"{Path(mesh_path).name} has no cell tags", "electrolyte and particles cells")
    n_owned = msh.topology.index_map(3).size_local
    cells = {}
    for phase, tag in (("pore", ELECTROLYTE), ("solid", PARTICLES)):
        c = tags.find(tag)
        cells[phase] = c[c < n_owned].astype(np.int32)
        if comm.allreduce(len(cells[phase]), op=MPI.SUM) == 0:
            raise InputError("mesh", f"{Path(mesh_path).name}: no cells tagged {tag} ({phase})",
                             "both phases tagged (electrolyte 1, particles 2)")
    both = np.concatenate([cells["pore"], cells["solid"]])
    x = msh.geometry.x[msh.geometry.dofmaps[0][both]].reshape(-1, 3)
    lo, hi = np.empty(3), np.empty(3)
    comm.Allreduce(x.min(axis=0) if len(x) else np.full(3, np.inf), lo, op=MPI.MIN)
    comm.Allreduce(x.max(axis=0) if len(x) else np.full(3, -np.inf), hi, op=MPI.MAX)
    region = Region(tuple(float(v) for v in lo), tuple(float(v) for v in hi))  # type: ignore[arg-type]
    if packing is not None and not np.allclose(region.extent_m, packing.box_m, rtol=1e-6):
        raise InputError("mesh", f"electrode box {region.extent_m.tolist()} m differs from the packing's "
                         f"{list(packing.box_m)}", "the mesh built from this packing")
    layers = [lay.name for lay in packing.layers] if packing is not None else []
    study = TransportStudy("mesh", tuple(directions), layers + [ELECTRODE],
                           {**{lay.name: (lay.z_bottom_m, lay.z_top_m) for lay in (packing.layers if packing else ())},
                            ELECTRODE: (float(lo[2]), float(hi[2]))},
                           attrs={"mesh_cells": msh.topology.index_map(3).size_global})
    volumes = owned_cell_volumes(msh)
    for phase in ("pore", "solid"):
        log.info("mesh route, whole electrode, phase %s", phase)
        study.results[(ELECTRODE, phase)] = phase_transport(msh, cells[phase], region, tuple(directions), rtol,
                                                            volumes)
    return study
