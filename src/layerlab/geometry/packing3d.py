"""3D packings of overlapping spheres of the two particle sizes, layered or mixed through the thickness.

Random sequential addition of hard spheres jams at solid fractions of ~0.3-0.4, far below the
electrodes' 0.45-0.75 (calendering flattens contacts).  The packer therefore builds a packing of
*overlapping* spheres by seeded collective rearrangement:

1. every layer of the design gets a nominal sphere volume ``V_k``, split between the L and S
   populations by the layer's active-volume split; counts are ``round(V / v)`` and a radius scale
   per (layer, population), close to 1, absorbs the rounding so the nominal volumes are exact;
2. centres are placed uniformly at random in their layer's slab, then pushed apart (Jacobi
   sweeps over neighbour pairs from periodic ``cKDTree`` s, one per size class) until no pair
   overlaps by more than ``max_overlap * min(r_i, r_j)`` and no sphere sinks into the current
   collector or separator plane (or the lateral walls when walled) by more than
   ``max_overlap * r``; meanwhile every sphere is made to rest on a lower one (indentation at
   least ``min_overlap``) so that the solid forms a connected network;
3. the solid fraction of the *union* of the spheres is measured per layer by randomized
   quasi-Monte Carlo (scrambled Sobol replicates; the standard error is stored) with periodic
   images included, and ``V_k`` is updated with ``V <- V ln(1 - phi_t) / ln(1 - phi)`` (exact for
   a Boolean model) until every layer is within ``tolerance`` of its target.

Sphere centres stay inside their own layer's slab, except that a coat's spheres may sink into the
valleys of the coat below by that coat's largest radius (the second coat fills the first's rough
surface); spheres near a layer boundary therefore reach into the neighbouring layer.
Connectivity: spheres that overlap or touch form clusters; a cluster that touches ``z = 0`` is
connected to the current collector, the others are isolated (no electronic path).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import qmc

from layerlab.design import ElectrodeDesign
from layerlab.errors import InputError, options_from_mapping, require, require_in_range
from layerlab.units import M_TO_UM, UM_TO_M

log = logging.getLogger("layerlab.geometry")

FIELD = "geometry.packing3d"
PARTICLE_PHASES = ("solid", "active")


@dataclass(frozen=True)
class Packing3DOptions:
    """Options of the 3D packer (``config["geometry"]["packing3d"]``).

    Parameters
    ----------
    lateral_um : lateral box size (x and y), um
    periodic : periodic lateral faces (else walls)
    separator_um : thickness of an electrolyte slab above the electrode (meshed as separator), um
    size_spread : relative standard deviation of the radii (normal, truncated at +-2 sigma)
    particle_phase : ``"solid"`` (spheres carry all solids: target = 1 - porosity) or
        ``"active"`` (spheres are the active material only: target = active volume fraction)
    max_overlap : largest allowed indentation of two spheres, as a fraction of the smaller radius
        (and of a sphere into the current collector / separator plane)
    min_overlap : every sphere rests on a lower one with at least this indentation (or touches
        the current collector), so all are electronically connected; 0 switches this off
    tolerance : absolute tolerance on each layer's union solid fraction
    contact_gap_um : spheres closer than this gap count as touching (connectivity)
    relax_iterations : maximum Jacobi sweeps of one rearrangement
    fit_iterations : maximum volume updates
    samples_per_replicate : quasi-Monte Carlo points per replicate and layer (a power of 2)
    replicates : independent scrambles used for the solid fraction and its standard error
    """

    lateral_um: float = 50.0
    periodic: bool = True
    separator_um: float = 0.0
    size_spread: float = 0.0
    particle_phase: str = "solid"
    max_overlap: float = 0.35
    min_overlap: float = 0.05
    tolerance: float = 0.003
    contact_gap_um: float = 0.0
    relax_iterations: int = 3000
    fit_iterations: int = 20
    samples_per_replicate: int = 2 ** 14
    replicates: int = 8

    def __post_init__(self) -> None:
        f = FIELD
        require(isinstance(self.periodic, bool), f"{f}.periodic", f"got {self.periodic!r}", "true or false")
        for name in ("lateral_um", "separator_um", "size_spread", "max_overlap", "min_overlap", "tolerance",
                     "contact_gap_um"):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
                    f"{f}.{name}", f"got {v!r}", "a finite number")
        require(self.lateral_um > 0, f"{f}.lateral_um", f"got {self.lateral_um!r}", "> 0")
        require(self.separator_um >= 0, f"{f}.separator_um", f"got {self.separator_um!r}", ">= 0")
        require_in_range(self.size_spread, f"{f}.size_spread", 0.0, 0.3)
        require(self.particle_phase in PARTICLE_PHASES, f"{f}.particle_phase",
                f"got {self.particle_phase!r}", " or ".join(PARTICLE_PHASES))
        require_in_range(self.max_overlap, f"{f}.max_overlap", 0.0, 0.8)
        require_in_range(self.min_overlap, f"{f}.min_overlap", 0.0, self.max_overlap)
        require_in_range(self.tolerance, f"{f}.tolerance", 0.0, 0.01, low_open=True)
        require(self.contact_gap_um >= 0, f"{f}.contact_gap_um", f"got {self.contact_gap_um!r}", ">= 0")
        for name, lo in (("relax_iterations", 1), ("fit_iterations", 1), ("replicates", 2)):
            v = getattr(self, name)
            require(isinstance(v, int) and not isinstance(v, bool) and v >= lo, f"{f}.{name}",
                    f"got {v!r}", f"an integer >= {lo}")
        n = self.samples_per_replicate
        require(isinstance(n, int) and not isinstance(n, bool) and n >= 256 and n & (n - 1) == 0,
                f"{f}.samples_per_replicate", f"got {n!r}", "a power of 2, >= 256")

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "Packing3DOptions":
        """Options from the full config (``config["geometry"]["packing3d"]``) or ``{}``."""
        return options_from_mapping(cls, ((config or {}).get("geometry") or {}).get("packing3d"), FIELD)


# ---------------------------------------------------------------------------------------------
# Union membership (periodic-aware): a 4D lift turns "inside any sphere" into one nearest query.
# |x - c|^2 - r^2 = |(x, 0) - (c, sqrt(R^2 - r^2))|^2 - R^2 with R the largest radius.
# ---------------------------------------------------------------------------------------------
class _Union:
    def __init__(self, centres_m: np.ndarray, radii_m: np.ndarray, box_m: np.ndarray,
                 periodic: bool) -> None:
        self.box = np.asarray(box_m, dtype=float)
        self.periodic = periodic
        self.R = float(radii_m.max()) if len(radii_m) else 0.0
        self.empty = len(radii_m) == 0
        if self.empty:
            return
        w = np.sqrt(np.maximum(self.R ** 2 - radii_m ** 2, 0.0))
        self.z_offset = 2.0 * self.R
        data = np.column_stack([centres_m[:, 0], centres_m[:, 1], centres_m[:, 2] + self.z_offset, w])
        if periodic:
            data[:, :2] = _wrap(data[:, :2], self.box[:2])
            big = 4.0 * (self.box[2] + 4.0 * self.R) + 1.0
            self.tree = cKDTree(data, boxsize=[self.box[0], self.box[1], big, big])
        else:
            self.tree = cKDTree(data)

    def inside(self, points_m: np.ndarray) -> np.ndarray:
        pts = np.asarray(points_m, dtype=float).reshape(-1, 3)
        if self.empty:
            return np.zeros(len(pts), dtype=bool)
        q = np.zeros((len(pts), 4))
        q[:, :3] = pts
        # points far below / above cannot be inside; clipping keeps them inside the tree's range
        q[:, 2] = np.clip(q[:, 2], -1.01 * self.R, self.box[2] + 1.01 * self.R) + self.z_offset
        if self.periodic:
            q[:, :2] = _wrap(q[:, :2], self.box[:2])
        d, _ = self.tree.query(q, k=1)
        return d * d < self.R ** 2


def _wrap(xy: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    out = np.mod(xy, lengths)
    return np.where(out >= lengths, 0.0, out)


def solid_indicator(packing: Mapping[str, Any], points_m: np.ndarray) -> np.ndarray:
    """True where a point lies inside the union of the packing's spheres (periodic images included).

    Parameters
    ----------
    packing : the mapping written to ``packing3d.json`` (or :meth:`Packing3D.to_dict`)
    points_m : (n, 3) coordinates, m

    Returns
    -------
    (n,) bool array
    """
    centres = np.column_stack([packing["sphere_x_m"], packing["sphere_y_m"], packing["sphere_z_m"]])
    union = _Union(centres.astype(float), np.asarray(packing["sphere_radius_m"], dtype=float),
                   np.asarray(packing["box_m"], dtype=float), bool(packing["periodic"]))
    return union.inside(points_m)


def load_packing3d(path: str | Path) -> dict[str, Any]:
    """Read a ``packing3d.json``; InputError when it is missing or lacks keys."""
    from layerlab.io import read_json_input
    p = Path(path)
    data = read_json_input(p, "packing", "a packing3d.json of the geometry stage")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    require(not missing, "packing", f"{p.name} lacks keys {missing}", ", ".join(REQUIRED_KEYS))
    return data


REQUIRED_KEYS = ("case", "seed", "design", "box_m", "periodic", "separator_thickness_m", "sphere_x_m",
                 "sphere_y_m", "sphere_z_m", "sphere_radius_m", "sphere_population",
                 "sphere_connected_to_cc", "layers")


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------
def union_fraction_in_slab(union: _Union, box_m: np.ndarray, z0_m: float, z1_m: float,
                           samples: int, replicates: int, seed: int) -> tuple[float, float]:
    """Solid fraction of the union in the slab ``z0 < z < z1`` and its standard error.

    Randomized quasi-Monte Carlo: ``replicates`` independently scrambled Sobol sets of
    ``samples`` points; the mean of the replicate means and its standard error.
    """
    means = np.empty(replicates)
    lo = np.array([0.0, 0.0, z0_m])
    span = np.array([box_m[0], box_m[1], z1_m - z0_m])
    for i in range(replicates):
        u = qmc.Sobol(3, scramble=True, seed=np.random.default_rng([seed, i])).random(samples)
        means[i] = union.inside(lo + u * span).mean()
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(replicates))


def fcc_union_fraction(max_overlap: float) -> float:
    """Solid fraction of an FCC lattice of equal spheres whose neighbours indent by ``max_overlap * r``.

    Used as the up-front bound on what the packer can reach (random packings reach less).
    """
    h = 0.5 * max_overlap          # cap height per sphere and neighbour, in units of r
    cap = math.pi * h * h * (3.0 - h) / 3.0
    lens_per_sphere = min(12.0 * cap, 4.0 / 3.0 * math.pi)  # caps overlap beyond ~0.6; bound only
    d = 2.0 - max_overlap           # neighbour distance
    a = d * math.sqrt(2.0)          # cube edge of the FCC cell (4 spheres)
    return min(1.0, 4.0 * (4.0 / 3.0 * math.pi - lens_per_sphere) / a ** 3)


# ---------------------------------------------------------------------------------------------
# Collective rearrangement
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Group:
    layer: int
    population: str        # "L" or "S"
    radius_m: float        # nominal radius
    share: float           # share of the layer's nominal sphere volume


def _min_image(d: np.ndarray, box: np.ndarray, periodic: bool) -> np.ndarray:
    if periodic:
        d[:, :2] -= box[:2] * np.round(d[:, :2] / box[:2])
    return d


def _size_classes(radii: np.ndarray) -> list[np.ndarray]:
    """Indices of spheres grouped into size classes (split where consecutive radii jump by > 30 %)."""
    order = np.argsort(radii, kind="stable")
    r = radii[order]
    cuts = np.flatnonzero(r[1:] > 1.3 * r[:-1]) + 1
    return [np.sort(c) for c in np.split(order, cuts)]


def _pairs(x: np.ndarray, radii: np.ndarray, box: np.ndarray, periodic: bool,
           gap: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sphere pairs closer than ``r_i + r_j + gap``: indices, minimum-image vectors i->j, distances.

    One ``cKDTree`` per size class, so small spheres are not searched with the large ones' cutoff.
    """
    if periodic:
        cut_max = 2.0 * float(radii.max()) + gap
        big = 4.0 * box[2] + 8.0 * cut_max + 1.0
        pts = np.column_stack([_wrap(x[:, :2], box[:2]), x[:, 2] + 2.0 * cut_max])
        trees_kw = {"boxsize": [box[0], box[1], big]}
    else:
        pts, trees_kw = x, {}
    classes = _size_classes(radii)
    trees = [cKDTree(pts[c], **trees_kw) for c in classes]
    rmax = [float(radii[c].max()) for c in classes]
    ii, jj = [], []
    for a, (ca, ta) in enumerate(zip(classes, trees)):
        p = ta.query_pairs(2.0 * rmax[a] + gap, output_type="ndarray")
        ii.append(ca[p[:, 0]]), jj.append(ca[p[:, 1]])
        for b in range(a + 1, len(classes)):
            m = ta.sparse_distance_matrix(trees[b], rmax[a] + rmax[b] + gap, output_type="ndarray")
            ii.append(ca[m["i"]]), jj.append(classes[b][m["j"]])
    i, j = np.concatenate(ii), np.concatenate(jj)
    srt = np.lexsort((j, i))               # a deterministic order
    i, j = i[srt], j[srt]
    d = _min_image(x[j] - x[i], box, periodic)
    dist = np.linalg.norm(d, axis=1)
    keep = dist < radii[i] + radii[j] + gap
    return i[keep], j[keep], d[keep], dist[keep]


