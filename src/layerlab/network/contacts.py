"""Contacts of a sphere packing: overlap lenses, collector contacts and carbon-binder bridges.

Two spheres i, j with centre distance d < r_i + r_j touch on a lens of radius
``a^2 = r_i^2 - x_i^2``, ``x_i = (d^2 + r_i^2 - r_j^2) / (2 d)`` (the distance from centre i to the
lens plane).  A sphere of height z below r indents the collector plane z = 0 on a disk of radius
``a^2 = r^2 - z^2`` (x = z).  The gap between the two surfaces at a distance rho > a from the contact
axis is ``g(rho) = d - sqrt(r_i^2 - rho^2) - sqrt(r_j^2 - rho^2)`` (one root term at the collector).

Carbon-binder domain (CBD): its volume is ``cbd_per_active`` times the active volume, from the 96:2:2
mass composition and the densities (:class:`layerlab.design.Materials`).  Placement rules:

* ``neck``: every particle shares its CBD volume equally among its contacts; a contact's bridge fills
  the gap out to the radius b where the gap volume ``V(b) = int_a^b 2 pi rho g(rho) d rho`` equals its
  volume (analytic, solved by bisection);
* ``film``: a uniform coat of thickness t = CBD volume / free sphere surface; two coats meet out to
  the radius b where g(b) = 2 t (t at the collector);
* ``none``: b = a.

The CBD is taken as an ideal conductor next to the NMC (carbon-black composites conduct ~10-100 S/m,
NMC <= ~1 S/m: Amin & Chiang, J. Electrochem. Soc. 163 (2016) A1512): it enlarges a contact to the
radius b, over which the interface resistance and the constriction then act.  Conduction along a
film around a particle (a parallel CBD network) is not modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from layerlab.transport.packing import Packing


@dataclass(frozen=True)
class Contacts:
    """Particle-particle contacts (arrays over contacts) and collector contacts (arrays over them)."""

    i: np.ndarray            # sphere index (lower index)
    j: np.ndarray            # sphere index
    vec_m: np.ndarray        # (n, 3) minimum-image vector centre i -> centre j
    dist_m: np.ndarray       # centre distance
    x_i_m: np.ndarray        # centre i -> lens plane
    x_j_m: np.ndarray        # centre j -> lens plane
    a_m: np.ndarray          # lens radius
    cc: np.ndarray           # spheres indenting the collector plane z = 0
    cc_a_m: np.ndarray       # their contact radius
    cc_x_m: np.ndarray       # their centre height (centre -> collector plane)


def lens_height(c: Contacts, centres_m: np.ndarray) -> np.ndarray:
    """z of the centre of each lens."""
    return centres_m[c.i, 2] + c.x_i_m / c.dist_m * c.vec_m[:, 2]


def find_contacts(packing: Packing) -> Contacts:
    """All overlapping sphere pairs (minimum image across periodic lateral faces) and collector contacts."""
    x = np.asarray(packing.centres_m, dtype=float)
    r = np.asarray(packing.radii_m, dtype=float)
    box = np.asarray(packing.box_m, dtype=float)
    n = len(r)
    if n >= 2:
        cut = 2.0 * float(r.max())
        per = [bool(packing.periodic[a]) for a in range(3)]
        pts = x - np.where(per, 0.0, x.min(axis=0))
        boxsize = np.where(per, box, np.ptp(x, axis=0) + 2.0 * cut + 1.0)  # no wrap on the open axes
        pts = np.where(per, np.mod(pts, boxsize), pts)
        pts = np.minimum(pts, boxsize * (1.0 - 1e-15))
        tree = cKDTree(pts, boxsize=boxsize)
        pairs = tree.query_pairs(cut, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        order = np.lexsort((j, i))
        i, j = i[order], j[order]
        d = x[j] - x[i]
        for a in range(3):
            if per[a]:
                d[:, a] -= box[a] * np.round(d[:, a] / box[a])
        dist = np.linalg.norm(d, axis=1)
        keep = (dist < r[i] + r[j]) & (dist > np.abs(r[i] - r[j]))
        i, j, d, dist = i[keep], j[keep], d[keep], dist[keep]
    else:
        i = j = np.zeros(0, dtype=int)
        d, dist = np.zeros((0, 3)), np.zeros(0)
    xi = (dist ** 2 + r[i] ** 2 - r[j] ** 2) / (2.0 * dist) if len(i) else np.zeros(0)
    a = np.sqrt(np.maximum(r[i] ** 2 - xi ** 2, 0.0))
    cc = np.flatnonzero(x[:, 2] < r)
    cz = x[cc, 2]
    return Contacts(i=i, j=j, vec_m=d, dist_m=dist, x_i_m=xi, x_j_m=dist - xi, a_m=a, cc=cc,
                    cc_a_m=np.sqrt(np.maximum(r[cc] ** 2 - cz ** 2, 0.0)), cc_x_m=cz)


def cap_volume_m3(r_m: np.ndarray, x_m: np.ndarray) -> np.ndarray:
    """Volume of the cap of a sphere of radius r cut by a plane at distance x from its centre."""
    h = np.clip(r_m - x_m, 0.0, 2.0 * r_m)
    return math.pi * h * h * (3.0 * r_m - h) / 3.0


def cap_area_m2(r_m: np.ndarray, x_m: np.ndarray) -> np.ndarray:
    """Curved area of that cap."""
    return 2.0 * math.pi * r_m * np.clip(r_m - x_m, 0.0, 2.0 * r_m)


def sphere_volumes_m3(packing: Packing, c: Contacts) -> np.ndarray:
    """Volume of each sphere less its caps inside neighbours and below the collector (sums to the union
    volume when no three spheres share a point)."""
    r = np.asarray(packing.radii_m)
    v = 4.0 / 3.0 * math.pi * r ** 3
    np.subtract.at(v, c.i, cap_volume_m3(r[c.i], c.x_i_m))
    np.subtract.at(v, c.j, cap_volume_m3(r[c.j], c.x_j_m))
    np.subtract.at(v, c.cc, cap_volume_m3(r[c.cc], c.cc_x_m))
    return np.maximum(v, 0.0)


def free_areas_m2(packing: Packing, c: Contacts) -> np.ndarray:
    """Surface of each sphere not inside a neighbour or below the collector."""
    r = np.asarray(packing.radii_m)
    s = 4.0 * math.pi * r ** 2
    np.subtract.at(s, c.i, cap_area_m2(r[c.i], c.x_i_m))
    np.subtract.at(s, c.j, cap_area_m2(r[c.j], c.x_j_m))
    np.subtract.at(s, c.cc, cap_area_m2(r[c.cc], c.cc_x_m))
    return np.maximum(s, 0.0)


def _gap_volume(b, a, d, r1, r2):
    """V(b) = int_a^b 2 pi rho g(rho) d rho; r2 = inf (np.inf) for the collector plane."""
    def shell(r):
        fin = np.isfinite(r)
        rr = np.where(fin, r, 1.0)
        out = (2.0 * math.pi / 3.0) * (np.maximum(rr ** 2 - a ** 2, 0) ** 1.5 - np.maximum(rr ** 2 - b ** 2, 0) ** 1.5)
        return np.where(fin, out, 0.0)
    return math.pi * d * (b ** 2 - a ** 2) - shell(r1) - shell(r2)


def _gap(b, d, r1, r2):
    fin = np.isfinite(r2)
    s2 = np.where(fin, np.sqrt(np.maximum(np.where(fin, r2, 1.0) ** 2 - b ** 2, 0.0)), 0.0)
    return d - np.sqrt(np.maximum(r1 ** 2 - b ** 2, 0.0)) - s2


def _bisect(f, lo, hi, iterations: int = 60):
    """Largest-root-free bisection of a monotone increasing f on [lo, hi] for f = 0 (vectorized)."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        neg = f(mid) < 0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    return 0.5 * (lo + hi)


