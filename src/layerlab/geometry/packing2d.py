"""2D microstructures: non-overlapping disks of the two particle sizes, packed layer by layer.

The domain is ``[0, width] x [0, domain_height]`` with ``y`` running upward: an outlet region of
height ``outlet_um`` at the bottom (``y = 0`` is the outlet edge), the electrode
(``y`` in ``electrode_y_range_m``; its bottom line is the current-collector side) and an
electrolyte reservoir of height ``reservoir_um`` on top (``y = domain_height`` is the inlet).

Each layer of :attr:`ElectrodeDesign.layers` receives disks at its target area fraction (the
layer's solid fraction, or its active fraction with ``particle_phase: active``), split between
the L and S populations by the layer's active L share.  Disk counts are rounded and every
radius of a layer is then scaled by one factor (reported as ``radius_scale``) so that the disk
area equals the target exactly.  Each disk lies wholly inside its layer's slab (a gap of half
``min_gap`` from an internal layer boundary, a full gap from the electrode's top and bottom
lines and from the side walls); a disk taller than its slab (an L disk in a narrow intermixed
band) keeps only its centre in the slab and the layers' area accounting clips disks exactly.

Packing is a collective rearrangement: disks start at random positions with shrunken radii and
grow in stages; at each stage overlapping pairs (contact distance ``r_i + r_j + gap``) are pushed
apart along their centre line (vectorised Jacobi sweeps over :class:`scipy.spatial.cKDTree`
pairs) and positions are projected back into their allowed boxes.  This reaches area fractions
far beyond random sequential addition (which jams near 0.55).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy.spatial import cKDTree

from layerlab.design import ElectrodeDesign, Layer
from layerlab.errors import InputError, options_from_mapping, require, require_in_range
from layerlab.units import M_TO_UM, UM_TO_M

log = logging.getLogger("layerlab.geometry")

FIELD = "geometry.packing2d"
_MAX_SHAKES = 30
AREA_TOLERANCE = 0.01
"""Largest accepted absolute difference between a layer's achieved and target area fraction."""
PARTICLE_PHASES = ("solid", "active")


@dataclass(frozen=True)
class Packing2DOptions:
    """Options of the 2D packing (``config["geometry"]["packing2d"]``), lengths in um.

    Parameters
    ----------
    width_um : domain width (the paper's 2D sections are 50 um wide)
    outlet_um : height of the open outlet region below the electrode
    reservoir_um : height of the electrolyte reservoir above the electrode
    min_gap_um : smallest allowed gap between disks, and to the side walls and the electrode's
        top and bottom lines (so the pore space percolates)
    size_spread : relative standard deviation of the radii (truncated at +-2 sigma)
    particle_phase : ``"solid"`` (disks carry active + carbon + binder volume) or ``"active"``
    max_iterations : budget of relaxation sweeps for one packing
    max_effective_fraction : largest accepted area fraction of the disks grown by half the gap
        in the slab available to them (2D random close packing of disks is ~0.84)
    max_radius_adjust : largest relative change of the radii used to hit the target exactly
    """

    width_um: float = 50.0
    outlet_um: float = 5.0
    reservoir_um: float = 5.0
    min_gap_um: float = 0.5
    size_spread: float = 0.0
    particle_phase: str = "solid"
    max_iterations: int = 100_000
    max_effective_fraction: float = 0.80
    max_radius_adjust: float = 0.15

    def __post_init__(self) -> None:
        for name in ("width_um", "outlet_um", "reservoir_um", "min_gap_um", "size_spread",
                     "max_effective_fraction", "max_radius_adjust"):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and not isinstance(value, bool)
                    and math.isfinite(value), f"{FIELD}.{name}", f"got {value!r}", "a finite number")
        require_in_range(self.width_um, f"{FIELD}.width_um", 0.0, 1e4, low_open=True)
        require_in_range(self.outlet_um, f"{FIELD}.outlet_um", 0.0, 1e4)
        require_in_range(self.reservoir_um, f"{FIELD}.reservoir_um", 0.0, 1e4)
        require_in_range(self.min_gap_um, f"{FIELD}.min_gap_um", 0.0, 10.0, low_open=True)
        require_in_range(self.size_spread, f"{FIELD}.size_spread", 0.0, 0.3)
        require(self.particle_phase in PARTICLE_PHASES, f"{FIELD}.particle_phase",
                f"got {self.particle_phase!r}", " or ".join(repr(p) for p in PARTICLE_PHASES))
        require(isinstance(self.max_iterations, int) and not isinstance(self.max_iterations, bool)
                and self.max_iterations >= 100, f"{FIELD}.max_iterations",
                f"got {self.max_iterations!r}", "an integer >= 100")
        require_in_range(self.max_effective_fraction, f"{FIELD}.max_effective_fraction", 0.1, 0.9069)
        require_in_range(self.max_radius_adjust, f"{FIELD}.max_radius_adjust", 0.0, 0.5)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> "Packing2DOptions":
        """Options from ``config["geometry"]["packing2d"]``; unknown keys raise InputError."""
        return options_from_mapping(cls, section, FIELD)