def overlap_ratio(x: np.ndarray, radii: np.ndarray, box: np.ndarray, periodic: bool) -> float:
    """Largest pair indentation ``(r_i + r_j - d) / min(r_i, r_j)`` (0 when no sphere overlaps)."""
    if len(radii) < 2:
        return 0.0
    i, j, _, dist = _pairs(x, radii, box, periodic)
    if len(i) == 0:
        return 0.0
    return float(((radii[i] + radii[j] - dist) / np.minimum(radii[i], radii[j])).max())


def _relax(x: np.ndarray, radii: np.ndarray, zlo: np.ndarray, zhi: np.ndarray, box: np.ndarray,
           periodic: bool, max_overlap: float, min_overlap: float, iterations: int) -> int:
    """Collective rearrangement (in place); returns the number of sweeps used.

    Each Jacobi sweep (a) separates every pair that indents by more than ``max_overlap`` (of
    the smaller radius) along its axis, the excess shared in inverse proportion to the sphere
    volumes, and (b) when ``min_overlap > 0``, moves every sphere that neither touches the current
    collector nor indents a *lower* sphere by ``min_overlap`` onto its nearest lower neighbour
    (a resting contact, as in a settled coating); a sphere already at the bottom of its z range
    may rest on any neighbour.  Without that exception (b) would link every sphere to ``z = 0``
    through a chain of descending contacts; with it, a few spheres can stay isolated (they are
    found and reported afterwards).  Centres are then clipped to their z range (and to the
    lateral walls when not periodic).  The sweeps stop
    when nothing moves, or when the total excess falls by less than 5 % in 100 sweeps (jammed).
    """
    if len(radii) < 2:
        return 0
    ease = 1.0 / radii ** 3            # the larger sphere moves less
    r_max = float(radii.max())
    r_min = float(radii.min())
    lateral_lo = radii * (1.0 - max_overlap)
    target = 0.5 * (min_overlap + max_overlap)
    rng = np.random.default_rng(12345)  # only to split coincident centres (deterministic)
    checkpoint = np.inf
    for sweep in range(1, iterations + 1):
        i, j, d, dist = _pairs(x, radii, box, periodic, gap=r_min if min_overlap > 0 else 0.0)
        rmin = np.minimum(radii[i], radii[j])
        indent = (radii[i] + radii[j] - dist) / rmin
        bad = indent > max_overlap + 1e-4
        disp = np.zeros_like(x)
        if bad.any():
            bi, bj, bd, bdist = i[bad], j[bad], d[bad], dist[bad]
            excess = (indent[bad] - max_overlap) * rmin[bad]
            zero = bdist < 1e-9 * r_max
            if zero.any():
                bd[zero] = rng.normal(size=(int(zero.sum()), 3))
                bdist[zero] = np.linalg.norm(bd[zero], axis=1)
            push = (1.02 * excess / bdist)[:, None] * bd  # slight over-relaxation
            wi = (ease[bi] / (ease[bi] + ease[bj]))[:, None]
            np.add.at(disp, bi, -wi * push)
            np.add.at(disp, bj, (1.0 - wi) * push)
        n_loose = 0
        if min_overlap > 0:
            # upper, lower sphere of each pair (d points from i to j)
            up = np.where(d[:, 2] < 0, i, j)
            low = np.where(d[:, 2] < 0, j, i)
            rests = indent >= min_overlap - 1e-3
            supported = x[:, 2] - radii <= 0.0
            supported[up[rests]] = True
            # a sphere held at its lowest allowed height may rest on any neighbour
            floor = x[:, 2] <= zlo + 1e-9 * r_max
            supported[i[rests & floor[i]]] = True
            supported[j[rests & floor[j]]] = True
            loose = ~supported
            n_loose = int(loose.sum())
            if n_loose:
                # the partner of a loose sphere: its nearest lower neighbour (any neighbour at its floor)
                pu = np.concatenate([up, np.where(floor[low], low, -1)])
                pl = np.concatenate([low, up])
                indent2 = np.concatenate([indent, indent])
                cand = (pu >= 0) & loose[np.maximum(pu, 0)]
                gap = np.where(cand, -indent2 * np.concatenate([rmin, rmin]), np.inf)
                best = np.full(len(radii), np.inf)
                np.minimum.at(best, pu[cand], gap[cand])
                pick = cand & (gap == best[np.maximum(pu, 0)])
                pu, pl = pu[pick], pl[pick]
                _, first = np.unique(pu, return_index=True)        # one partner per loose sphere
                pu, pl = pu[first], pl[first]
                v = _min_image(x[pl] - x[pu], box, periodic)
                vd = np.linalg.norm(v, axis=1)
                move = vd - (radii[pu] + radii[pl] - target * np.minimum(radii[pu], radii[pl]))
                disp[pu] += (move / vd)[:, None] * v
                alone = loose.copy()
                alone[pu] = False                                  # nothing below within reach
                disp[alone, 2] -= r_min
        if not bad.any() and n_loose == 0:
            return sweep
        if sweep % 100 == 0:   # jammed: the total excess no longer falls
            total = float(((indent[bad] - max_overlap) * rmin[bad]).sum()) + n_loose * r_max
            if total > 0.95 * checkpoint:
                return sweep
            checkpoint = total
        x += disp
        x[:, 2] = np.clip(x[:, 2], zlo, zhi)
        if periodic:
            x[:, :2] = _wrap(x[:, :2], box[:2])
        else:
            x[:, 0] = np.clip(x[:, 0], lateral_lo, box[0] - lateral_lo)
            x[:, 1] = np.clip(x[:, 1], lateral_lo, box[1] - lateral_lo)
    return iterations


