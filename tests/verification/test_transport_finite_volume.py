"""Cross-check of the voxel route against an independent TauFactor-style finite-volume solve.

The finite-volume scheme (two-point fluxes between face-sharing pore voxels, half-voxel distance to the
Dirichlet faces) is what TauFactor uses; written here with scipy, it shares no code with layerlab.transport
except the rasterized voxels.  The two discretisations approach the same limit from opposite sides: the
face-connected FV overestimates tau at coarse voxels (narrow throats close), the vertex-connected P1 FE is
slightly below and moves much less.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg

from layerlab.fe import MPI
from layerlab.transport.study import voxel_study
from layerlab.transport.synthetic import overlapping_spheres
from layerlab.transport.voxel import grid_shape, rasterize


def finite_volume_tau_z(pore: np.ndarray) -> float:
    """Through-plane (z) tortuosity factor of the ``pore`` voxels, face connectivity, unit voxels."""
    nx, ny, nz = pore.shape
    labels, _ = scipy.ndimage.label(pore)                       # 6-connected clusters
    ends = (set(np.unique(labels[:, :, 0])) | set(np.unique(labels[:, :, -1]))) - {0}
    keep = np.isin(labels, list(ends))                           # clusters touching a Dirichlet face
    index = np.full(pore.shape, -1, dtype=np.int64)
    index[keep] = np.arange(int(keep.sum()))
    n = int(keep.sum())
    diag, rhs, rows, cols = np.zeros(n), np.zeros(n), [], []
    for axis in range(3):
        lo, hi = [slice(None)] * 3, [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        i, j = index[tuple(lo)], index[tuple(hi)]
        both = (i >= 0) & (j >= 0)
        i, j = i[both], j[both]
        rows += [i, j]
        cols += [j, i]
        np.add.at(diag, i, 1.0)
        np.add.at(diag, j, 1.0)
    bottom, top = index[:, :, 0][index[:, :, 0] >= 0], index[:, :, -1][index[:, :, -1] >= 0]
    np.add.at(diag, bottom, 2.0)                                  # half-voxel distance to the face
    np.add.at(diag, top, 2.0)
    np.add.at(rhs, bottom, 2.0)                                   # u = 1 at z = 0, u = 0 at z = H
    r, c = np.concatenate(rows), np.concatenate(cols)
    A = scipy.sparse.coo_matrix((-np.ones(len(r)), (r, c)), shape=(n, n)).tocsr() + scipy.sparse.diags(diag)
    u, info = scipy.sparse.linalg.cg(A, rhs, rtol=1e-11, maxiter=50000, M=scipy.sparse.diags(1.0 / diag))
    assert info == 0
    flux = float((2.0 * (1.0 - u[bottom])).sum())
    relative_diffusivity = flux * nz / (nx * ny)
    return float(pore.mean()) / relative_diffusivity


def test_finite_volume_straight_channel() -> None:
    """The reference solver itself: a straight channel has tau = 1."""
    pore = np.zeros((6, 6, 10), dtype=bool)
    pore[2:4, 1:5, :] = True
    assert finite_volume_tau_z(pore) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.slow
def test_fe_and_finite_volume_converge_from_both_sides() -> None:
    packing = overlapping_spheres((10e-6, 10e-6, 10e-6), 0.45, {"S": 2.25e-6}, {"S": 1.0}, seed=0)
    fe, fv = [], []
    for h in (0.5e-6, 0.25e-6):
        fv.append(finite_volume_tau_z(~rasterize(packing, grid_shape(packing.box_m, h)).solid))
        fe.append(voxel_study(MPI.COMM_SELF, packing, h, ("z",)).results[("electrode", "pore")]["z"]
                  .tortuosity_factor)
    assert fv[1] < fv[0]                                   # FV decreases under refinement
    assert fe[0] < fv[0] and fe[1] < fv[1]                 # FE below FV at each voxel size
    assert abs(fe[1] / fe[0] - 1) < abs(fv[1] / fv[0] - 1)  # FE moves less
    assert fv[1] - fe[1] < 0.6 * (fv[0] - fe[0])           # the gap closes
