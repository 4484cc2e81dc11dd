"""Per-layer and whole-electrode effective electronic conductivity of one packing, with its parts."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from layerlab.network.graph import DIRECTIONS, PARTS, build_network, lateral, through_plane
from layerlab.network.laws import NetworkParameters
from layerlab.transport.packing import Packing

log = logging.getLogger("layerlab.network")

ELECTRODE = "electrode"


@dataclass
class NetworkStudy:
    """Results per region (the layers, then :data:`ELECTRODE`).

    ``conductivity_S_m[region][direction]``; ``resistance_ohm_m2[region][part]`` (area-specific,
    through-plane); contact statistics per layer.
    """

    regions: list[str]
    thickness_m: dict[str, float]
    conductivity_S_m: dict[str, dict[str, float]]
    resistance_ohm_m2: dict[str, dict[str, float]]
    n_contacts: dict[str, int]
    mean_lens_area_m2: dict[str, float]
    mean_contact_area_m2: dict[str, float]
    n_spheres: dict[str, int]
    attrs: dict[str, float | int | str] = field(default_factory=dict)


def cbd_volume_per_active(materials) -> float:
    """CBD volume per active-material volume from the mass composition and densities."""
    share = materials.active_share_of_solid_volume
    return (1.0 - share) / share


def network_study(packing: Packing, params: NetworkParameters, cbd_per_active: float,
                  active_share_of_spheres: float = 1.0, sphere_layer: np.ndarray | None = None,
                  directions: tuple[str, ...] = DIRECTIONS) -> NetworkStudy:
    """Build the graph and solve every requested direction; per layer and for the whole electrode."""
    t0 = time.perf_counter()
    net = build_network(packing, params, cbd_per_active, active_share_of_spheres, sphere_layer)
    t1 = time.perf_counter()
    names = [lay.name for lay in packing.layers]
    nl = len(names)
    area = float(packing.box_m[0] * packing.box_m[1])
    H = float(packing.box_m[2])
    thick = {lay.name: lay.z_top_m - lay.z_bottom_m for lay in packing.layers}
    thick[ELECTRODE] = H
    regions = names + [ELECTRODE]
    cond = {reg: {d: math.nan for d in DIRECTIONS} for reg in regions}
    res = {reg: {p: math.nan for p in PARTS} for reg in regions}
    connected = 0
    if "z" in directions:
        tp = through_plane(net, nl)
        connected = tp.connected_spheres
        for k, name in enumerate(names):
            for m, part in enumerate(PARTS):
                res[name][part] = float(tp.resistance_ohm[k, m] * area)
        for m, part in enumerate(PARTS):
            res[ELECTRODE][part] = float(tp.resistance_ohm[:, m].sum() * area)
        for reg in regions:
            r_layer = sum(v for p, v in res[reg].items() if p != "top")
            cond[reg]["z"] = thick[reg] / r_layer if r_layer > 0 and tp.current_A > 0 else 0.0
        log.info("through-plane: current %.4e A per V, sigma %s S/m", tp.current_A,
                 {r: f"{cond[r]['z']:.4e}" for r in regions})
    for axis, d in enumerate(DIRECTIONS[:2]):
        if d not in directions or not packing.periodic[axis]:
            continue
        cond[ELECTRODE][d] = lateral(net, axis, area * H)
        for k, lay in enumerate(packing.layers):
            cond[lay.name][d] = lateral(net, axis, area * thick[lay.name], np.flatnonzero(net.sphere_layer == k))
    n_contacts, lens, contact, n_sph = {}, {}, {}, {}
    for k, name in enumerate(names + [ELECTRODE]):
        sel = net.contact_layer == k if name != ELECTRODE else np.ones(len(net.contact_layer), bool)
        n_contacts[name] = int(sel.sum())
        lens[name] = float(np.mean(math.pi * net.contact_a_m[sel] ** 2)) if sel.any() else math.nan
        contact[name] = float(np.mean(math.pi * net.contact_b_m[sel] ** 2)) if sel.any() else math.nan
        n_sph[name] = int((net.sphere_layer == k).sum()) if name != ELECTRODE else net.n_spheres
    t2 = time.perf_counter()
    attrs = {"n_collector_contacts": net.n_collector_contacts, "cbd_volume_m3": net.cbd_volume_m3,
             "cbd_volume_per_active": cbd_per_active, "connected_spheres": connected,
             "build_s": t1 - t0, "solve_s": t2 - t1}
    return NetworkStudy(regions, thick, cond, res, n_contacts, lens, contact, n_sph, attrs)
