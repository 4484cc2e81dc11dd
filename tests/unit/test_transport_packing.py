"""Packing JSON checks, rasterization and the Boolean-model generator of layerlab.transport (no FE)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from layerlab.errors import InputError
from layerlab.transport.packing import REQUIRED_KEYS, SlabLayer, packing_from_dict, read_packing
from layerlab.transport.synthetic import overlapping_spheres, packing_to_dict
from layerlab.transport.voxel import grid_shape, rasterize, slab_k_range


def _one_sphere(centre_m, radius_m=3e-6, box_m=(10e-6, 10e-6, 10e-6), periodic=True) -> dict:
    return {"box_m": list(box_m), "periodic": periodic, "sphere_x_m": [centre_m[0]], "sphere_y_m": [centre_m[1]],
            "sphere_z_m": [centre_m[2]], "sphere_radius_m": [radius_m], "sphere_population": ["L"],
            "layers": [{"name": "L", "z_bottom_m": 0.0, "z_top_m": box_m[2]}]}


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_key_names_the_field(key: str) -> None:
    data = _one_sphere((5e-6, 5e-6, 5e-6))
    del data[key]
    with pytest.raises(InputError) as err:
        packing_from_dict(data)
    assert err.value.field == f"packing.{key}"


@pytest.mark.parametrize("key, value, field", [
    ("sphere_radius_m", [-1e-6], "packing.sphere_radius_m"),
    ("sphere_y_m", [1e-6, 2e-6], "packing.sphere_y_m"),
    ("box_m", [1e-5, 1e-5], "packing.box_m"),
    ("periodic", "yes", "packing.periodic"),
    ("layers", [{"name": "L", "z_bottom_m": 0.0, "z_top_m": 2e-5}], "packing.layers[0]"),
    ("layers", [], "packing.layers"),
])
def test_bad_values_raise(key: str, value, field: str) -> None:
    data = _one_sphere((5e-6, 5e-6, 5e-6))
    data[key] = value
    with pytest.raises(InputError) as err:
        packing_from_dict(data)
    assert err.value.field == field


def test_read_packing_missing_file_and_bad_json(tmp_path) -> None:
    with pytest.raises(InputError):
        read_packing(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        read_packing(bad)


def test_rasterized_sphere_volume_converges() -> None:
    """Voxel volume of one sphere -> 4/3 pi r^3 (error below 1 % at r/h = 12)."""
    packing = packing_from_dict(_one_sphere((5e-6, 5e-6, 5e-6)))
    exact = 4.0 / 3.0 * math.pi * (3e-6) ** 3 / 1e-15
    errors = [abs(rasterize(packing, grid_shape(packing.box_m, h)).solid.mean() - exact) / exact
              for h in (1e-6, 0.25e-6)]
    assert errors[1] < 0.01
    assert errors[1] < errors[0]


def test_periodic_images_fill_the_box_corners() -> None:
    """A sphere centred on a box corner: its periodic images give the whole sphere laterally, a half in z."""
    centred = rasterize(packing_from_dict(_one_sphere((5e-6, 5e-6, 5e-6))), (40, 40, 40)).solid.sum()
    corner = rasterize(packing_from_dict(_one_sphere((0.0, 0.0, 5e-6))), (40, 40, 40)).solid.sum()
    walled = rasterize(packing_from_dict(_one_sphere((0.0, 0.0, 5e-6), periodic=False)), (40, 40, 40)).solid.sum()
    assert corner == centred
    assert walled * 4 == centred


def test_boolean_model_porosity() -> None:
    """Overlapping spheres: the pore fraction of a large box is exp(-n v) within a few percent."""
    packing = overlapping_spheres((60e-6, 60e-6, 60e-6), 0.45, {"L": 5.65e-6, "S": 2.25e-6},
                                  {"L": 0.5, "S": 0.5}, seed=3)
    porosity = 1.0 - rasterize(packing, grid_shape(packing.box_m, 0.5e-6)).solid.mean()
    assert porosity == pytest.approx(0.45, abs=0.03)
    assert set(packing.population) == {"L", "S"}


def test_packing_round_trip(tmp_path) -> None:
    packing = overlapping_spheres((10e-6, 10e-6, 12e-6), 0.5, {"S": 2e-6}, {"S": 1.0}, seed=1,
                                  layers=(SlabLayer("L", 0.0, 6e-6), SlabLayer("S", 6e-6, 12e-6)))
    path = tmp_path / "packing3d.json"
    path.write_text(json.dumps(packing_to_dict(packing)))
    back = read_packing(path)
    assert np.array_equal(back.centres_m, packing.centres_m)
    assert back.layers == packing.layers
    assert back.periodic == (True, True, False)


def test_slab_snaps_to_grid_planes() -> None:
    grid = rasterize(packing_from_dict(_one_sphere((5e-6, 5e-6, 5e-6))), (10, 10, 10))
    assert slab_k_range(grid, 0.0, 4.4e-6) == (0, 4)
    assert slab_k_range(grid, 4.4e-6, 10e-6) == (4, 10)
