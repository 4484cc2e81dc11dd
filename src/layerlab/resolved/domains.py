"""Phases of a two-phase mesh: tag checks, solid connectivity, submeshes and integration data.

A resolved half-cell mesh (tags of :mod:`layerlab.geometry.tags`) has electrolyte cells
(``ELECTROLYTE``, optionally ``SEPARATOR``), particle cells (``PARTICLES``), facets of the
current collector, the counter-electrode side (``TOP``) and the particle surface (``INTERFACE``).

Particles without an electronic path: the connected components of the particle cells (through
shared facets) are found; a component that touches no ``CURRENT_COLLECTOR`` facet is EXCLUDED
from the model (its cells get no unknowns; its surface becomes a no-flux wall of the
electrolyte) and reported in the log and in :class:`Phases`.  A mesh in which no particle
reaches the current collector, or whose cells or boundaries are not tagged, raises
:class:`~layerlab.errors.InputError` before any work.

Conducting pores (``conducting_pores=True``, used by the 2D runs, whose disks never touch): the
unresolved carbon-binder network is modelled as a homogenised electronic conductor filling the
electrode's pore space (wet or dry) beside the electrolyte.  ``phi_s`` then lives on the
*conductor* submesh (particles + electrode pores) and every particle reaches the current
collector through it, so none is excluded.  Without it the conductor is the particle submesh.

Dry cells (``dry_cells``, local indices of electrode-pore cells filled with trapped air): they are
removed from the electrolyte; particle-surface facets next to them carry no reaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from layerlab.errors import InputError
from layerlab.fe import MPI, fem, mesh
from layerlab.geometry import tags as T

log = logging.getLogger("layerlab.resolved")

BINDER = 40        # integration id (not a mesh tag): electrode-pore cells conducting electrons


@dataclass
class Phases:
    """Submeshes, entity maps and integration entities of a resolved mesh (local to this rank)."""

    msh: "mesh.Mesh"
    electrolyte: "mesh.Mesh"          # ELECTROLYTE + SEPARATOR cells
    solid: "mesh.Mesh"                # connected PARTICLES cells
    conductor: "mesh.Mesh"            # cells carrying phi_s: the solid, or solid + pores (binder)
    entity_maps: list
    cells: dict[int, np.ndarray]      # owned cells per subdomain id (ELECTROLYTE, PARTICLES, SEPARATOR)
    interface: np.ndarray             # (n, 4): electrolyte cell, local facet, particle cell, local facet
    collector: np.ndarray             # (n, 2): particle cell, local facet on CURRENT_COLLECTOR
    top: np.ndarray                   # (n, 2): electrolyte cell, local facet on TOP
    collector_all: np.ndarray         # (n, 2): every CURRENT_COLLECTOR facet (box area)
    components: int                   # connected particle components (global)
    excluded_components: int
    excluded_volume_fraction: float   # of the particle volume
    binder: bool = False              # conducting pores: cells[BINDER] carry binder conduction
    dry_cells: int = 0                # electrode-pore cells removed as air (global count)
    dry_pore_fraction: float = 0.0    # their share of the electrode-pore volume

    @property
    def gdim(self) -> int:
        return self.msh.geometry.dim


def _global_count(comm: MPI.Comm, n: int) -> int:
    return comm.allreduce(int(n), op=MPI.SUM)


def check_tags(data) -> None:
    """Raise InputError unless cells and the needed facets carry the resolved-model tags."""
    msh, ct, ft = data.mesh, data.cell_tags, data.facet_tags
    comm = msh.comm
    tdim = msh.topology.dim
    if ct is None or ft is None:
        raise InputError("mesh", "the mesh has no cell or facet tags",
                         "cells tagged electrolyte=1 / particles=2 / separator=3 and tagged facets")
    n_owned = msh.topology.index_map(tdim).size_local
    owned = ct.indices < n_owned
    tagged = np.isin(ct.values[owned], [T.ELECTROLYTE, T.PARTICLES, T.SEPARATOR])
    n_cells = msh.topology.index_map(tdim).size_global
    n_tagged = _global_count(comm, int(np.count_nonzero(tagged)))
    if n_tagged != n_cells:
        raise InputError("mesh", f"{n_cells - n_tagged} of {n_cells} cells carry no phase tag",
                         "every cell tagged electrolyte (1), particles (2) or separator (3)")
    for name, tag in (("electrolyte", T.ELECTROLYTE), ("particles", T.PARTICLES)):
        if _global_count(comm, np.count_nonzero(ct.values[owned] == tag)) == 0:
            raise InputError("mesh", f"no cells tagged {name} ({tag})", "a two-phase mesh with both phases")
    for name, tag in (("current_collector", T.CURRENT_COLLECTOR), ("top", T.TOP), ("interface", T.INTERFACE)):
        if _global_count(comm, len(ft.find(tag))) == 0:
            raise InputError("mesh", f"no facets tagged {name} ({tag})",
                             "facet groups current_collector=21, top=22, interface=30")


def connected_to(msh: "mesh.Mesh", particle_cells: np.ndarray, collector_facets: np.ndarray
                 ) -> tuple[np.ndarray, int, int]:
    """Which of the local ``particle_cells`` reach one of ``collector_facets`` through shared facets.

    (Used for the solid and the current collector, and for the electrolyte and the counter
    electrode.)

    Returns a boolean mask over ``particle_cells``, the number of connected components and the
    number of those that touch no current-collector facet (global counts).  The graph (cells and
    facets by global index) is gathered on rank 0; fine for meshes of a few million cells.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    comm = msh.comm
    tdim = msh.topology.dim
    top = msh.topology
    top.create_connectivity(tdim, tdim - 1)
    c2f = top.connectivity(tdim, tdim - 1)
    cmap, fmap = top.index_map(tdim), top.index_map(tdim - 1)
    owned = particle_cells[particle_cells < cmap.size_local]
    nf = c2f.offsets[1] - c2f.offsets[0]
    facets = c2f.array.reshape(-1, nf)[owned]
    gcells = cmap.local_to_global(owned.astype(np.int32))
    gfacets = fmap.local_to_global(facets.ravel().astype(np.int32))
    gcc = fmap.local_to_global(collector_facets.astype(np.int32))
    parts = comm.gather((np.repeat(gcells, nf), gfacets, gcc), root=0)
    result = None
    if comm.rank == 0:
        rows = np.concatenate([p[0] for p in parts])
        cols = np.concatenate([p[1] for p in parts])
        cc = np.unique(np.concatenate([p[2] for p in parts]))
        ucells, ci = np.unique(rows, return_inverse=True)
        ufacets, fi = np.unique(cols, return_inverse=True)
        n = len(ucells) + len(ufacets)
        g = coo_matrix((np.ones(len(ci)), (ci, len(ucells) + fi)), shape=(n, n))
        ncomp, labels = connected_components(g, directed=False)
        cell_labels = labels[:len(ucells)]
        comps_cells = np.unique(cell_labels)
        touching = np.unique(labels[len(ucells) + np.flatnonzero(np.isin(ufacets, cc))])
        ok = np.isin(cell_labels, touching)
        n_touching = int(np.count_nonzero(np.isin(comps_cells, touching)))
        result = (ucells[ok], len(comps_cells), len(comps_cells) - n_touching)
    active_global, ncomp, nexcl = comm.bcast(result, root=0)
    gall = cmap.local_to_global(particle_cells.astype(np.int32))
    return np.isin(gall, active_global), ncomp, nexcl


