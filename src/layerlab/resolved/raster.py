"""Raster samples of a 2D resolved run's electrolyte concentration (Fig. 6-style maps).

Pixel centres on a regular grid over the section (``y`` from the current collector); a pixel
whose centre lies in no electrolyte cell (a disk, trapped air, an excluded pocket) is NaN.  The
points are located once; each rank evaluates those inside its owned electrolyte cells and the
values are combined by an allreduce (a point on a shared edge is averaged; P1 is continuous).
"""

from __future__ import annotations

import numpy as np

from layerlab.fe import MPI, dolfinx


class Raster:
    """Samples of a P1 function on a (triangle) submesh at the pixel centres of a ``width x height`` section."""

    def __init__(self, function: "dolfinx.fem.Function", width_m: float, height_m: float,
                 pixel_m: float) -> None:
        msh = function.function_space.mesh
        self.f = function
        self.comm = msh.comm
        nx, ny = max(2, round(width_m / pixel_m)), max(2, round(height_m / pixel_m))
        self.x_m = (np.arange(nx) + 0.5) * width_m / nx
        self.y_m = (np.arange(ny) + 0.5) * height_m / ny
        X, Y = np.meshgrid(self.x_m, self.y_m)
        pts = np.zeros((X.size, 3))
        pts[:, 0], pts[:, 1] = X.ravel(), Y.ravel()
        tdim = msh.topology.dim
        n_owned = msh.topology.index_map(tdim).size_local
        tree = dolfinx.geometry.bb_tree(msh, tdim, entities=np.arange(n_owned, dtype=np.int32))
        cand = dolfinx.geometry.compute_collisions_points(tree, pts)
        # dolfinx's point-in-cell test has an absolute distance tolerance that is coarse for
        # micrometre cells given in metres: pick the containing triangle by barycentric coordinates
        xg = msh.geometry.x[:, :2]
        dm = msh.geometry.dofmaps[0]
        idx, cells = [], []
        for i in range(len(pts)):
            c = cand.links(i)
            if not len(c):
                continue
            v = xg[dm[c]]                                   # (n, 3, 2) triangle vertices
            e1, e2, p = v[:, 1] - v[:, 0], v[:, 2] - v[:, 0], pts[i, :2] - v[:, 0]
            det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
            l1 = (p[:, 0] * e2[:, 1] - p[:, 1] * e2[:, 0]) / det
            l2 = (e1[:, 0] * p[:, 1] - e1[:, 1] * p[:, 0]) / det
            lmin = np.minimum(np.minimum(l1, l2), 1 - l1 - l2)
            k = int(np.argmax(lmin))
            if lmin[k] >= -1e-10:
                idx.append(i)
                cells.append(c[k])
        self.idx = np.array(idx, dtype=np.int64)
        self.cells = np.array(cells, dtype=np.int32)
        self.pts = pts[self.idx]
        self.shape = (ny, nx)

    def sample(self) -> np.ndarray:
        """Values at the pixel centres, shape (ny, nx), NaN outside the function's mesh."""
        total = np.zeros(self.shape[0] * self.shape[1])
        count = np.zeros_like(total)
        if len(self.idx):
            total[self.idx] = self.f.eval(self.pts, self.cells)[:, 0]
            count[self.idx] = 1.0
        total = self.comm.allreduce(total, op=MPI.SUM)
        count = self.comm.allreduce(count, op=MPI.SUM)
        with np.errstate(invalid="ignore"):
            return (total / np.where(count > 0, count, np.nan)).reshape(self.shape)