def bridge_radius_by_volume(a, d, r1, r2, volume, cap):
    """Neck rule: radius b in [a, cap] whose gap volume equals ``volume`` (cap when it does not fit)."""
    hi = np.maximum(cap, a)
    full = _gap_volume(hi, a, d, r1, r2) <= volume
    b = _bisect(lambda bb: _gap_volume(bb, a, d, r1, r2) - volume, a.astype(float), hi.astype(float))
    return np.where(full, hi, b)


def bridge_radius_by_gap(a, d, r1, r2, gap, cap):
    """Film rule: radius b in [a, cap] where the surfaces' gap equals ``gap``."""
    hi = np.maximum(cap, a)
    full = _gap(hi, d, r1, r2) <= gap
    b = _bisect(lambda bb: _gap(bb, d, r1, r2) - gap, a.astype(float), hi.astype(float))
    return np.where(full, hi, b)


def contact_radii(packing: Packing, c: Contacts, rule: str, cbd_volumes_m3: np.ndarray,
                  bridge_cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Conducting radii (b) of the particle contacts and of the collector contacts under a CBD rule.

    ``cbd_volumes_m3`` is the CBD volume each sphere brings.
    """
    r = np.asarray(packing.radii_m, dtype=float)
    if rule == "none":
        return c.a_m.copy(), c.cc_a_m.copy()
    cap = bridge_cap * np.minimum(r[c.i], r[c.j])
    cc_cap = bridge_cap * r[c.cc]
    inf = np.full(len(c.cc), np.inf)
    if rule == "neck":
        n_contacts = np.bincount(np.concatenate([c.i, c.j, c.cc]), minlength=len(r))
        share = cbd_volumes_m3 / np.maximum(n_contacts, 1)
        b = bridge_radius_by_volume(c.a_m, c.dist_m, r[c.i], r[c.j], share[c.i] + share[c.j], cap)
        bcc = bridge_radius_by_volume(c.cc_a_m, c.cc_x_m, r[c.cc], inf, share[c.cc], cc_cap)
        return b, bcc
    if rule == "film":
        t = cbd_volumes_m3 / np.maximum(free_areas_m2(packing, c), 1e-300)
        b = bridge_radius_by_gap(c.a_m, c.dist_m, r[c.i], r[c.j], t[c.i] + t[c.j], cap)
        bcc = bridge_radius_by_gap(c.cc_a_m, c.cc_x_m, r[c.cc], inf, t[c.cc], cc_cap)
        return b, bcc
    raise ValueError(rule)
