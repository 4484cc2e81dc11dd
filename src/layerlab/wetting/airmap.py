"""The final phase state as a raster (``air_map``) for the wetting -> electrochemistry coupling.

A P1 field is evaluated at the centres of a regular grid by dolfinx point evaluation: every rank
looks up its own cells (``bb_tree`` / ``compute_colliding_cells``) and rank 0 gathers the values.
A grid point on a facet or vertex touches several cells, possibly on different ranks; the value is
taken from the cell with the smallest *original* (input) cell index, so the raster does not depend
on the partition.  Points outside the mesh (inside particles, beyond the domain) are NaN.

Sign convention: ``phi = +1`` is electrolyte, ``phi = -1`` air; ``air_map = 1`` where
``phi < 0`` (air), ``0`` where ``phi >= 0`` (electrolyte), NaN where there is no pore space.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from layerlab.fe import dolfinx, fem


def grid_centres(length: float, spacing: float) -> np.ndarray:
    """Centres of ``ceil(length / spacing)`` equal cells covering ``[0, length]`` (spacing rounded
    down so that the cells tile the length exactly)."""
    n = max(1, int(np.ceil(length / spacing - 1e-9)))
    return (np.arange(n) + 0.5) * (length / n)


def sample_on_grid(f: fem.Function, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """Values of the scalar ``f`` at the points ``(xs[j], ys[i])``, shape ``(len(ys), len(xs))``,
    on rank 0 (None elsewhere); NaN where no cell of the mesh contains the point."""
    msh = f.function_space.mesh
    comm = msh.comm
    tdim = msh.topology.dim
    gx, gy = np.meshgrid(xs, ys)
    pts = np.zeros((gx.size, 3))
    pts[:, 0], pts[:, 1] = gx.ravel(), gy.ravel()
    n_owned = msh.topology.index_map(tdim).size_local
    tree = dolfinx.geometry.bb_tree(msh, tdim, entities=np.arange(n_owned, dtype=np.int32))
    candidates = dolfinx.geometry.compute_collisions_points(tree, pts)
    colliding = dolfinx.geometry.compute_colliding_cells(msh, candidates, pts)
    offsets, links = colliding.offsets, colliding.array
    original = np.asarray(msh.topology.original_cell_index)
    counts = np.diff(offsets)
    found = np.nonzero(counts > 0)[0]
    # per point, the colliding cell with the smallest original index
    seg = np.repeat(np.arange(counts.size), counts)
    order = np.lexsort((original[links], seg)) if links.size else np.zeros(0, dtype=np.int64)
    cell_of = links[order][offsets[found]].astype(np.int32)
    vals = f.eval(pts[found], cell_of).reshape(-1) if found.size else np.zeros(0)
    best = original[cell_of].astype(np.int64)
    gathered = comm.gather((found, best, vals), root=0)
    if comm.rank != 0:
        return None
    out = np.full(pts.shape[0], np.nan)
    owner = np.full(pts.shape[0], np.iinfo(np.int64).max)
    for idx, orig, v in gathered:
        take = orig < owner[idx]
        out[idx[take]] = v[take]
        owner[idx[take]] = orig[take]
    return out.reshape(gy.shape)


def air_map(phi_values: np.ndarray) -> np.ndarray:
    """1 where ``phi < 0`` (air), 0 where ``phi >= 0`` (electrolyte), NaN where ``phi`` is NaN."""
    out = np.where(phi_values < 0.0, 1.0, 0.0)
    out[np.isnan(phi_values)] = np.nan
    return out


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of the bytes of ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
