"""Air maps of the wetting stage applied to a 2D section: identity, coverage, lookup (no FE solve)."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.errors import InputError
from layerlab.resolved.airmap import AirMap, air_map_dataset, disk_air_map, sha256_of
from layerlab.resolved.diskmesh import DiskLayout

PACKING = {"width_m": 12e-6, "electrode_y_range_m": [2e-6, 14e-6], "domain_height_m": 16e-6,
           "disk_x_m": [3.5e-6, 8.5e-6], "disk_y_m": [7e-6, 7.5e-6], "disk_radius_m": [2.2e-6, 2.4e-6]}


def _map(ds) -> AirMap:
    return AirMap(ds["map_x"].values, ds["map_y"].values, ds["air_map"].values, ds.attrs["packing_sha256"],
                  ds.attrs["case"])


def test_other_geometry_is_rejected(tmp_path) -> None:
    layout = DiskLayout.from_packing(PACKING)
    ds = disk_air_map(PACKING, "a" * 64, 0.5e-6, {0: 1e-6}, case="X")
    with pytest.raises(InputError, match="air_map"):
        _map(ds).checked("b" * 64, layout)
    # a grid that misses the top of the electrode (a map of a thinner electrode)
    short = ds.isel(map_y=slice(0, 20))
    with pytest.raises(InputError, match="cover"):
        _map(short).checked("a" * 64, layout)
    narrow = ds.isel(map_x=slice(0, 20))
    with pytest.raises(InputError, match="cover"):
        _map(narrow).checked("a" * 64, layout)
    # read from a file: the same checks; a file without air_map is rejected
    path = tmp_path / "w.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    AirMap.read(path, "a" * 64, layout)
    with pytest.raises(InputError, match="air_map"):
        AirMap.read(path, "b" * 64, layout)
    ds.rename({"air_map": "phi"}).to_netcdf(tmp_path / "v.nc", engine="h5netcdf")
    with pytest.raises(InputError, match="no variable"):
        AirMap.read(tmp_path / "v.nc", "a" * 64, layout)


def test_lookup_fills_solid_pixels_from_the_nearest_pore_pixel() -> None:
    layout = DiskLayout.from_packing(PACKING)
    ds = disk_air_map(PACKING, "s", 0.5e-6, {0: 1.0e-6})
    amap = _map(ds).checked("s", layout)
    assert not np.any(np.isnan(amap.air))
    cx, cy, r = 3.5e-6, 7e-6, 2.2e-6
    ang = np.linspace(0, 2 * np.pi, 50)
    # just outside disk 0 (within the air ring): air; a point inside disk 0 takes the ring's value
    assert np.all(amap.air_at(cx + (r + 0.5e-6) * np.cos(ang), cy + (r + 0.5e-6) * np.sin(ang)))
    assert amap.air_at(np.array([cx]), np.array([cy]))[0]
    # far from it (and at disk 1, surrounded by electrolyte): electrolyte
    assert not np.any(amap.air_at(np.array([8.5e-6, 11.5e-6, 6e-6]), np.array([7.5e-6, 3e-6, 13.5e-6])))


def test_values_and_sha(tmp_path) -> None:
    layout = DiskLayout.from_packing(PACKING)
    x, y = np.linspace(0.25e-6, 11.75e-6, 24), np.linspace(0.25e-6, 15.75e-6, 32)
    bad = np.full((32, 24), 2.0)
    with pytest.raises(InputError, match="outside"):
        _map(air_map_dataset(x, y, bad, "s")).checked("s", layout)
    p = tmp_path / "p.json"
    p.write_bytes(b"{}")
    assert sha256_of(p) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_disks_must_lie_inside_the_electrode() -> None:
    bad = dict(PACKING, disk_x_m=[1.0e-6, 8.5e-6])
    with pytest.raises(InputError, match="cross"):
        DiskLayout.from_packing(bad)
    with pytest.raises(InputError, match="disk_y_m"):
        DiskLayout.from_packing({k: v for k, v in PACKING.items() if k != "disk_y_m"})
