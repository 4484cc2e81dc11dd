"""Voxel route (TauFactor-style): a solid/pore indicator on a regular grid and a hexahedral box mesh.

The grid has ``n_a = round(L_a / h)`` voxels along each axis (spacing ``L_a / n_a``); a voxel is solid when
its centre lies inside a sphere of the packing (periodic images included along periodic axes).  Each cell of
the hexahedral box mesh is one voxel, so a phase is a set of cells (a submesh of them is solved on).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from layerlab.errors import require
from layerlab.fe import MPI, mesh
from layerlab.transport.packing import Packing


@dataclass(frozen=True)
class VoxelGrid:
    """A solid indicator on a regular grid over the box ``[0, Lx] x [0, Ly] x [0, H]``."""

    solid: np.ndarray                    # bool, shape (nx, ny, nz)
    box_m: tuple[float, float, float]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.solid.shape)  # type: ignore[return-value]

    @property
    def spacing_m(self) -> np.ndarray:
        return np.asarray(self.box_m) / np.asarray(self.shape)

    def solid_fraction(self, k_lo: int = 0, k_hi: int | None = None) -> float:
        """Solid volume fraction of the voxel layers ``k_lo <= k < k_hi`` (z)."""
        return float(self.solid[:, :, k_lo:k_hi].mean())


def grid_shape(box_m: tuple[float, float, float], voxel_m: float) -> tuple[int, int, int]:
    """Voxels per axis for a nominal voxel size (at least one per axis)."""
    require(voxel_m > 0, "transport.voxel_size_um", f"got {voxel_m * 1e6!r} um", "> 0")
    return tuple(max(1, int(round(L / voxel_m))) for L in box_m)  # type: ignore[return-value]


def rasterize(packing: Packing, shape: tuple[int, int, int]) -> VoxelGrid:
    """Solid indicator of a sphere packing on a grid of ``shape`` voxels (voxel centres inside a sphere)."""
    box = np.asarray(packing.box_m)
    n = np.asarray(shape)
    h = box / n
    solid = np.zeros(shape, dtype=bool)
    shifts_1d = [(-1, 0, 1) if packing.periodic[a] else (0,) for a in range(3)]
    for c, r in zip(packing.centres_m, packing.radii_m):
        for s in itertools.product(*shifts_1d):
            ci = c + np.asarray(s) * box
            lo = np.maximum(np.floor((ci - r) / h - 0.5).astype(int), 0)
            hi = np.minimum(np.ceil((ci + r) / h + 0.5).astype(int), n)
            if np.any(hi <= lo):
                continue
            xs = [((np.arange(lo[a], hi[a]) + 0.5) * h[a] - ci[a]) ** 2 for a in range(3)]
            inside = xs[0][:, None, None] + xs[1][None, :, None] + xs[2][None, None, :] <= r * r
            solid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] |= inside
    return VoxelGrid(solid, tuple(float(b) for b in box))  # type: ignore[arg-type]


def box_mesh(comm: MPI.Comm, grid: VoxelGrid) -> "mesh.Mesh":
    """The hexahedral box mesh with one cell per voxel."""
    return mesh.create_box(comm, [np.zeros(3), np.asarray(grid.box_m)], list(grid.shape),
                           cell_type=mesh.CellType.hexahedron, ghost_mode=mesh.GhostMode.shared_facet)


def owned_cell_voxels(msh: "mesh.Mesh", grid: VoxelGrid) -> np.ndarray:
    """Voxel indices (i, j, k) of the owned cells of a :func:`box_mesh`, shape (n_owned, 3)."""
    n_owned = msh.topology.index_map(msh.topology.dim).size_local
    nodes = msh.geometry.x[msh.geometry.dofmaps[0][:n_owned]]
    centres = nodes.mean(axis=1)
    ijk = np.floor(centres / grid.spacing_m).astype(np.int64)
    return np.clip(ijk, 0, np.asarray(grid.shape) - 1)


def phase_cells(msh: "mesh.Mesh", grid: VoxelGrid, phase: str, k_range: tuple[int, int],
                voxels: np.ndarray | None = None) -> np.ndarray:
    """Owned cells of ``phase`` ("pore" or "solid") in the voxel layers ``k_lo <= k < k_hi``."""
    require(phase in ("pore", "solid"), "transport.phase", f"got {phase!r}", "pore, solid")
    ijk = owned_cell_voxels(msh, grid) if voxels is None else voxels
    is_solid = grid.solid[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    in_slab = (ijk[:, 2] >= k_range[0]) & (ijk[:, 2] < k_range[1])
    keep = in_slab & (is_solid if phase == "solid" else ~is_solid)
    return np.flatnonzero(keep).astype(np.int32)


def slab_k_range(grid: VoxelGrid, z_bottom_m: float, z_top_m: float) -> tuple[int, int]:
    """Voxel layers of the slab ``z_bottom_m .. z_top_m``, snapped to the nearest grid planes."""
    hz = grid.spacing_m[2]
    k_lo = int(np.clip(round(z_bottom_m / hz), 0, grid.shape[2]))
    k_hi = int(np.clip(round(z_top_m / hz), 0, grid.shape[2]))
    return k_lo, k_hi
