"""Mesh convergence of the voxel-route tortuosity factor at the campaign's voxel sizes.

Set-up: the campaign's smallest particles (S, r = 2.25 um, the hardest case for a voxel grid) as a
Boolean overlapping-sphere packing at porosity 0.45, in 14 um boxes, three seeds.  The Boolean
model is isotropic, so the three directions of a box are three estimates of the same tau; the
campaign feeds the DFN a seed mean (paper.yaml: ``transport: {model: stage}``, seed mean), so
the quantity checked is the mean over seeds and directions.  Voxel sizes 1.0 um (config.yaml),
0.5 um (paper.yaml, the default at scale) and 0.25 um (refined).

Staircase boundaries make the error first order in the voxel size (tau falls as the throats
are resolved): the test asserts that the paper resolution agrees with the refined grid within
2 %, that tau decreases monotonically, and that the observed order lies near 1.

Measured (14 um, seeds 0-2, mean of x, y, z): porosity 0.45: 1.769 / 1.702 / 1.670 at
1.0 / 0.5 / 0.25 um (0.5 um reads +1.9 % above 0.25 um; observed order 1.09; Richardson limit
1.642, so the paper resolution reads ~3.6 % and the laptop one ~7.7 % high); porosity 0.55:
1.505 / 1.458 / 1.446 (+0.9 %, order 1.9); porosity 0.35: 2.39 / 2.27 / 2.17 (+4.7 %: near
percolation the narrow throats need finer voxels; NOT within 2 %, not asserted here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.fe import MPI
from layerlab.transport.effective import Region, phase_transport
from layerlab.transport.synthetic import overlapping_spheres
from layerlab.transport.voxel import box_mesh, grid_shape, phase_cells, rasterize

BOX_M = (14e-6, 14e-6, 14e-6)
RADIUS_S_M = 2.25e-6
SEEDS = (0, 1, 2)
VOXELS_M = (1.0e-6, 0.5e-6, 0.25e-6)     # laptop, paper (default at scale), refined


def _pore_tau(seed: int, voxel_m: float) -> list[float]:
    """Pore tortuosity factor along x, y, z of one S-only packing on one voxel grid."""
    packing = overlapping_spheres(BOX_M, 0.45, {"S": RADIUS_S_M}, {"S": 1.0}, seed=seed)
    grid = rasterize(packing, grid_shape(BOX_M, voxel_m))
    msh = box_mesh(MPI.COMM_SELF, grid)
    cells = phase_cells(msh, grid, "pore", (0, grid.shape[2]))
    res = phase_transport(msh, cells, Region((0.0, 0.0, 0.0), BOX_M), rtol=1e-9)
    assert all(r.relative_diffusivity > 0 for r in res.values())      # percolates in every direction
    return [r.tortuosity_factor for r in res.values()]


@pytest.fixture(scope="module")
def tau_by_voxel() -> dict[float, np.ndarray]:
    """(seeds, directions) tau per voxel size."""
    return {h: np.array([_pore_tau(seed, h) for seed in SEEDS]) for h in VOXELS_M}


@pytest.mark.slow
def test_paper_voxel_size_within_two_percent_of_refined(tau_by_voxel) -> None:
    coarse, default, refined = (float(tau_by_voxel[h].mean()) for h in VOXELS_M)
    change = default / refined - 1.0
    order = math.log((coarse - default) / (default - refined)) / math.log(2.0)
    limit = refined - (default - refined) / (2.0 ** order - 1.0)      # Richardson extrapolation
    print(f"\nS-only, porosity 0.45, mean tau at 1.0/0.5/0.25 um: {coarse:.4f} / {default:.4f} / {refined:.4f}; "
          f"0.5 vs 0.25 um {100 * change:+.2f} %; observed order {order:.2f}; extrapolated {limit:.4f}")
    assert 1.2 < refined < 3.0
    assert abs(change) < 0.02
    assert coarse > default > refined               # staircase error: tau falls as throats are resolved
    assert 0.6 < order < 1.6                        # first order (staircase boundaries)
    assert abs(default / limit - 1.0) < 0.06        # the paper resolution is a few % above the limit


@pytest.mark.slow
def test_seed_spread_exceeds_discretisation_error(tau_by_voxel) -> None:
    """The spread between seeds (box size) dominates the 0.5 -> 0.25 um change: more seeds or larger
    boxes improve the campaign's tau more than finer voxels would."""
    default, refined = tau_by_voxel[0.5e-6].mean(axis=1), tau_by_voxel[0.25e-6].mean(axis=1)
    assert np.ptp(refined) > 2 * abs(default.mean() - refined.mean())
