"""Pictures from run files: the packing section is exact geometry, the wetting panels show the stored
phase fields, and bad run files end in one line (exit 2, nothing written)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import xarray as xr

from layerlab.cli import EXIT_INPUT_ERROR, main
from layerlab.figures.pictures import section_disks, section_solid_fraction, wetting_snapshots


def _packing(centres, radii, box, periodic=True, pops=None) -> dict:
    centres = np.asarray(centres, float)
    return {"case": "Mix_load22_por0.45_ls0.5_seed0", "box_m": list(box), "periodic": periodic,
            "sphere_x_m": centres[:, 0].tolist(), "sphere_y_m": centres[:, 1].tolist(),
            "sphere_z_m": centres[:, 2].tolist(), "sphere_radius_m": list(radii),
            "sphere_population": pops or ["L"] * len(radii),
            "layers": [{"name": "mix", "z_bottom_m": 0.0, "z_top_m": box[2], "achieved_solid_fraction": 0.5}]}


def test_section_cuts_a_sphere_into_its_disk_with_the_periodic_image() -> None:
    """A sphere of radius 5 at distance 3 from the plane: a disk of radius 4; centred 1 from x = 0,
    its image at x = 21 reaches into the 20-wide box, the one at x = -19 does not."""
    p = _packing([[1.0, 10.0, 20.0]], [5.0], (20.0, 20.0, 40.0))
    disks = sorted(section_disks(p, 13.0))
    assert [(x, z, pop) for x, z, _, pop in disks] == [(1.0, 20.0, "L"), (21.0, 20.0, "L")]
    np.testing.assert_allclose([r for *_, r, _ in disks], 4.0)
    assert section_disks(p, 15.5) == []                     # the plane misses the sphere
    # through y: the image at y = 30 cuts the plane y = 26 (distance 4: radius 3)
    p = _packing([[10.0, 10.0, 20.0]], [5.0], (20.0, 20.0, 40.0))
    np.testing.assert_allclose([r for *_, r, _ in section_disks(p, 26.0)], 3.0)


def test_section_area_fraction_equals_the_packings_own_solid_test() -> None:
    """The disks' union on a grid equals packing3d.solid_indicator (the packing's own membership test,
    periodic images included) on the same points of the plane."""
    from layerlab.geometry.packing3d import solid_indicator
    rng = np.random.default_rng(3)
    box = (30e-6, 30e-6, 40e-6)
    centres = rng.uniform(0, 1, (60, 3)) * box
    radii = rng.choice([2.25e-6, 5.65e-6], 60)
    p = _packing(centres, radii, box)
    y, spacing = 11e-6, 0.25e-6
    got = section_solid_fraction(section_disks(p, y), box[0], 0.0, box[2], spacing)
    gx, gz = np.meshgrid((np.arange(120) + 0.5) * spacing, (np.arange(160) + 0.5) * spacing)
    pts = np.column_stack([gx.ravel(), np.full(gx.size, y), gz.ravel()])
    assert got == pytest.approx(float(solid_indicator(p, pts).mean()), abs=1e-12)
    assert 0.1 < got < 0.9


def _run(snapshots: list[tuple[float, np.ndarray]]) -> xr.Dataset:
    from layerlab.wetting.output import add_air_map, add_snapshots
    ds = add_air_map(xr.Dataset(), np.arange(4) * 1e-6 + 0.5e-6, np.arange(6) * 1e-6 + 0.5e-6,
                     (snapshots[-1][1] < 0).astype(float), "case", "0" * 64)
    return add_snapshots(ds, snapshots)


def test_wetting_panels_show_each_saved_phase_field_and_its_wet_share() -> None:
    """Three saved times: the front halfway, three quarters, and everywhere but one air pocket; a
    particle (NaN) stays out of the pore share."""
    y = np.arange(6)[:, None] * np.ones((1, 4))
    particle = np.zeros((6, 4), bool)
    particle[2, 1] = True
    frames = []
    for t, front in ((0.1, 3.0), (0.3, 1.5)):
        phi = np.where(y >= front, 1.0, -1.0)
        frames.append((t, np.where(particle, np.nan, phi)))
    last = np.where(particle, np.nan, 1.0)
    last[0, 0] = -1.0
    frames.append((0.5, last))
    fig = wetting_snapshots(_run(frames), "case")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    pores = 23
    for ax, (t, phi), wet in zip(panels, frames, (12, 15, pores - 1)):
        shown = np.ma.filled(ax.images[0].get_array(), np.nan)
        np.testing.assert_array_equal(np.isnan(shown), particle)
        np.testing.assert_allclose(shown[~particle], (phi[~particle] + 1) / 2)
        assert f"t = {t:g} s" in ax.get_title()
        assert f"{100 * wet / pores:.0f} % of pores wet" in ax.get_title()


def test_snapshots_at_one_time_are_kept_once() -> None:
    """One step past two snapshot times, and the run ending on a snapshot's step, record the same
    state twice: kept once (the later entry), so that ``snapshot_time`` stays strictly increasing."""
    a, b = np.ones((6, 4)), -np.ones((6, 4))
    ds = _run([(0.1, b), (0.1, b), (0.2, a), (0.3, b), (0.3, a)])
    np.testing.assert_array_equal(ds["snapshot_time"].values, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds["electrolyte_fraction_snapshot"].values[:, 0, 0], [0.0, 1.0, 1.0])


@pytest.fixture(autouse=True)
def _no_stale_log_handlers():
    yield
    logging.getLogger().handlers.clear()


def test_bad_run_files_end_in_one_line(tmp_path, capsys) -> None:
    out = tmp_path / "figs" / "x.png"
    bad_nc = tmp_path / "run.nc"
    bad_nc.write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    no_map = tmp_path / "nomap.nc"
    xr.Dataset({"a": ("t", [1.0])}).to_netcdf(no_map, engine="h5netcdf")
    bad_packing = tmp_path / "packing3d.json"
    bad_packing.write_text(json.dumps({"case": "x"}))
    for argv, field in ((["wetting-figure", "--run", str(bad_nc)], "run"),
                        (["wetting-figure", "--run", str(no_map)], "run"),
                        (["section-figure", "--packing", str(bad_packing)], "packing")):
        rc = main([*argv, "--out", str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        lines = [line for line in err if line.startswith(f"layerlab {argv[0]}: error: {field}:")]
        assert rc == EXIT_INPUT_ERROR and len(lines) == 1 and not any("Traceback" in e for e in err), err
        assert not out.parent.exists()