# ---------------------------------------------------------------------------------------------
# The packer
# ---------------------------------------------------------------------------------------------
def target_solid_fractions(design: ElectrodeDesign, options: Packing3DOptions) -> list[float]:
    """Per-layer target volume fraction of the spheres' union."""
    if options.particle_phase == "active":
        return [layer.active_fraction for layer in design.layers]
    return [layer.solid_fraction for layer in design.layers]


def _groups(design: ElectrodeDesign) -> list[_Group]:
    out = []
    for k, layer in enumerate(design.layers):
        for pop, share in (("L", layer.L_share_of_active), ("S", 1.0 - layer.L_share_of_active)):
            if share > 0.0:
                out.append(_Group(k, pop, design.materials.radius_m(pop), share))
    return out


def check_packable(design: ElectrodeDesign, options: Packing3DOptions) -> None:
    """Up-front checks (before any work): box size and reachable solid fractions."""
    spread_max = 1.0 + 2.0 * options.size_spread
    d_max = max(2.0 * g.radius_m for g in _groups(design)) * spread_max
    require(options.lateral_um * UM_TO_M >= d_max, f"{FIELD}.lateral_um",
            f"got {options.lateral_um:g} um, smaller than the largest particle ({d_max / UM_TO_M:.3g} um)",
            f">= {d_max / UM_TO_M:.3g}")
    bound = RANDOM_OVER_FCC * fcc_union_fraction(options.max_overlap)
    for k, phi in enumerate(target_solid_fractions(design, options)):
        require(phi <= bound, "design.porosity",
                f"layer {k} ({design.layers[k].name}) needs solid fraction {phi:.3f}, more than random "
                f"overlapping spheres reach with max_overlap {options.max_overlap:g} ({bound:.3f})",
                f"porosity >= {1 - bound:.3f}, or a larger {FIELD}.max_overlap")


