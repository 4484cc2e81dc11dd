"""2D resolved half cell on a small disk section: conservation, capacity, trapped air, bad input.

Four disks in a 12 x 12 um electrode under a 5 um separator band.  At 0.05 C the discharge to
3.5 V (just above the OCP minimum) must pass the theoretical charge of the disks between the
OCP stoichiometries of 4.3 V and 3.5 V within 2 %; an all-electrolyte air map must change
nothing; an air ring around disk 0 must leave its lithium untouched and remove exactly its share
of the capacity.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.errors import InputError
from layerlab.fe import MPI, dolfinx
from layerlab.geometry import tags as T
from layerlab.resolved.airmap import AirMap, disk_air_map
from layerlab.resolved.diskmesh import DiskLayout, disk_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.run import Protocol
from layerlab.resolved.run2d import Section2DOptions, run_resolved2d, theoretical_capacity_C_m2
from layerlab.resolved.solver import StepControl

PACKING = {"width_m": 12e-6, "electrode_y_range_m": [2e-6, 14e-6], "domain_height_m": 16e-6,
           "disk_x_m": [3.5e-6, 8.5e-6, 4.0e-6, 9.0e-6], "disk_y_m": [5.0e-6, 5.5e-6, 10.5e-6, 11.0e-6],
           "disk_radius_m": [2.2e-6, 2.4e-6, 2.0e-6, 2.2e-6]}
SHA = "0" * 64
OPTIONS = Section2DOptions(mesh_size_m=0.6e-6, mesh_size_min_m=0.2e-6, pixel_m=0.5e-6, maps=4)
V_CUT = 3.5


def run(air: AirMap | None = None, rate: float = 0.05, comm: MPI.Comm = MPI.COMM_SELF):
    params = load_parameters().replace("separator", thickness_m=5e-6)
    return run_resolved2d(PACKING, SHA, params, Protocol(rate, 0.0, V_CUT, 4.3), 210.0, 4950.0, OPTIONS,
                          StepControl(dt_initial_s=20.0, dt_max_s=3600.0, dv_max_V=0.03), profile_bins=6,
                          air_map=air, comm=comm)


def air_map(widths: dict[int, float]) -> AirMap:
    ds = disk_air_map(PACKING, SHA, 0.25e-6, widths)
    return AirMap(ds["map_x"].values, ds["map_y"].values, ds["air_map"].values, SHA, "").checked(
        SHA, DiskLayout.from_packing(PACKING))


@pytest.fixture(scope="module")
def wet():
    return run()


def test_lithium_conserved_and_theoretical_capacity(wet) -> None:
    ds, model = wet
    li = ds["lithium_electrolyte"].values + ds["lithium_particles"].values
    err = (li - li[0]) - ds["charge"].values / FARADAY
    assert np.abs(err).max() / li[0] < 1e-8
    assert ds.attrs["discharge_end_reason"] == "voltage cut-off"
    assert ds["voltage"].values[-1] == pytest.approx(V_CUT, abs=1e-5)
    params = load_parameters()
    vol = float(np.pi * np.sum(np.array(PACKING["disk_radius_m"]) ** 2) / PACKING["width_m"])
    assert ds.attrs["particle_volume_m3_m2"] == pytest.approx(vol, rel=0.005)     # polygonal disks
    q_th = theoretical_capacity_C_m2(params, vol, 4.3, V_CUT)       # of the exact disks
    s0, s1 = stoichiometry_at_ocp(params.positive.ocp, 4.3), stoichiometry_at_ocp(params.positive.ocp, V_CUT)
    assert 0.3 < s1 - s0 < 0.8
    assert ds.attrs["discharge_capacity_C_m2"] == pytest.approx(q_th, rel=0.02)
    assert ds.attrs["dry_disks"] == 0


def test_maps_and_profiles(wet) -> None:
    ds, model = wet
    cmap = ds["c_e_map"]
    assert "2D" in cmap.attrs["long_name"] and "tortuosity" in cmap.attrs["caveat"]
    assert cmap.sizes["map_sample"] == len(ds["map_time"]) >= 4
    dod = ds["map_depth_of_discharge"].values
    assert dod[0] == 0 and np.all(np.diff(dod) > 0) and dod[-1] == pytest.approx(1.0, abs=0.02)
    c = cmap.values
    np.testing.assert_allclose(c[0][np.isfinite(c[0])], 1000.0, rtol=1e-12)     # rest state
    # NaN exactly in the disks (pixel centres inside a disk, away from its polygonal boundary)
    X, Y = np.meshgrid(ds["map_x"].values, ds["map_y"].values + 2e-6)
    d = np.min([np.hypot(X - x, Y - y) - r for x, y, r in
                zip(PACKING["disk_x_m"], PACKING["disk_y_m"], PACKING["disk_radius_m"])], axis=0)
    assert np.all(np.isnan(c[1][d < -0.05e-6])) and np.all(np.isfinite(c[1][d > 0.05e-6]))
    # discharge: Li+ produced at the foil, consumed in the electrode: c_e falls towards the collector
    prof = ds["c_e"].values[2]
    assert prof[0] < prof[-1]


def test_all_electrolyte_map_changes_nothing(wet) -> None:
    ds0, _ = wet
    ds1, _ = run(air_map({}))
    assert ds1.attrs["air_filled_pore_cells"] == 0
    np.testing.assert_array_equal(ds1["voltage"].values, ds0["voltage"].values)
    np.testing.assert_array_equal(ds1["c_e_map"].values, ds0["c_e_map"].values)
    assert ds1.attrs["discharge_capacity_C_m2"] == ds0.attrs["discharge_capacity_C_m2"]


def test_dry_disk_loses_exactly_its_capacity(wet) -> None:
    ds0, _ = wet
    ds1, model = run(air_map({0: 0.35e-6}))
    assert ds1.attrs["dry_disks"] == 1 and ds1.attrs["air_filled_pore_cells"] > 0
    li = ds1["lithium_electrolyte"].values + ds1["lithium_particles"].values
    assert abs((li[-1] - li[0]) - ds1["charge"].values[-1] / FARADAY) / li[0] < 1e-8
    # disk 0's lithium never moved
    params = load_parameters()
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    s = model.u[2]
    xy = s.function_space.tabulate_dof_coordinates()[:, :2]
    inside = np.hypot(xy[:, 0] - 3.5e-6, xy[:, 1] - 3.0e-6) < 2.2e-6 * (1 - 1e-6)
    assert inside.sum() > 10
    np.testing.assert_allclose(s.x.array[inside], s0, rtol=0, atol=1e-12)
    # capacity lost = disk 0's theoretical capacity (its polygon's share of the disk volume)
    r = np.array(PACKING["disk_radius_m"])
    share = r[0] ** 2 / np.sum(r ** 2)
    q_disk0 = theoretical_capacity_C_m2(params, share * ds1.attrs["particle_volume_m3_m2"], 4.3, V_CUT)
    lost = ds0.attrs["discharge_capacity_C_m2"] - ds1.attrs["discharge_capacity_C_m2"]
    assert lost == pytest.approx(q_disk0, rel=0.02)
    assert ds1.attrs["dry_disk_volume_fraction"] == pytest.approx(share, rel=1e-12)
    # the dry ring is NaN in the maps
    assert np.isnan(ds1["c_e_map"].values[1]).sum() > np.isnan(ds0["c_e_map"].values[1]).sum()


def test_untagged_phase_is_rejected() -> None:
    layout = DiskLayout.from_packing(PACKING)
    data = disk_mesh(layout, 5e-6, 1e-6, 0.3e-6, comm=MPI.COMM_SELF)
    ct = data.cell_tags
    keep = ct.values != T.PARTICLES
    untagged = dolfinx.mesh.meshtags(data.mesh, 2, ct.indices[keep], ct.values[keep])
    with pytest.raises(InputError, match="no phase tag"):
        build_phases(SimpleNamespace(mesh=data.mesh, cell_tags=untagged, facet_tags=data.facet_tags),
                     conducting_pores=True)
    ft = data.facet_tags
    keep = ft.values != T.INTERFACE
    no_ifc = dolfinx.mesh.meshtags(data.mesh, 1, ft.indices[keep], ft.values[keep])
    with pytest.raises(InputError, match="interface"):
        build_phases(SimpleNamespace(mesh=data.mesh, cell_tags=ct, facet_tags=no_ifc), conducting_pores=True)


def test_raster_samples_the_containing_triangle() -> None:
    """The linear interpolant of a convex function lies above it inside its triangle and below it
    outside: a sample taken from a neighbouring triangle (point location with a loose tolerance)
    would fall below the function."""
    from layerlab.fe import fem
    from layerlab.resolved.raster import Raster

    data = disk_mesh(DiskLayout.from_packing(PACKING), 5e-6, 0.8e-6, 0.25e-6, comm=MPI.COMM_SELF)
    ph = build_phases(data, conducting_pores=True)
    f = fem.Function(fem.functionspace(ph.electrolyte, ("Lagrange", 1)))
    f.interpolate(lambda x: (1e6 * x[0]) ** 2 + (1e6 * x[1]) ** 2)
    r = Raster(f, 12e-6, 17e-6, 0.25e-6)
    m = r.sample()
    X, Y = np.meshgrid(r.x_m * 1e6, r.y_m * 1e6)
    ok = np.isfinite(m)
    assert ok.sum() > 0.5 * m.size
    assert np.all(m[ok] >= X[ok] ** 2 + Y[ok] ** 2 - 1e-9)
    assert np.all(m[ok] <= X[ok] ** 2 + Y[ok] ** 2 + 0.8 ** 2)
