"""Read and check a 3D sphere packing (``results/geometry/<case>/packing3d.json``).

Only the JSON keys are used (no geometry-stage code): ``box_m`` [Lx, Ly, H], ``periodic``, ``sphere_x_m``,
``sphere_y_m``, ``sphere_z_m``, ``sphere_radius_m``, ``sphere_population`` and ``layers`` (each with ``name``,
``z_bottom_m``, ``z_top_m``).  ``periodic`` is a bool (lateral periodicity in x and y) or a list of
per-axis bools.  z = 0 is the current collector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from layerlab.errors import InputError, require

REQUIRED_KEYS = ("box_m", "periodic", "sphere_x_m", "sphere_y_m", "sphere_z_m", "sphere_radius_m",
                 "sphere_population", "layers")


@dataclass(frozen=True)
class SlabLayer:
    """A layer of the packing: the slab ``z_bottom_m <= z < z_top_m``."""

    name: str
    z_bottom_m: float
    z_top_m: float


@dataclass(frozen=True)
class Packing:
    """Spheres in a box (SI units); ``periodic`` per axis (x, y, z)."""

    box_m: tuple[float, float, float]
    periodic: tuple[bool, bool, bool]
    centres_m: np.ndarray          # (n, 3)
    radii_m: np.ndarray            # (n,)
    population: tuple[str, ...]    # "L" / "S" per sphere
    layers: tuple[SlabLayer, ...]


def packing_from_dict(data: Mapping[str, Any], field: str = "packing") -> Packing:
    """Check the keys and values of a packing mapping and build a :class:`Packing`.

    Raises
    ------
    InputError
        naming the missing or bad key (``packing.<key>``).
    """
    require(isinstance(data, Mapping), field, "not a JSON object", "an object with keys " + ", ".join(REQUIRED_KEYS))
    for key in REQUIRED_KEYS:
        require(key in data, f"{field}.{key}", "missing", "packing3d.json keys " + ", ".join(REQUIRED_KEYS))
    try:
        box = np.asarray(data["box_m"], dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{field}.box_m", f"got {data['box_m']!r}", "[Lx, Ly, H] in m") from None
    require(box.shape == (3,) and bool(np.all(box > 0)), f"{field}.box_m", f"got {data['box_m']!r}",
            "three positive lengths [Lx, Ly, H] in m")
    per = data["periodic"]
    if isinstance(per, bool):
        periodic = (per, per, False)
    else:
        require(isinstance(per, list) and len(per) in (2, 3) and all(isinstance(p, bool) for p in per),
                f"{field}.periodic", f"got {per!r}", "a bool (lateral) or a list of 2 or 3 bools (x, y[, z])")
        periodic = (per[0], per[1], per[2] if len(per) == 3 else False)
    cols = []
    for key in ("sphere_x_m", "sphere_y_m", "sphere_z_m", "sphere_radius_m"):
        try:
            arr = np.asarray(data[key], dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"{field}.{key}", "not a list of numbers", "a list of lengths in m") from None
        require(bool(np.all(np.isfinite(arr))), f"{field}.{key}", "non-finite value", "finite lengths in m")
        cols.append(arr)
    n = len(cols[0])
    for key, arr in zip(("sphere_y_m", "sphere_z_m", "sphere_radius_m"), cols[1:]):
        require(len(arr) == n, f"{field}.{key}", f"has {len(arr)} entries, sphere_x_m has {n}", "equal lengths")
    require(bool(np.all(cols[3] > 0)), f"{field}.sphere_radius_m", "non-positive radius", "radii > 0")
    pop = tuple(str(p) for p in data["sphere_population"])
    require(len(pop) == n, f"{field}.sphere_population", f"has {len(pop)} entries, expected {n}", "one per sphere")
    layers_raw = data["layers"]
    require(isinstance(layers_raw, list) and len(layers_raw) > 0, f"{field}.layers", "empty or not a list",
            "a non-empty list of {name, z_bottom_m, z_top_m}")
    layers = []
    for i, lay in enumerate(layers_raw):
        for key in ("name", "z_bottom_m", "z_top_m"):
            require(isinstance(lay, Mapping) and key in lay, f"{field}.layers[{i}].{key}", "missing",
                    "name, z_bottom_m, z_top_m")
        zb, zt = float(lay["z_bottom_m"]), float(lay["z_top_m"])
        require(0.0 <= zb < zt <= box[2] * (1 + 1e-9), f"{field}.layers[{i}]", f"z range [{zb}, {zt}]",
                f"0 <= z_bottom_m < z_top_m <= H = {box[2]}")
        layers.append(SlabLayer(str(lay["name"]), zb, zt))
    names = [lay.name for lay in layers]
    require(len(set(names)) == len(names), f"{field}.layers", f"repeated layer names {names}", "unique names")
    return Packing(tuple(box), periodic, np.column_stack(cols[:3]) if n else np.zeros((0, 3)), cols[3], pop,
                   tuple(layers))


def read_packing(path: str | Path) -> Packing:
    """Read ``packing3d.json`` and check it (see :func:`packing_from_dict`)."""
    from layerlab.io import read_json_input
    return packing_from_dict(read_json_input(path, "packing", "packing3d.json of the geometry stage"))
