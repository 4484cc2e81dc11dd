"""Rank independence of the 2D resolved run with trapped air: COMM_WORLD (2 ranks) vs COMM_SELF."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.cfnames import SAMPLE
from layerlab.electrochem.parameters import load_parameters
from layerlab.fe import MPI
from layerlab.resolved.airmap import AirMap, disk_air_map
from layerlab.resolved.diskmesh import DiskLayout
from layerlab.resolved.run import Protocol
from layerlab.resolved.run2d import Section2DOptions, run_resolved2d
from layerlab.resolved.solver import StepControl

PACKING = {"width_m": 12e-6, "electrode_y_range_m": [2e-6, 14e-6], "domain_height_m": 16e-6,
           "disk_x_m": [3.5e-6, 8.5e-6, 4.0e-6, 9.0e-6], "disk_y_m": [5.0e-6, 5.5e-6, 10.5e-6, 11.0e-6],
           "disk_radius_m": [2.2e-6, 2.4e-6, 2.0e-6, 2.2e-6]}


def _run(comm: MPI.Comm):
    ds = disk_air_map(PACKING, "s", 0.25e-6, {0: 0.35e-6, 3: 0.2e-6})
    air = AirMap(ds["map_x"].values, ds["map_y"].values, ds["air_map"].values, "s", "").checked(
        "s", DiskLayout.from_packing(PACKING))
    params = load_parameters().replace("separator", thickness_m=5e-6)
    out, _ = run_resolved2d(PACKING, "s", params, Protocol(1.0, 0.0, 3.5, 4.3), 210.0, 4950.0,
                            Section2DOptions(mesh_size_m=0.8e-6, mesh_size_min_m=0.25e-6, maps=3),
                            StepControl(dt_initial_s=5.0, dt_max_s=300.0, dv_max_V=0.03), profile_bins=6,
                            air_map=air, comm=comm)
    return out


@pytest.mark.mpi
def test_world_equals_self() -> None:
    world = _run(MPI.COMM_WORLD)
    serial = _run(MPI.COMM_SELF)
    assert world.attrs["mpi_ranks"] == MPI.COMM_WORLD.size and serial.attrs["mpi_ranks"] == 1
    assert world.attrs["dry_disks"] == serial.attrs["dry_disks"] == 1
    assert world.attrs["air_filled_pore_cells"] == serial.attrs["air_filled_pore_cells"] > 0
    assert world.sizes[SAMPLE] == serial.sizes[SAMPLE]
    assert world.attrs["discharge_capacity_C_m2"] == pytest.approx(serial.attrs["discharge_capacity_C_m2"], rel=1e-8)
    np.testing.assert_allclose(world["voltage"].values, serial["voltage"].values, rtol=1e-9)
    np.testing.assert_allclose(world["lithium_particles"].values, serial["lithium_particles"].values, rtol=1e-10)
    for k in ("c_e", "stoichiometry", "c_e_map"):
        a, b = world[k].values, serial[k].values
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12 * np.nanmax(np.abs(b)))