def _volume(msh: "mesh.Mesh", cells: np.ndarray) -> float:
    from layerlab.fe import ufl
    dx = ufl.Measure("dx", domain=msh, subdomain_data=[(1, cells.astype(np.int32))])
    one = fem.Constant(msh, 1.0)
    return msh.comm.allreduce(fem.assemble_scalar(fem.form(one * dx(1))), op=MPI.SUM)


def build_phases(data, conducting_pores: bool = False, dry_cells: np.ndarray | None = None) -> Phases:
    """Check the tags, exclude unconnected particles, and build submeshes and integration data.

    Parameters
    ----------
    data : mesh data (mesh, cell_tags, facet_tags) with the tags of :mod:`layerlab.geometry.tags`
    conducting_pores : the electrode pores carry a homogenised carbon-binder conductor (see above)
    dry_cells : local indices (owned and ghost) of ELECTROLYTE cells filled with air
    """
    check_tags(data)
    msh, ct, ft = data.mesh, data.cell_tags, data.facet_tags
    comm = msh.comm
    tdim = msh.topology.dim
    top = msh.topology
    top.create_connectivity(tdim - 1, tdim)
    top.create_connectivity(tdim, tdim - 1)
    nloc = top.index_map(tdim).size_local + top.index_map(tdim).num_ghosts
    n_owned = top.index_map(tdim).size_local
    phase = np.zeros(nloc, dtype=np.int32)
    phase[ct.indices] = ct.values
    electrode_pores = np.flatnonzero(phase == T.ELECTROLYTE).astype(np.int32)
    n_dry = 0
    dry = np.asarray(dry_cells if dry_cells is not None else [], dtype=np.int32)
    if dry_cells is not None:
        if _global_count(comm, int(np.count_nonzero(phase[dry] != T.ELECTROLYTE))):
            raise InputError("air_map", "air placed in cells that are not electrode pores",
                             "air only in electrolyte-tagged cells")
        phase[dry] = -T.ELECTROLYTE
        n_dry = _global_count(comm, int(np.count_nonzero(dry < n_owned)))
    particles = np.flatnonzero(phase == T.PARTICLES).astype(np.int32)
    if conducting_pores:
        conductor_cells = np.union1d(particles, electrode_pores).astype(np.int32)
        connected, ncomp, _ = connected_to(msh, conductor_cells, ft.find(T.CURRENT_COLLECTOR))
        connected = connected[np.isin(conductor_cells, particles)]      # both sorted: particles' order
        _, ncomp, _ = connected_to(msh, particles, ft.find(T.CURRENT_COLLECTOR))   # disks, for the record
        nexcl = 0        # the binder fills the electrode's pores: every particle reaches the collector
    else:
        connected, ncomp, nexcl = connected_to(msh, particles, ft.find(T.CURRENT_COLLECTOR))
    # electrolyte pockets cut off from the separator side never wet and carry no ionic current:
    # excluded too (their potential would be undetermined)
    pores = np.flatnonzero((phase == T.ELECTROLYTE) | (phase == T.SEPARATOR)).astype(np.int32)
    wet, npc, npx = connected_to(msh, pores, ft.find(T.TOP))
    if npx:
        log.warning("%d of %d electrolyte components do not reach the counter electrode: excluded", npx, npc)
    phase[pores[~wet]] = -T.ELECTROLYTE
    dry_fraction = 0.0
    if n_dry:
        dry_fraction = (_volume(msh, dry[dry < n_owned])
                        / _volume(msh, electrode_pores[electrode_pores < n_owned]))
        log.info("%d electrode-pore cells (%.2f %% of the pore volume) are air-filled: removed from the "
                 "electrolyte", n_dry, 100 * dry_fraction)
    if comm.allreduce(int(np.count_nonzero(connected[particles < n_owned])), op=MPI.SUM) == 0:
        raise InputError("mesh", "no particle reaches the current collector through the solid",
                         "particles touching the current_collector facets (21)")
    if ncomp - nexcl > 1 and not conducting_pores:
        # issue 13 (S-Dry-L at h = 3 um): single spheres cut off by lost necks but resting on the
        # collector took ~7 % of the current each with 0.06 % of the capacity under a current uniform
        # per contact area; the equipotential collector (the model's default) shares it by kinetics
        log.warning("%d particle components touch the current collector: they share its potential (with "
                    "ResolvedModel(collector='uniform') each would carry its share of the contact area)",
                    ncomp - nexcl)
    excluded = particles[~connected]
    phase[excluded] = -T.PARTICLES            # excluded particle cells: no unknowns
    v_all = _volume(msh, particles[particles < n_owned])
    v_excl = _volume(msh, excluded[excluded < n_owned])
    if nexcl:
        log.warning("%d of %d particle components (%.2f %% of the particle volume) have no electronic "
                    "path to the current collector: excluded (their surface is a no-flux wall)",
                    nexcl, ncomp, 100 * v_excl / v_all)
    liquid = np.flatnonzero((phase == T.ELECTROLYTE) | (phase == T.SEPARATOR)).astype(np.int32)
    solid = particles[connected]
    e_mesh, e_map, _, _ = mesh.create_submesh(msh, tdim, liquid)
    s_mesh, s_map, _, _ = mesh.create_submesh(msh, tdim, solid)
    entity_maps = [e_map, s_map]
    c_mesh = s_mesh
    if conducting_pores:
        c_mesh, c_map, _, _ = mesh.create_submesh(msh, tdim, np.union1d(solid, electrode_pores).astype(np.int32))
        entity_maps.append(c_map)

    def owned_of(tag: int) -> np.ndarray:
        return np.flatnonzero(phase[:n_owned] == tag).astype(np.int32)

    IT = fem.IntegralType
    ifc = fem.compute_integration_domains(IT.interior_facet, top, ft.find(T.INTERFACE)).reshape(-1, 4)
    is_liquid = (phase == T.ELECTROLYTE) | (phase == T.SEPARATOR)
    swap = ~is_liquid[ifc[:, 0]]
    ifc[swap] = ifc[swap][:, [2, 3, 0, 1]]
    ifc = ifc[is_liquid[ifc[:, 0]] & (phase[ifc[:, 2]] == T.PARTICLES)]
    ccf = fem.compute_integration_domains(IT.exterior_facet, top, ft.find(T.CURRENT_COLLECTOR)).reshape(-1, 2)
    cc_all = ccf.copy()
    conducts = phase == T.PARTICLES
    if conducting_pores:
        conducts[electrode_pores] = True
    ccf = ccf[conducts[ccf[:, 0]]]
    tpf = fem.compute_integration_domains(IT.exterior_facet, top, ft.find(T.TOP)).reshape(-1, 2)
    tpf = tpf[is_liquid[tpf[:, 0]]]
    cells = {T.ELECTROLYTE: owned_of(T.ELECTROLYTE), T.PARTICLES: owned_of(T.PARTICLES),
             T.SEPARATOR: owned_of(T.SEPARATOR)}
    if conducting_pores:
        cells[BINDER] = electrode_pores[electrode_pores < n_owned]
    return Phases(msh=msh, electrolyte=e_mesh, solid=s_mesh, conductor=c_mesh, entity_maps=entity_maps,
                  cells=cells, binder=conducting_pores, dry_cells=n_dry,
                  dry_pore_fraction=dry_fraction,
                  interface=ifc, collector=ccf, top=tpf, collector_all=cc_all, components=ncomp,
                  excluded_components=nexcl,
                  excluded_volume_fraction=v_excl / v_all if v_all > 0 else 0.0)
