"""Verification of the voxel-route effective transport: analytic cases and bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.fe import MPI
from layerlab.transport.effective import Region, phase_transport
from layerlab.transport.study import voxel_study
from layerlab.transport.synthetic import overlapping_spheres
from layerlab.transport.voxel import VoxelGrid, box_mesh, phase_cells

BOX_M = (6e-6, 7e-6, 8e-6)


def _solve_grid(solid: np.ndarray, phase: str) -> dict:
    grid = VoxelGrid(solid, BOX_M)
    msh = box_mesh(MPI.COMM_SELF, grid)
    cells = phase_cells(msh, grid, phase, (0, grid.shape[2]))
    return phase_transport(msh, cells, Region((0.0, 0.0, 0.0), BOX_M))


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_straight_square_channel_has_unit_tortuosity(axis: int) -> None:
    """A square pore channel through a solid block: tau = 1 along it; no flux (isolated) across it."""
    solid = np.ones((12, 14, 16), dtype=bool)
    sl = [slice(4, 8), slice(5, 9), slice(6, 10)]
    sl[axis] = slice(None)
    solid[tuple(sl)] = False
    fraction = float((~solid).mean())
    res = _solve_grid(solid, "pore")
    along = res["xyz"[axis]]
    assert along.phase_fraction == pytest.approx(fraction, rel=1e-12)
    assert along.tortuosity_factor == pytest.approx(1.0, abs=1e-3)
    assert along.isolated_fraction == 0.0
    for d in "xyz".replace("xyz"[axis], ""):
        assert res[d].relative_diffusivity == 0.0 and math.isinf(res[d].tortuosity_factor)
        assert res[d].isolated_fraction == pytest.approx(fraction, rel=1e-12)
    # the solid around the channel is a straight prism with a hole: tau = 1 along the channel as well
    solid_res = _solve_grid(solid, "solid")["xyz"[axis]]
    assert solid_res.tortuosity_factor == pytest.approx(1.0, abs=1e-3)


def test_empty_box_pore_is_unobstructed() -> None:
    """No spheres: porosity 1, tau = MacMullin = 1 in every direction; no solid to conduct."""
    res = _solve_grid(np.zeros((6, 7, 8), dtype=bool), "pore")
    for r in res.values():
        assert r.phase_fraction == pytest.approx(1.0)
        assert r.tortuosity_factor == pytest.approx(1.0, abs=1e-8)
        assert r.macmullin_number == pytest.approx(1.0, abs=1e-8)
    solid = _solve_grid(np.zeros((6, 7, 8), dtype=bool), "solid")
    assert all(r.relative_diffusivity == 0.0 and r.phase_fraction == 0.0 for r in solid.values())


def test_solid_laminate_parallel_and_series() -> None:
    """Solid plates normal to z (insulating pores between): sigma_eff parallel = solid fraction (arithmetic
    mean of 1 and 0); through the plates no path (harmonic mean 0) and the inner plates are isolated."""
    solid = np.zeros((6, 7, 16), dtype=bool)
    solid[:, :, 0::4] = True          # plates at k = 0, 4, 8, 12 (k = 0 touches z = 0)
    solid[:, :, 1::4] = True          # two voxels thick
    res = _solve_grid(solid, "solid")
    phi = 0.5
    for d in "xy":
        assert res[d].phase_fraction == pytest.approx(phi)
        assert res[d].relative_diffusivity == pytest.approx(phi, rel=1e-8)
        assert res[d].tortuosity_factor == pytest.approx(1.0, rel=1e-8)
    assert res["z"].relative_diffusivity == 0.0
    # the plates at k = 4-5, 8-9 and 12-13 touch neither z = 0 nor z = H (k = 16)
    assert res["z"].isolated_fraction == pytest.approx(3 * 2 / 16, rel=1e-12)


def test_isolated_clusters_carry_no_flux() -> None:
    """Channels along x and along y plus a closed pocket: per direction, the other channel and the pocket
    are isolated (pinned), and D_eff/D is exactly the cross-section fraction of the percolating channel."""
    solid = np.ones((12, 14, 16), dtype=bool)
    solid[:, 4:8, 4:8] = False          # channel along x, 4 x 4 voxels
    solid[8:10, :, 11:13] = False       # channel along y, 2 x 2 voxels (no shared vertex with the other)
    solid[3:6, 10:13, 10:13] = False    # closed pocket (27 voxels)
    res = _solve_grid(solid, "pore")
    n = solid.size
    x_channel, y_channel, pocket = 12 * 16 / n, 14 * 4 / n, 27 / n
    assert res["x"].isolated_fraction == pytest.approx(y_channel + pocket, rel=1e-12)
    assert res["x"].relative_diffusivity == pytest.approx(16 / (14 * 16), rel=1e-8)
    assert res["y"].isolated_fraction == pytest.approx(x_channel + pocket, rel=1e-12)
    assert res["y"].relative_diffusivity == pytest.approx(4 / (12 * 16), rel=1e-8)
    assert res["x"].tortuosity_factor == pytest.approx(res["x"].phase_fraction / (16 / (14 * 16)), rel=1e-8)
    assert res["z"].relative_diffusivity == 0.0


def test_sphere_packings_obey_hashin_shtrikman() -> None:
    """Overlapping spheres: for each (insulating-complement) phase D_eff/D <= 2 eps / (3 - eps), i.e.
    tau >= (3 - eps) / 2, in every direction and layer; both phases percolate at porosity ~0.45."""
    packing = overlapping_spheres((14e-6, 14e-6, 14e-6), 0.45, {"L": 3.5e-6, "S": 1.75e-6},
                                  {"L": 0.5, "S": 0.5}, seed=0)
    study = voxel_study(MPI.COMM_SELF, packing, 0.7e-6)
    for (region, phase), per_dir in study.results.items():
        for r in per_dir.values():
            eps = r.phase_fraction
            assert 0.3 < eps < 0.7
            assert r.relative_diffusivity > 0.0
            assert r.relative_diffusivity <= 2 * eps / (3 - eps)
            assert r.tortuosity_factor >= (3 - eps) / 2
            assert r.macmullin_number == pytest.approx(r.tortuosity_factor / eps)


# Mesh convergence (default vs refined voxels, observed order): test_transport_convergence.py