RANDOM_OVER_FCC = 0.64 / 0.7405
"""Random close packing over FCC density of hard spheres: scales the FCC bound to random packings."""


@dataclass(frozen=True)
class Packing3D:
    """A finished packing: spheres (SI), layers and connectivity."""

    case: str
    seed: int
    design: ElectrodeDesign
    options: Packing3DOptions
    box_m: tuple[float, float, float]
    xyz_m: np.ndarray
    radius_m: np.ndarray
    population: tuple[str, ...]
    layer_index: np.ndarray
    connected_to_cc: np.ndarray
    layers: tuple[dict[str, Any], ...]
    max_overlap_ratio: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of ``packing3d.json``."""
        n_iso = int((~self.connected_to_cc).sum())
        return {
            "case": self.case, "seed": self.seed, "design": self.design.summary(),
            "options": dataclasses.asdict(self.options),
            "box_m": list(self.box_m), "periodic": self.options.periodic,
            "separator_thickness_m": self.options.separator_um / M_TO_UM,
            "particle_phase": self.options.particle_phase,
            "sphere_x_m": self.xyz_m[:, 0], "sphere_y_m": self.xyz_m[:, 1], "sphere_z_m": self.xyz_m[:, 2],
            "sphere_radius_m": self.radius_m, "sphere_population": list(self.population),
            "sphere_layer": self.layer_index, "sphere_connected_to_cc": self.connected_to_cc.tolist(),
            "n_spheres": int(len(self.radius_m)), "n_isolated_spheres": n_iso,
            "isolated_volume_fraction_of_spheres": float(
                (self.radius_m[~self.connected_to_cc] ** 3).sum() / max((self.radius_m ** 3).sum(), 1e-300)),
            "max_overlap_ratio": self.max_overlap_ratio, "layers": list(self.layers),
        }


def pack3d(design: ElectrodeDesign, options: Packing3DOptions | None = None, seed: int = 0,
           case: str = "") -> Packing3D:
    """Pack overlapping spheres that reproduce ``design``'s per-layer solid fractions.

    Raises
    ------
    InputError
        before any work when the box or a target is out of reach, and after the fit when a
        target was not reached within ``options.tolerance``.
    """
    opt = options or Packing3DOptions()
    require(isinstance(seed, int) and seed >= 0, "seed", f"got {seed!r}", "a non-negative integer")
    check_packable(design, opt)
    layers = design.layers
    H = design.thickness_m
    L = opt.lateral_um / M_TO_UM       # exact for whole micrometres
    box = np.array([L, L, H])
    groups = _groups(design)
    targets = target_solid_fractions(design, opt)
    rng = np.random.default_rng([seed, 3])
    layer_vol = [L * L * lay.thickness_m for lay in layers]
    # initial nominal sphere volume: Boolean model, damped for the limited overlap (fitted by hand
    # to the converged packings at solid fractions 0.45-0.75); refined below
    V = [-(0.8 - 0.65 * (t - 0.45)) * math.log(1.0 - t) * v for t, v in zip(targets, layer_vol)]
    per_group: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros((0, 3)), np.zeros(0)) for _ in groups]
    history: list[list[float]] = []
    V_history: list[list[float]] = []
    sink = [0.0] + [max(g.radius_m for g in groups if g.layer == k - 1) for k in range(1, len(layers))]
    count_updates = 3
    for it in range(opt.fit_iterations):
        xyz, factor, radii, gid, zlo, zhi, scales = [], [], [], [], [], [], []
        for g_idx, g in enumerate(groups):
            pos, fac = per_group[g_idx]
            v_nominal = 4.0 / 3.0 * math.pi * g.radius_m ** 3
            want = V[g.layer] * g.share
            if it < count_updates or len(fac) == 0:
                n = max(1, int(round(want / v_nominal)))
                if n > len(fac):
                    new = n - len(fac)
                    lay = layers[g.layer]
                    p = rng.random((new, 3)) * [L, L, lay.thickness_m] + [0.0, 0.0, lay.z_bottom_m]
                    f = np.ones(new)
                    if opt.size_spread > 0:
                        f = np.clip(1.0 + opt.size_spread * rng.standard_normal(new),
                                    1.0 - 2.0 * opt.size_spread, 1.0 + 2.0 * opt.size_spread)
                    pos, fac = np.vstack([pos, p]), np.concatenate([fac, f])
                pos, fac = pos[:n], fac[:n]
            scale = (want / (v_nominal * float((fac ** 3).sum()))) ** (1.0 / 3.0)
            r = g.radius_m * fac * scale
            scales.append(scale)
            lay = layers[g.layer]
            # a coat's spheres may sink into the valleys of the coat below (as deep as its radius)
            lo = np.maximum(lay.z_bottom_m - sink[g.layer], r * (1.0 - opt.max_overlap))
            hi = np.minimum(lay.z_top_m, H - r * (1.0 - opt.max_overlap))
            mid = 0.5 * (lo + hi)
            lo, hi = np.minimum(lo, mid), np.maximum(hi, mid)
            xyz.append(pos), factor.append(fac), radii.append(r), gid.append(np.full(len(r), g_idx))
            zlo.append(lo), zhi.append(hi)
        x = np.vstack(xyz)
        rad = np.concatenate(radii)
        g_of = np.concatenate(gid)
        sweeps = _relax(x, rad, np.concatenate(zlo), np.concatenate(zhi), box, opt.periodic,
                        opt.max_overlap, opt.min_overlap, opt.relax_iterations)
        # store relaxed positions back per group
        per_group = [(x[g_of == k].copy(), np.concatenate(factor)[g_of == k]) for k in range(len(groups))]
        union = _Union(x, rad, box, opt.periodic)
        measured = [union_fraction_in_slab(union, box, lay.z_bottom_m, lay.z_top_m, opt.samples_per_replicate,
                                           opt.replicates, seed * 1000 + k)
                    for k, lay in enumerate(layers)]
        phis = [m[0] for m in measured]
        history.append(phis)
        log.info("pack3d fit %d: %d spheres, %d sweeps, solid fractions %s (targets %s)", it, len(rad),
                 sweeps, np.round(phis, 4).tolist(), np.round(targets, 4).tolist())
        if all(abs(p - t) <= opt.tolerance for p, t in zip(phis, targets)):
            break
        V_history.append(list(V))
        for k, (p, t) in enumerate(zip(phis, targets)):
            # Boolean-model step first, then secant steps in (ln V, phi)
            ratio = math.log(1.0 - t) / math.log(1.0 - min(max(p, 1e-6), 1.0 - 1e-9))
            if len(history) >= 2:
                dlnV = math.log(V_history[-1][k] / V_history[-2][k])
                slope = (p - history[-2][k]) / dlnV if abs(dlnV) > 1e-9 else 0.0
                if slope > 0:
                    ratio = math.exp((t - p) / slope)
            V[k] *= min(max(ratio, 0.6), 1.6)
    ratio_max = overlap_ratio(x, rad, box, opt.periodic)
    for k, (p, t) in enumerate(zip(phis, targets)):
        require(abs(p - t) <= opt.tolerance, "design.porosity",
                f"layer {k} ({layers[k].name}): solid fraction {p:.4f} after {len(history)} fits, target {t:.4f}",
                f"a target the packer reaches within {opt.tolerance:g}; raise {FIELD}.max_overlap or "
                f"{FIELD}.fit_iterations")
    require(ratio_max <= opt.max_overlap + 0.01, f"{FIELD}.max_overlap",
            f"spheres still indent by {ratio_max:.3f} of the smaller radius after {opt.relax_iterations} sweeps",
            f"a larger max_overlap or relax_iterations for this porosity")
    order = np.lexsort((x[:, 2], g_of))  # by group, then height: stable and readable
    x, rad, g_of = x[order], rad[order], g_of[order]
    connected = connected_to_current_collector(x, rad, box, opt.periodic, opt.contact_gap_um * UM_TO_M)
    layer_rows = []
    for k, lay in enumerate(layers):
        in_layer = np.array([groups[g].layer == k for g in g_of])
        layer_scales = {groups[g].population: scales[g] for g in range(len(groups)) if groups[g].layer == k}
        layer_rows.append({
            "name": lay.name, "z_bottom_m": lay.z_bottom_m, "z_top_m": lay.z_top_m,
            "target_solid_fraction": targets[k], "achieved_solid_fraction": measured[k][0],
            "achieved_solid_fraction_stderr": measured[k][1],
            "n_spheres_L": int(sum(1 for g in g_of[in_layer] if groups[g].population == "L")),
            "n_spheres_S": int(sum(1 for g in g_of[in_layer] if groups[g].population == "S")),
            "radius_scale": layer_scales, "nominal_sphere_volume_fraction": V[k] / layer_vol[k],
        })
    return Packing3D(case=case, seed=seed, design=design, options=opt, box_m=(float(L), float(L), float(H)),
                     xyz_m=x, radius_m=rad, population=tuple(groups[g].population for g in g_of),
                     layer_index=np.array([groups[g].layer for g in g_of]), connected_to_cc=connected,
                     layers=tuple(layer_rows), max_overlap_ratio=ratio_max)


def connected_to_current_collector(x: np.ndarray, radii: np.ndarray, box: np.ndarray, periodic: bool,
                                   gap_m: float = 0.0) -> np.ndarray:
    """Per sphere: does a chain of overlapping/touching spheres link it to the plane ``z = 0``?"""
    n = len(radii)
    if n == 0:
        return np.zeros(0, dtype=bool)
    i, j, _, _ = _pairs(x, radii, box, periodic, gap=gap_m)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    touching = x[:, 2] - radii <= gap_m
    return np.isin(label, np.unique(label[touching]))


def write_packing3d(packing: Packing3D, path: str | Path) -> None:
    """Write ``packing3d.json`` atomically."""
    from layerlab.io import write_json_atomic
    write_json_atomic(path, packing.to_dict())
