"""Rank independence: the same packing on COMM_WORLD (2 ranks under make test-mpi) and on COMM_SELF."""

from __future__ import annotations

import pytest

from layerlab.fe import MPI
from layerlab.transport.packing import SlabLayer
from layerlab.transport.study import voxel_study
from layerlab.transport.synthetic import overlapping_spheres


@pytest.mark.mpi
def test_world_equals_self_to_1e8() -> None:
    packing = overlapping_spheres((10e-6, 10e-6, 12e-6), 0.45, {"L": 3e-6, "S": 1.5e-6}, {"L": 0.5, "S": 0.5},
                                  seed=4, layers=(SlabLayer("L", 0.0, 6e-6), SlabLayer("S", 6e-6, 12e-6)))
    world = voxel_study(MPI.COMM_WORLD, packing, 0.5e-6)
    serial = voxel_study(MPI.COMM_SELF, packing, 0.5e-6)
    assert world.results.keys() == serial.results.keys()
    n_solved = 0
    for key, per_dir in world.results.items():
        for d, r in per_dir.items():
            s = serial.results[key][d]
            assert r.phase_fraction == pytest.approx(s.phase_fraction, rel=1e-12)
            assert r.isolated_fraction == pytest.approx(s.isolated_fraction, rel=1e-12, abs=1e-15)
            assert r.relative_diffusivity == pytest.approx(s.relative_diffusivity, rel=1e-8, abs=0.0)
            n_solved += r.relative_diffusivity > 0
    assert n_solved >= 12
