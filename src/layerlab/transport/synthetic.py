"""Random overlapping-sphere packings (Boolean model) for verification and benchmarks.

Sphere centres are a Poisson process in the box (periodic in x and y), so the expected pore fraction is
``exp(-sum_p n_p 4/3 pi r_p^3)`` with ``n_p`` the number density of population p.  Used where the geometry
stage's packer is not at hand (tests, ``bench/bench_transport.py``); the campaign reads ``packing3d.json``.
"""

from __future__ import annotations

import math

import numpy as np

from layerlab.errors import require, require_in_range
from layerlab.transport.packing import Packing, SlabLayer


def overlapping_spheres(box_m: tuple[float, float, float], porosity: float, radii_m: dict[str, float],
                        solid_share: dict[str, float], seed: int = 0,
                        layers: tuple[SlabLayer, ...] | None = None) -> Packing:
    """A Boolean-model packing whose expected pore fraction is ``porosity``.

    Parameters
    ----------
    box_m : [Lx, Ly, H]; periodic in x and y, spheres cut at z = 0 and z = H
    porosity : target expected pore fraction in (0, 1)
    radii_m : radius of each population, e.g. {"L": 5.65e-6, "S": 2.25e-6}
    solid_share : share of the (overlap-free) sphere volume per population, summing to 1
    seed : random seed
    layers : layers to record (default: one layer "mix" over the whole height)
    """
    require_in_range(porosity, "porosity", 0.0, 1.0, low_open=True, high_open=True)
    require(set(solid_share) <= set(radii_m), "solid_share", "population without radius", str(sorted(radii_m)))
    require(abs(sum(solid_share.values()) - 1.0) < 1e-9, "solid_share", "shares do not sum to 1", "sum = 1")
    rng = np.random.default_rng(seed)
    box = np.asarray(box_m, dtype=float)
    lx, ly, h = box
    total_sphere_volume_fraction = -math.log(porosity)   # sum_p n_p v_p
    centres, radii, pop = [], [], []
    for name, share in solid_share.items():
        r = radii_m[name]
        # spheres with centres within r of the box in z intersect it: draw them in the padded slab
        padded = np.array([lx, ly, h + 2 * r])
        n_mean = share * total_sphere_volume_fraction * padded.prod() / (4.0 / 3.0 * math.pi * r**3)
        n = int(rng.poisson(n_mean))
        c = rng.random((n, 3)) * padded
        c[:, 2] -= r
        centres.append(c)
        radii.append(np.full(n, r))
        pop += [name] * n
    lay = layers if layers is not None else (SlabLayer("mix", 0.0, float(h)),)
    return Packing(tuple(float(b) for b in box), (True, True, False), np.concatenate(centres),  # type: ignore[arg-type]
                   np.concatenate(radii), tuple(pop), lay)


def packing_to_dict(packing: Packing) -> dict:
    """The ``packing3d.json`` mapping of a packing (the keys :func:`read_packing` expects)."""
    return {
        "box_m": list(packing.box_m), "periodic": list(packing.periodic),
        "sphere_x_m": packing.centres_m[:, 0].tolist(), "sphere_y_m": packing.centres_m[:, 1].tolist(),
        "sphere_z_m": packing.centres_m[:, 2].tolist(), "sphere_radius_m": packing.radii_m.tolist(),
        "sphere_population": list(packing.population),
        "layers": [{"name": lay.name, "z_bottom_m": lay.z_bottom_m, "z_top_m": lay.z_top_m}
                   for lay in packing.layers],
    }
