"""Integral quantities of a wetting state and the scalar metrics of a run.

All integrals are per unit depth in scaled units (um^2 for areas); every value is reduced over the
ranks, so it does not depend on the partition.  Definitions:

- electrolyte / air volume: ``int (1 +- phi)/2`` over the pore space (unclipped ``phi``, the
  quantity the scheme conserves);
- outlet electrolyte fraction: ``int_outlet (1 + clip(phi))/2 ds / |outlet|`` (``outlet_fraction``);
  the same with the raw phase field (``outlet_fraction_raw``), and the electrolyte share of the
  volume flux through the outlet, ``int_outlet (1 + phi)/2 u.n ds / int_outlet u.n ds``, clipped and
  raw (``outlet_flux_fraction``, ``outlet_flux_fraction_raw``; with a velocity only): the
  definitions the "1 % VOF" breakthrough time is compared under (:func:`breakthrough_variants`);
- electrode saturation: electrolyte share ``(1 + clip(phi))/2`` of the pore area with
  ``y_bottom <= y <= y_top`` (the electrode);
- trapped-air fraction: air ``(1 - clip(phi))/2`` in the electrode above the lowest electrode point
  that electrolyte (``phi > 0``) has reached, per electrode pore area.  Before the front has crossed
  the electrode this counts air that fingers have bypassed; once electrolyte has reached the
  current collector it equals the residual air fraction ``1 - saturation``.
- air-fraction profile: air share of the pore area in equal bins of depth ``y - y_bottom`` (depth
  measured from the current collector at the bottom of the electrode).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layerlab.fe import MPI, fem, ufl
from layerlab.wetting.model import clip


@dataclass(frozen=True)
class ElectrodeBand:
    """The electrode as a band of ``y`` (scaled units)."""

    y_bottom: float
    y_top: float


class Probe:
    """Compiled integrals of a P1 phase field ``phi`` (updated in place by the caller)."""

    def __init__(self, phi: fem.Function, ds: ufl.Measure, outlet_ids: tuple[int, ...],
                 band: ElectrodeBand, n_bins: int = 20, u: fem.Function | None = None) -> None:
        msh = phi.function_space.mesh
        self.comm, self.phi, self.band, self.n_bins, self.u = msh.comm, phi, band, n_bins, u
        x = ufl.SpatialCoordinate(msh)
        dx = ufl.dx(domain=msh, metadata={"quadrature_degree": 4})
        c = clip(phi)
        self.y_front = fem.Constant(msh, float(band.y_top))
        self.lo = fem.Constant(msh, float(band.y_bottom))
        self.hi = fem.Constant(msh, float(band.y_top))
        inband = ufl.conditional(ufl.And(ufl.ge(x[1], band.y_bottom), ufl.le(x[1], band.y_top)), 1.0, 0.0)
        inbin = ufl.conditional(ufl.And(ufl.ge(x[1], self.lo), ufl.lt(x[1], self.hi)), 1.0, 0.0)
        behind = ufl.conditional(ufl.ge(x[1], self.y_front), 1.0, 0.0)
        self.forms = {
            "electrolyte_volume": fem.form((1.0 + phi) / 2.0 * dx),
            "air_volume": fem.form((1.0 - phi) / 2.0 * dx),
            "electrode_electrolyte": fem.form(inband * (1.0 + c) / 2.0 * dx),
            "trapped_air": fem.form(inband * behind * (1.0 - c) / 2.0 * dx),
        }
        if outlet_ids:
            ds_o = ds(outlet_ids)
            self.forms["outlet_electrolyte"] = fem.form((1.0 + c) / 2.0 * ds_o)
            self.forms["outlet_electrolyte_raw"] = fem.form((1.0 + phi) / 2.0 * ds_o)
            if u is not None:
                un = ufl.dot(u, ufl.FacetNormal(msh))
                self.forms["outlet_flux"] = fem.form(un * ds_o)
                self.forms["outlet_electrolyte_flux"] = fem.form((1.0 + c) / 2.0 * un * ds_o)
                self.forms["outlet_electrolyte_flux_raw"] = fem.form((1.0 + phi) / 2.0 * un * ds_o)
            self.outlet_length = self._sum(fem.form(1.0 * ds_o))
        else:
            self.outlet_length = 0.0
        self.pore_area = self._sum(fem.form(1.0 * dx))
        self.electrode_area = self._sum(fem.form(inband * dx))
        self._bin_air = fem.form(inbin * (1.0 - c) / 2.0 * dx)
        self._bin_area = fem.form(inbin * dx)
        V = phi.function_space
        self._dof_y = V.tabulate_dof_coordinates()[: V.dofmap.index_map.size_local, 1]

    def _sum(self, form: fem.Form) -> float:
        return float(self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM))

    def front_y(self) -> float:
        """Lowest electrode ``y`` where ``phi > 0`` (``y_top`` if none)."""
        n = self._dof_y.size
        vals = self.phi.x.array[:n]
        mask = (vals > 0.0) & (self._dof_y >= self.band.y_bottom) & (self._dof_y <= self.band.y_top)
        local = float(self._dof_y[mask].min()) if mask.any() else float(self.band.y_top)
        return float(self.comm.allreduce(local, op=MPI.MIN))

    def values(self) -> dict[str, float]:
        """The integrals of the current ``phi`` (scaled units; fractions are dimensionless)."""
        self.y_front.value = self.front_y()
        out = {k: self._sum(f) for k, f in self.forms.items()}
        ea = max(self.electrode_area, 1e-300)
        res = {"electrolyte_volume": out["electrolyte_volume"], "air_volume": out["air_volume"],
               "saturation": out["electrode_electrolyte"] / ea,
               "trapped_air_fraction": out["trapped_air"] / ea}
        length = self.outlet_length if self.outlet_length > 0 else float("nan")
        res["outlet_fraction"] = out["outlet_electrolyte"] / length if "outlet_electrolyte" in out else 0.0
        res["outlet_fraction_raw"] = out["outlet_electrolyte_raw"] / length if "outlet_electrolyte_raw" in out else 0.0
        flux = out.get("outlet_flux", 0.0)
        for key, form in (("outlet_flux_fraction", "outlet_electrolyte_flux"),
                          ("outlet_flux_fraction_raw", "outlet_electrolyte_flux_raw")):
            res[key] = out[form] / flux if form in out and flux > 0 else float("nan")
        return res

    def profile(self) -> tuple[np.ndarray, np.ndarray]:
        """Bin centres (depth from the bottom of the electrode, scaled) and air fraction per bin."""
        edges = np.linspace(self.band.y_bottom, self.band.y_top, self.n_bins + 1)
        air = np.empty(self.n_bins)
        for i in range(self.n_bins):
            self.lo.value, self.hi.value = edges[i], edges[i + 1] if i < self.n_bins - 1 else edges[i + 1] + 1e-9
            area = self._sum(self._bin_area)
            air[i] = self._sum(self._bin_air) / area if area > 0 else np.nan
        return 0.5 * (edges[:-1] + edges[1:]) - self.band.y_bottom, air


def breakthrough_time(t: np.ndarray, outlet_fraction: np.ndarray, share: float = 0.01,
                      wet_threshold: float = 0.05, reference: str = "max") -> float:
    """First time the outlet electrolyte fraction reaches ``share`` x its maximum over the run
    (``reference="max"``, the paper's "1 % VOF" time as the campaign reports it) or x its final
    value (``reference="final"``).

    The crossing is interpolated linearly between records.  NaN when the maximum stays below
    ``wet_threshold`` (no electrolyte has reached the outlet, only diffuse-interface tails).
    """
    f = np.asarray(outlet_fraction, dtype=float)
    t = np.asarray(t, dtype=float)
    if f.size == 0 or not np.nanmax(f) >= wet_threshold:
        return float("nan")
    if reference not in ("max", "final"):
        raise ValueError(f"reference must be 'max' or 'final', got {reference!r}")
    return first_crossing_time(t, f, share * (np.nanmax(f) if reference == "max" else f[-1]))


def first_crossing_time(t: np.ndarray, f: np.ndarray, level: float) -> float:
    """First time ``f`` reaches ``level``, interpolated linearly between records (NaN if never)."""
    f, t = np.asarray(f, dtype=float), np.asarray(t, dtype=float)
    reached = f >= level
    if not reached.any():
        return float("nan")
    i = int(np.argmax(reached))
    if i == 0:
        return float(t[0])
    return float(t[i - 1] + (level - f[i - 1]) * (t[i] - t[i - 1]) / (f[i] - f[i - 1]))


def breakthrough_determined(t: np.ndarray, outlet_fraction: np.ndarray, tol_s: float, share: float = 0.01,
                            wet_threshold: float = 0.05, upper_bound: float = 1.0) -> bool:
    """Whether :func:`breakthrough_time` (``reference="max"``) of a run whose outlet fraction so far
    is ``outlet_fraction`` can no longer move by more than ``tol_s``, whatever the fraction does
    later, as long as it stays ``<= upper_bound`` (1 for the clipped edge average).

    A later run maximum ``M`` lies in ``[max so far, upper_bound]``, so the breakthrough level
    ``share * M`` lies between ``share * max so far`` and ``share * upper_bound``; the first crossing
    of a level is nondecreasing in the level, so the breakthrough time lies between the crossings
    of those two levels in the records so far (the upper one must have been crossed already)."""
    f = np.asarray(outlet_fraction, dtype=float)
    low = breakthrough_time(t, f, share, wet_threshold)
    high = first_crossing_time(t, f, share * upper_bound)
    return bool(np.isfinite(low) and np.isfinite(high) and high - low <= tol_s)


BREAKTHROUGH_SIGNALS = {
    "area_clipped": "outlet_fraction", "area_raw": "outlet_fraction_raw",
    "flux_clipped": "outlet_flux_fraction", "flux_raw": "outlet_flux_fraction_raw",
}
"""Definitions of the outlet "VOF": averaged over the outlet edge or weighted by the volume flux
through it, with the phase field clipped to [-1, 1] or raw (the series :class:`Probe` records)."""


def breakthrough_variants(t: np.ndarray, series: dict[str, np.ndarray], share: float = 0.01) -> dict[str, float]:
    """The breakthrough time under each outlet signal of :data:`BREAKTHROUGH_SIGNALS` and each
    reference level (``max``, ``final``): keys ``"<signal>/<reference>"`` (NaN when a signal was
    not recorded).  A flux share is undefined while nothing flows out (the first record, at rest):
    no electrolyte has crossed then, so it counts as 0."""
    out = {}
    for name, key in BREAKTHROUGH_SIGNALS.items():
        f = np.asarray(series.get(key, []), dtype=float)
        ok = f.size == len(t) and f.size > 0
        f = np.where(np.isfinite(f), f, 0.0) if ok else f
        for ref in ("max", "final"):
            out[f"{name}/{ref}"] = breakthrough_time(t, f, share, reference=ref) if ok else float("nan")
    return out


def steady_time(t: np.ndarray, series: np.ndarray, tol: float) -> float:
    """Earliest record time after which ``series`` stays within ``tol`` of its final value
    (NaN when even the last two records differ by more)."""
    s = np.asarray(series, dtype=float)
    if s.size < 2:
        return float("nan")
    off = np.abs(s - s[-1]) > tol
    if off[-2]:
        return float("nan")
    last_off = np.nonzero(off)[0]
    return float(t[last_off[-1] + 1]) if last_off.size else float(t[0])


def gather_vertex_values(f: fem.Function) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Coordinates (n, 2) and values of a P1 function at the mesh vertices, on rank 0 only,
    sorted by (x, y) so that the result does not depend on the partition."""
    V = f.function_space
    n = V.dofmap.index_map.size_local
    xy = V.tabulate_dof_coordinates()[:n, :2]
    vals = f.x.array[:n]
    comm = V.mesh.comm
    all_xy = comm.gather(xy, root=0)
    all_v = comm.gather(vals, root=0)
    if comm.rank != 0:
        return None, None
    xy = np.concatenate(all_xy)
    vals = np.concatenate(all_v)
    order = np.lexsort((np.round(xy[:, 1], 9), np.round(xy[:, 0], 9)))
    return xy[order], vals[order]