class PackingError(InputError):
    """The relaxation did not reach a non-overlapping packing (an InputError: lower the target)."""


@dataclass
class _Plan:
    """Disks to place: home layer, population and nominal radius (um), per-layer slabs."""

    layer_index: np.ndarray       # (N,) int
    population: list[str]         # (N,) "L"/"S"
    radius_um: np.ndarray         # (N,) radii after the exact-area scaling
    slabs_um: np.ndarray          # (K, 2) y range of each layer in domain coordinates
    targets: np.ndarray           # (K,) target area fraction
    scales: np.ndarray            # (K,) radius scale factor applied per layer


def layer_target(layer: Layer, phase: str) -> float:
    """Target disk area fraction of ``layer`` for ``particle_phase`` ``phase``."""
    return layer.solid_fraction if phase == "solid" else layer.active_fraction


def _draw_radii(rng: np.random.Generator, r0_um: float, area_um2: float, spread: float) -> np.ndarray:
    """Radii of one population whose nominal total area is closest to ``area_um2``."""
    if area_um2 <= 0.0:
        return np.zeros(0)
    mean_sq = 1.0 + spread ** 2          # E[(1 + s z)^2] (truncation neglected)
    n = int(round(area_um2 / (math.pi * r0_um ** 2 * mean_sq)))
    z = np.clip(rng.standard_normal(n), -2.0, 2.0) if spread > 0 else np.zeros(n)
    return r0_um * (1.0 + spread * z)


def plan_disks(design: ElectrodeDesign, options: Packing2DOptions, rng: np.random.Generator) -> _Plan:
    """Disk counts and radii of every layer; InputError when a target cannot be packed."""
    g = options.min_gap_um
    W = options.width_um
    y_bottom = options.outlet_um
    layers = design.layers
    H = design.thickness_m * M_TO_UM
    r_L, r_S = (design.materials.radius_m(p) * M_TO_UM for p in ("L", "S"))
    r_big = max(r_L, r_S) * (1.0 + 2.0 * options.size_spread) * (1.0 + options.max_radius_adjust)
    require(2.0 * r_big + 2.0 * g <= W, f"{FIELD}.width_um",
            f"a disk of diameter {2 * r_big:.3g} um plus gaps does not fit in {W:g} um",
            f">= {2 * r_big + 2 * g:.3g} um")
    require(2.0 * r_big + 2.0 * g <= H, "design.loading_mg_cm2",
            f"the electrode ({H:.3g} um thick) is thinner than a disk plus gaps ({2 * r_big + 2 * g:.3g} um)",
            "a loading that gives a thicker electrode")
    idx, pops, radii, slabs, targets, scales = [], [], [], [], [], []
    for k, layer in enumerate(layers):
        y0 = y_bottom + layer.z_bottom_m * M_TO_UM
        y1 = y_bottom + layer.z_top_m * M_TO_UM
        slabs.append((y0, y1))
        target = layer_target(layer, options.particle_phase)
        targets.append(target)
        area = target * W * (y1 - y0)
        parts = {"L": area * layer.L_share_of_active, "S": area * (1.0 - layer.L_share_of_active)}
        r_layer = []
        for pop, r0 in (("L", r_L), ("S", r_S)):
            r = _draw_radii(rng, r0, parts[pop], options.size_spread)
            r_layer.append(r)
            pops.extend([pop] * len(r))
        r_layer = np.concatenate(r_layer)
        nominal = float(np.sum(math.pi * r_layer ** 2))
        if area > 0 and nominal <= 0:
            raise InputError("design.ls_ratio", f"layer {k} ({layer.name!r}) is too small to hold one disk",
                             "a ratio (or band width) that gives a thicker layer")
        scale = math.sqrt(area / nominal) if nominal > 0 else 1.0
        require(abs(scale - 1.0) <= options.max_radius_adjust, f"{FIELD}.max_radius_adjust",
                f"layer {k} ({layer.name!r}) needs its radii scaled by {scale:.3f} to hit its target",
                f"|scale - 1| <= {options.max_radius_adjust:g} (raise it or use a wider domain)")
        scales.append(scale)
        radii.append(r_layer * scale)
        idx.extend([k] * len(r_layer))
        _check_effective_fraction(k, layer, r_layer * scale, (y0, y1), len(layers), options)
    return _Plan(np.asarray(idx, dtype=int), pops, np.concatenate(radii), np.asarray(slabs),
                 np.asarray(targets), np.asarray(scales))


