"""Breakthrough in a regular array of cylinders: piston-like filling of the pore space.

With the front starting ``d0`` below the inlet, the electrolyte reaches the outlet after filling
the reservoir gap, the array (porosity x height) and the outlet buffer:
``t = (y0 - y_top + porosity (y_top - y_bottom) + y_bottom) / U``.  Runs the whole case pipeline
(geometry-stage files -> netCDF) and checks the written metrics and the final air map.

The array term alone: the front enters the array when 1 % of its pore area holds electrolyte and
leaves it at 99 % (electrode saturation, interpolated between records); piston-like filling at the
inlet flux takes ``porosity (y_top - y_bottom) / U`` in between.  Checked on that square array
(one column, mirrored by the symmetry sides) and on a staggered two-column array.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import xarray as xr

from layerlab.fe import MPI
from layerlab.wetting.case import run_case
from layerlab.wetting.testgeom import write_cylinder_case

UM = 1e-6


def crossing_time(t: np.ndarray, saturation: np.ndarray, share: float = 0.01) -> float:
    """Time between the electrode saturation first reaching ``share`` and ``1 - share`` (linear
    interpolation between records)."""
    def first(level: float) -> float:
        i = int(np.argmax(saturation >= level))
        assert saturation[i] >= level and i > 0, level
        return float(t[i - 1] + (level - saturation[i - 1]) * (t[i] - t[i - 1]) / (saturation[i] - saturation[i - 1]))
    return first(1.0 - share) - first(share)


@pytest.mark.slow
def test_cylinder_array_breakthrough_time(mpi_tmp_path, record_property) -> None:
    width, height, yb, yt, radius = 10 * UM, 30 * UM, 6 * UM, 24 * UM, 2.2 * UM
    mesh, packing = write_cylinder_case(mpi_tmp_path / "geom", width, height, yb, yt, radius, 1, 3, 0.7 * UM)
    section = {"end_time_s": 0.23, "record_interval_s": 1e-3, "checkpoint_interval_s": 0.05,
               "snapshot_times_s": [0.05], "interface_width_m": 0.5 * UM, "contact_angle_deg": 25.0}
    out = mpi_tmp_path / "runs" / "case.nc"
    metrics = run_case(section, "L-S_load29.6_por0.55_ls0.5_seed0", mesh, packing, out)
    porosity = 1 - 3 * np.pi * radius**2 / (width * (yt - yb))
    y0 = height - 2 * UM
    expected = ((y0 - yt) + porosity * (yt - yb) + yb) / 1e-4
    record_property("breakthrough_relative_error", metrics["breakthrough_time"] / expected - 1)
    assert abs(metrics["breakthrough_time"] / expected - 1) < 0.10, (metrics["breakthrough_time"], expected)
    if MPI.COMM_WORLD.rank == 0:
        ds = xr.open_dataset(out, engine="h5netcdf")
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs and "long_name" in var.attrs, name
        assert float(ds.breakthrough_time) == pytest.approx(metrics["breakthrough_time"])
        assert ds.phi_final.attrs["geometry_case"] == "L-S_load29.6_por0.55_ls0.5_seed0"
        # electrolyte enters at exactly U x width (mass balance of the inlet condition)
        t, area = ds.filling_time.values, ds.electrolyte_area.values
        sel = (t > 0.02) & (t < 0.12)
        rate = np.polyfit(t[sel], area[sel], 1)[0]
        record_property("inflow_rate_relative_error", rate / (1e-4 * width) - 1)
        assert rate == pytest.approx(1e-4 * width, rel=1e-4)
        # the array alone: from the front entering (1 % saturation) to leaving it (99 %)
        t_array = crossing_time(t, ds.saturation.values)
        record_property("array_crossing_relative_error", t_array / (porosity * (yt - yb) / 1e-4) - 1)
        assert abs(t_array / (porosity * (yt - yb) / 1e-4) - 1) < 0.10, (t_array, porosity * (yt - yb) / 1e-4)
        assert ds.distance_from_collector.size == 20 and np.all(np.isfinite(ds.air_fraction_profile.values))
        assert out.with_suffix(".phi.bp").is_dir() and out.with_suffix(".snapshots.bp").is_dir()
        assert not out.with_suffix(".ckpt").exists()
        # final phase raster: NaN on the cylinders (solid), 0/1 elsewhere, tied to the packing file
        air = ds.air_map.values
        assert air.shape == (120, 40) and ds.map_x.attrs["units"] == "m"     # 0.25 um default spacing
        assert np.isclose(ds.map_x.values[1] - ds.map_x.values[0], 0.25 * UM)
        solid = np.isnan(air)
        assert abs(solid.mean() / (3 * np.pi * radius**2 / (width * height)) - 1) < 0.03
        assert set(np.unique(air[~solid])) <= {0.0, 1.0}
        gx, gy = np.meshgrid(ds.map_x.values, ds.map_y.values)
        assert np.all(solid[np.hypot(gx - width / 2, gy - (yb + 3 * UM)) < radius - 0.3 * UM])
        assert np.all(air[gy > yt + 1 * UM] == 0.0)                         # wet above the array
        assert ds.air_map.attrs["packing_sha256"] == hashlib.sha256(packing.read_bytes()).hexdigest()
        assert ds.air_map.attrs["case"] == ds.attrs["case"] == "L-S_load29.6_por0.55_ls0.5_seed0"
        # snapshots on the same grid (the pictures): the saved time, then the end; the particles and
        # the final phase are those of the air map; the front has not reached the array at 0.05 s
        snap = ds.electrolyte_fraction_snapshot
        assert snap.snapshot_time.values[0] == pytest.approx(0.05, abs=2e-3)
        assert snap.snapshot_time.values[-1] == pytest.approx(float(ds.filling_time[-1]), abs=1e-6)
        np.testing.assert_array_equal(np.isnan(snap.values), np.broadcast_to(solid, snap.shape))
        np.testing.assert_array_equal(snap.values[-1][~solid] < 0.5, air[~solid] == 1.0)
        assert np.all(snap.values[0][gy < yb] < 0.5) and np.all(snap.values[0][gy > height - 1 * UM] > 0.5)


def _staggered_array(width: float, height: float, y_bottom: float, n_rows: int, dy: float, radius: float,
                     h: float, comm: MPI.Comm):
    """A channel (micrometres) with ``n_rows`` rows of disks from ``y_bottom`` up, alternating a
    disk at ``x = width / 2`` and half disks on both sides: with the symmetry sides, a staggered
    array of two columns per ``width``.  Returns the mesh and its facet tags."""
    import gmsh
    from layerlab.fe import dolfinx, mesh as dmesh
    from layerlab.geometry import tags
    if comm.rank == 0:
        gmsh.initialize()
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("staggered")
        occ = gmsh.model.occ
        box = occ.addRectangle(0, 0, 0, width, height)
        centres = [(x, y_bottom + (j + 0.5) * dy) for j in range(n_rows)
                   for x in ((0.0, width) if j % 2 == 0 else (width / 2,))]
        occ.cut([(2, box)], [(2, occ.addDisk(x, y, 0, radius, radius)) for x, y in centres])
        occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [s[1] for s in gmsh.model.getEntities(2)], tags.PORE)
        groups: dict[int, list[int]] = {t: [] for t in (tags.INLET, tags.OUTLET, tags.SIDE_LEFT,
                                                       tags.SIDE_RIGHT, tags.PARTICLE_WALL)}
        for _, c in gmsh.model.getEntities(1):
            cx, cy, _ = occ.getCenterOfMass(1, c)       # straight edges: midpoints; arcs lie inside
            tag = (tags.INLET if abs(cy - height) < 1e-6 else tags.OUTLET if abs(cy) < 1e-6 else
                   tags.SIDE_LEFT if abs(cx) < 1e-6 else tags.SIDE_RIGHT if abs(cx - width) < 1e-6 else
                   tags.PARTICLE_WALL)
            groups[tag].append(c)
        for t, cs in groups.items():
            gmsh.model.addPhysicalGroup(1, cs, t)
        gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
        gmsh.option.setNumber("Mesh.CharacteristicLengthMin", h)
        gmsh.model.mesh.generate(2)
    partitioner = dmesh.create_cell_partitioner(dmesh.GhostMode.shared_facet, 2)
    data = dolfinx.io.gmsh.model_to_mesh(gmsh.model if comm.rank == 0 else None, comm, 0, gdim=2,
                                         partitioner=partitioner)
    if comm.rank == 0:
        gmsh.finalize()
    return data.mesh, data.facet_tags


@pytest.mark.slow
def test_staggered_array_crossing_time(record_property) -> None:
    """A staggered two-column array (4 rows, pitch 10 x 5 um, radius 2 um, narrowest throat 3.1 um)
    fills piston-like: saturation from 1 % to 99 % in porosity x height / U within 10 %, with no
    air left in it."""
    from layerlab.geometry import tags
    from layerlab.wetting.metrics import ElectrodeBand, Probe
    from layerlab.wetting.params import WettingParams
    from layerlab.wetting.run import Schedule, simulate
    from layerlab.wetting.solver import Boundaries, WettingSolver
    width, n_rows, dy, radius, yb = 10.0, 4, 5.0, 2.0, 3.0
    yt = yb + n_rows * dy
    height = yt + 3.0                                       # the front starts 1 um above the array
    msh, ft = _staggered_array(width, height, yb, n_rows, dy, radius, 0.7, MPI.COMM_WORLD)
    params = WettingParams(interface_width_m=0.5 * UM, contact_angle_deg=25.0, end_time_s=0.165)
    bnd = Boundaries(ft, inlet=(tags.INLET,), outlet=(tags.OUTLET,), slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT),
                     walls=(tags.PARTICLE_WALL,))
    y0, w = height - params.initial_front_below_inlet_m / UM, math.sqrt(2.0) * params.eps_hat
    solver = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - y0) / w))
    probe = Probe(solver.field("phi", "old"), solver.ds, (tags.OUTLET,), ElectrodeBand(yb, yt))
    porosity = 1 - n_rows * np.pi * radius**2 / (width * (yt - yb))
    assert probe.electrode_area / (width * (yt - yb)) == pytest.approx(porosity, rel=0.01)
    hist = simulate(solver, probe, Schedule(end_time_s=params.end_time_s, record_interval_s=1e-3)).as_arrays()
    t_array = crossing_time(hist["t"], hist["saturation"])
    expected = porosity * (yt - yb) * UM / 1e-4
    record_property("array_crossing_relative_error", t_array / expected - 1)
    assert abs(t_array / expected - 1) < 0.10, (t_array, expected)
    assert hist["saturation"][-1] > 0.995 and hist["outlet_fraction"].max() < 1e-3   # outlet not reached yet