def _check_effective_fraction(k: int, layer: Layer, r_um: np.ndarray, slab: tuple[float, float],
                              n_layers: int, options: Packing2DOptions) -> None:
    """Reject a layer whose disks, grown by half the gap, overfill the room they may use."""
    g = options.min_gap_um
    b0 = g if k == 0 else 0.5 * g
    b1 = g if k == n_layers - 1 else 0.5 * g
    room = (options.width_um - g) * (slab[1] - slab[0] - b0 - b1 + g)
    eff = float(np.sum(math.pi * (r_um + 0.5 * g) ** 2)) / room
    phase = options.particle_phase
    require(eff <= options.max_effective_fraction, "design.porosity",
            f"layer {k} ({layer.name!r}): {phase} area fraction {layer_target(layer, phase):.3f} with "
            f"{g:g} um gaps needs an effective packing fraction {eff:.3f} (disks grown by half the gap)",
            f"<= geometry.packing2d.max_effective_fraction = {options.max_effective_fraction:g}; use a higher "
            "porosity, a smaller geometry.packing2d.min_gap_um or particle_phase: active")


def _bounds(plan: _Plan, r_um: np.ndarray, options: Packing2DOptions, g: float) -> np.ndarray:
    """Allowed box of every disk centre (gap ``g``): columns x_lo, x_hi, y_lo, y_hi (um)."""
    K = len(plan.slabs_um)
    y_el0, y_el1 = plan.slabs_um[0, 0], plan.slabs_um[-1, 1]
    s0 = plan.slabs_um[plan.layer_index, 0]
    s1 = plan.slabs_um[plan.layer_index, 1]
    b0 = np.where(plan.layer_index == 0, g, 0.5 * g)
    b1 = np.where(plan.layer_index == K - 1, g, 0.5 * g)
    ylo, yhi = s0 + b0 + r_um, s1 - b1 - r_um
    fits = ylo <= yhi
    # a disk taller than its slab keeps its centre in the slab and stays inside the electrode
    ylo = np.where(fits, ylo, np.maximum(s0, y_el0 + g + r_um))
    yhi = np.where(fits, yhi, np.minimum(s1, y_el1 - g - r_um))
    return np.column_stack([g + r_um, options.width_um - g - r_um, ylo, yhi])


def _clip(pos: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Project centres into their boxes."""
    return np.column_stack([np.clip(pos[:, 0], box[:, 0], box[:, 1]), np.clip(pos[:, 1], box[:, 2], box[:, 3])])


def _relax(pos: np.ndarray, r_um: np.ndarray, box: np.ndarray, gap: float, tol: float,
           max_sweeps: int, patience: int = 1500) -> tuple[np.ndarray, float, int]:
    """Push overlapping pairs apart until every overlap is below ``tol``.

    Returns (positions, largest remaining overlap, sweeps used); stops early when the largest
    overlap has not dropped by 1 % in ``patience`` sweeps (a jammed configuration).
    """
    cutoff = 2.0 * float(r_um.max()) + gap
    worst = best = math.inf
    last_gain = 0
    for sweep in range(1, max_sweeps + 1):
        pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
        if len(pairs) == 0:
            return pos, 0.0, sweep
        i, j = pairs[:, 0], pairs[:, 1]
        d = pos[j] - pos[i]
        dist = np.hypot(d[:, 0], d[:, 1])
        overlap = r_um[i] + r_um[j] + gap - dist
        hit = overlap > 0.0
        worst = float(overlap[hit].max()) if hit.any() else 0.0
        if worst < tol:
            return pos, worst, sweep
        if worst < 0.99 * best:
            best, last_gain = worst, sweep
        elif sweep - last_gain > patience:   # jammed: let the caller shake the packing
            return pos, worst, sweep
        i, j, d, dist, overlap = i[hit], j[hit], d[hit], dist[hit], overlap[hit]
        safe = np.maximum(dist, 1e-12)
        n = d / safe[:, None]
        # coincident centres: push along a fixed, index-dependent direction (deterministic)
        n[dist < 1e-12] = np.column_stack([np.cos(i[dist < 1e-12]), np.sin(i[dist < 1e-12])])
        # the smaller disk moves more (weights by the other disk's area share)
        wi = r_um[j] ** 2 / (r_um[i] ** 2 + r_um[j] ** 2)
        push = overlap * 0.55
        disp = np.zeros_like(pos)
        np.add.at(disp, i, -(push * wi)[:, None] * n)
        np.add.at(disp, j, (push * (1.0 - wi))[:, None] * n)
        pos = _clip(pos + disp, box)
    return pos, worst, max_sweeps


def disk_area_in_band(y_um: np.ndarray, r_um: np.ndarray, a_um: float, b_um: float) -> np.ndarray:
    """Exact area of each disk (centre ``y``, radius ``r``) lying between the lines ``y = a`` and ``b``."""
    def below(t: float) -> np.ndarray:
        u = np.clip((t - y_um) / r_um, -1.0, 1.0)
        return r_um ** 2 * (u * np.sqrt(1.0 - u ** 2) + np.arcsin(u) + 0.5 * math.pi)
    return below(b_um) - below(a_um)


def layer_area_fractions(y_um: np.ndarray, r_um: np.ndarray, slabs_um: np.ndarray,
                         width_um: float) -> np.ndarray:
    """Disk area fraction of each slab, counting only the disk area inside the slab."""
    return np.array([disk_area_in_band(y_um, r_um, a, b).sum() / (width_um * (b - a)) for a, b in slabs_um])


def _pack(plan: _Plan, options: Packing2DOptions, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Grow-and-relax packing of ``plan``; returns centres (um), radii (um) and sweeps used."""
    g = options.min_gap_um
    gap = g * (1.0 + 2e-3)            # pack with a slightly larger gap ...
    tol = g * 1e-3                    # ... so that the residual overlap keeps every gap >= g
    r = plan.radius_um.copy()
    budget = options.max_iterations
    box = _bounds(plan, r, options, gap)
    pos = np.column_stack([rng.uniform(box[:, 0], box[:, 1]), rng.uniform(box[:, 2], box[:, 3])])
    used = 0
    worst = math.inf
    for attempt in range(_MAX_SHAKES + 1):
        lam_start = 0.6 if attempt == 0 else 0.7
        for lam in np.linspace(lam_start, 1.0, 9 if attempt == 0 else 5):
            box = _bounds(plan, lam * r, options, gap)
            pos = _clip(pos, box)
            stage_tol = tol if lam == 1.0 else 0.02 * g
            pos, worst, sweeps = _relax(pos, lam * r, box, gap, stage_tol, max(budget - used, 1))
            used += sweeps
        if worst < tol or used >= budget:
            break
        # jammed: shake (random kicks of half a radius) and regrow from 70 %
        log.debug("jammed at overlap %.3g um after %d sweeps: shake %d", worst, used, attempt + 1)
        pos = pos + rng.normal(scale=0.5, size=pos.shape) * r[:, None]
    if worst >= tol:
        raise PackingError("design.porosity",
                           f"the disk relaxation did not converge in {used} sweeps and {_MAX_SHAKES} "
                           f"shakes (largest remaining overlap {worst:.3g} um at a {g:g} um gap)",
                           "a lower solid fraction, a smaller geometry.packing2d.min_gap_um, "
                           "particle_phase: active, or more geometry.packing2d.max_iterations")
    # adjust radii of layers whose slab also receives area from disks crossing its boundary
    for _ in range(8):
        frac = layer_area_fractions(pos[:, 1], r, plan.slabs_um, options.width_um)
        if np.all(np.abs(frac - plan.targets) < 1e-3):
            break
        for k, (a, b) in enumerate(plan.slabs_um):
            own = plan.layer_index == k
            inside = disk_area_in_band(pos[:, 1], r, a, b)
            room = plan.targets[k] * options.width_um * (b - a) - inside[~own].sum()
            if inside[own].sum() > 0 and room > 0:
                r[own] *= math.sqrt(room / inside[own].sum())
        box = _bounds(plan, r, options, gap)
        pos = _clip(pos, box)
        pos, worst, sweeps = _relax(pos, r, box, gap, tol, max(budget - used, 1))
        used += sweeps
        if worst >= tol:
            raise PackingError("design.porosity", f"the disk relaxation did not converge after the area "
                               f"correction (largest remaining overlap {worst:.3g} um)",
                               "a lower solid fraction or a smaller geometry.packing2d.min_gap_um")
    return pos, r, used


def smallest_gap_um(x_um: np.ndarray, y_um: np.ndarray, r_um: np.ndarray, width_um: float,
                    y_range_um: tuple[float, float]) -> float:
    """Smallest surface distance between two disks, or a disk and a side wall or electrode line."""
    pos = np.column_stack([x_um, y_um])
    walls = np.concatenate([x_um - r_um, width_um - x_um - r_um, y_um - r_um - y_range_um[0],
                            y_range_um[1] - y_um - r_um])
    pairs = cKDTree(pos).query_pairs(2.0 * float(r_um.max()) + 10.0, output_type="ndarray")
    if len(pairs) == 0:
        return float(walls.min())
    d = np.hypot(*(pos[pairs[:, 1]] - pos[pairs[:, 0]]).T) - r_um[pairs[:, 0]] - r_um[pairs[:, 1]]
    return float(min(walls.min(), d.min()))


def pack2d(design: ElectrodeDesign, options: Packing2DOptions, seed: int, case: str = "") -> dict[str, Any]:
    """Pack ``design`` into a 2D domain; returns the ``packing2d.json`` content (SI units).

    Raises
    ------
    InputError
        before any packing work when a layer's target cannot be packed with the gap, and
        :class:`PackingError` (an InputError) when the relaxation does not converge.
    """
    require(isinstance(seed, int) and seed >= 0, "seed", f"got {seed!r}", "a non-negative integer")
    rng = np.random.default_rng(seed)
    plan = plan_disks(design, options, rng)
    log.info("packing %d disks (%d L, %d S) in %d layer(s)", len(plan.radius_um),
             plan.population.count("L"), plan.population.count("S"), len(plan.slabs_um))
    pos, r, sweeps = _pack(plan, options, rng)
    y_range = (float(plan.slabs_um[0, 0]), float(plan.slabs_um[-1, 1]))
    frac = layer_area_fractions(pos[:, 1], r, plan.slabs_um, options.width_um)
    gap = smallest_gap_um(pos[:, 0], pos[:, 1], r, options.width_um, y_range)
    log.info("packed in %d sweeps; area fractions %s (targets %s); smallest gap %.4g um", sweeps,
             np.round(frac, 4).tolist(), np.round(plan.targets, 4).tolist(), gap)
    off = np.abs(frac - plan.targets)
    if off.max() > AREA_TOLERANCE:
        k = int(off.argmax())
        raise PackingError("design.porosity", f"layer {k} reached area fraction {frac[k]:.4f} instead of "
                           f"{plan.targets[k]:.4f}", f"a design whose layers can be packed within {AREA_TOLERANCE}")
    if gap < options.min_gap_um:
        raise PackingError(f"{FIELD}.min_gap_um", f"smallest gap {gap:.4g} um is below the minimum",
                           f">= {options.min_gap_um:g} um")
    H = design.thickness_m * M_TO_UM
    scales = [plan.scales[k] * (float(np.mean(r[plan.layer_index == k] / plan.radius_um[plan.layer_index == k]))
                                if np.any(plan.layer_index == k) else 1.0) for k in range(len(plan.slabs_um))]
    return {
        "case": case,
        "seed": seed,
        "design": design.summary(),
        "options": dataclasses.asdict(options),
        "width_m": options.width_um * UM_TO_M,
        "outlet_height_m": options.outlet_um * UM_TO_M,
        "reservoir_height_m": options.reservoir_um * UM_TO_M,
        "domain_height_m": (options.outlet_um + H + options.reservoir_um) * UM_TO_M,
        "electrode_y_range_m": [y_range[0] * UM_TO_M, y_range[1] * UM_TO_M],
        "min_gap_m": options.min_gap_um * UM_TO_M,
        "particle_phase": options.particle_phase,
        "disk_x_m": (pos[:, 0] * UM_TO_M).tolist(),
        "disk_y_m": (pos[:, 1] * UM_TO_M).tolist(),
        "disk_radius_m": (r * UM_TO_M).tolist(),
        "disk_population": list(plan.population),
        "disk_layer": plan.layer_index.tolist(),
        "layers": [
            {"name": layer.name, "y_bottom_m": float(a) * UM_TO_M, "y_top_m": float(b) * UM_TO_M,
             "target_area_fraction": float(t), "achieved_area_fraction": float(f), "radius_scale": float(s)}
            for layer, (a, b), t, f, s in zip(design.layers, plan.slabs_um, plan.targets, frac, scales)
        ],
        "smallest_gap_m": gap * UM_TO_M,
        "relaxation_sweeps": sweeps,
    }
