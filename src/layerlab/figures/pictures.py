"""Pictures drawn from one case's run files: wetting snapshots (Chen et al. 2024, Fig. 1e / 5g) and a
microstructure cross-section of a 3D packing.

* :func:`wetting_snapshots`: electrolyte, air and particles at each saved time of a wetting run
  (``electrolyte_fraction_snapshot`` of ``results/runs/wetting/<case>.nc``; runs from before the
  snapshots were stored show the final ``air_map`` only).
* :func:`microstructure_section`: the plane ``y = box_y / 2`` through a ``packing3d.json``: every
  sphere it cuts as a disk (periodic images included), L and S told apart, layer boundaries dashed,
  and each layer's solid area fraction in the section beside the packing's measured volume fraction.
"""

from __future__ import annotations

from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.patches import Circle, Patch  # noqa: E402

UM = 1e6
PARTICLE_GREY = "0.35"
# 0 = air (pale yellow) ... 1 = electrolyte (blue); particles (NaN) grey
PHASE_CMAP = LinearSegmentedColormap.from_list("air_electrolyte", ["#fff3b0", "#1f5fbf"]).with_extremes(
    bad=PARTICLE_GREY)
POPULATION_COLORS = {"L": "#4a6fa5", "S": "#d98c3f"}


def _frames(run: xr.Dataset) -> list[tuple[str, np.ndarray]]:
    """(title, electrolyte fraction on the map grid) per saved time; the final air map when the run
    holds no snapshots."""
    if "electrolyte_fraction_snapshot" in run:
        snap = run["electrolyte_fraction_snapshot"]
        return [(f"t = {float(t):.3g} s", snap.sel(snapshot_time=t).values.astype(float))
                for t in snap["snapshot_time"].values]
    return [("end of run", 1.0 - run["air_map"].values)]


def wetting_snapshots(run: xr.Dataset, case: str) -> plt.Figure:
    """One panel per saved time: electrolyte (blue), air (yellow), particles (grey); the title gives
    the share of the pore space filled with electrolyte."""
    frames = _frames(run)
    x, y = run["map_x"].values * UM, run["map_y"].values * UM
    dx, dy = (x[1] - x[0] if x.size > 1 else 1.0), (y[1] - y[0] if y.size > 1 else 1.0)
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2)
    aspect_h = (extent[3] - extent[2]) / (extent[1] - extent[0])
    width = 1.4 + 1.1 * len(frames)
    fig, axes = plt.subplots(1, len(frames), figsize=(width, min(9.0, 1.1 * aspect_h + 1.2)), squeeze=False,
                             sharey=True)
    for ax, (title, frac) in zip(axes[0], frames):
        pore = np.isfinite(frac)
        filled = float(np.nansum(frac) / pore.sum()) if pore.any() else float("nan")
        ax.imshow(np.ma.masked_invalid(frac), origin="lower", extent=extent, cmap=PHASE_CMAP, vmin=0.0, vmax=1.0,
                  interpolation="nearest")
        ax.set_title(f"{title}\n{100 * filled:.0f} % of pores wet", fontsize=8)
        ax.set_xlabel("x (um)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("height above the outlet (um)", fontsize=8)
    handles = [Patch(color="#1f5fbf", label="electrolyte"), Patch(color="#fff3b0", label="air"),
               Patch(color=PARTICLE_GREY, label="particles")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"wetting of {case} (electrolyte enters at the top)", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def section_disks(packing: Mapping[str, Any], y_m: float) -> list[tuple[float, float, float, str]]:
    """(x, z, radius, population) of every disk the plane ``y = y_m`` cuts from the packing's spheres,
    with the periodic images that reach into the box (lateral periodicity when ``periodic``)."""
    box = np.asarray(packing["box_m"], dtype=float)
    x, y, z = (np.asarray(packing[k], dtype=float) for k in ("sphere_x_m", "sphere_y_m", "sphere_z_m"))
    r = np.asarray(packing["sphere_radius_m"], dtype=float)
    pops = list(packing["sphere_population"])
    periodic = bool(packing["periodic"])
    shifts = (-1, 0, 1) if periodic else (0,)
    out = []
    for sy in shifts:
        dy = y + sy * box[1] - y_m
        cut = np.abs(dy) < r
        for i in np.nonzero(cut)[0]:
            rho = float(np.sqrt(r[i] ** 2 - dy[i] ** 2))
            for sx in shifts:
                xc = x[i] + sx * box[0]
                if -rho < xc < box[0] + rho:
                    out.append((float(xc), float(z[i]), rho, str(pops[i])))
    return out


def section_solid_fraction(disks: list[tuple[float, float, float, str]], width_m: float, z0_m: float, z1_m: float,
                           spacing_m: float = 0.25e-6) -> float:
    """Area fraction of ``0 < x < width``, ``z0 < z < z1`` covered by the section's disks (midpoint
    rule on a grid of ``spacing_m``; in expectation the solid volume fraction, by Delesse's principle)."""
    n_x, n_z = max(1, round(width_m / spacing_m)), max(1, round((z1_m - z0_m) / spacing_m))
    gx, gz = np.meshgrid((np.arange(n_x) + 0.5) * width_m / n_x, z0_m + (np.arange(n_z) + 0.5) * (z1_m - z0_m) / n_z)
    solid = np.zeros(gx.shape, dtype=bool)
    for xc, zc, rho, _ in disks:
        solid |= (gx - xc) ** 2 + (gz - zc) ** 2 < rho ** 2
    return float(solid.mean())


def microstructure_section(packing: Mapping[str, Any]) -> plt.Figure:
    """The x-z section through the middle of a 3D packing (current collector at the bottom)."""
    box = np.asarray(packing["box_m"], dtype=float)
    y_mid = 0.5 * box[1]
    disks = section_disks(packing, y_mid)
    fig, ax = plt.subplots(figsize=(3.2 + 3.0 * box[0] / box[2], 6.0))
    for pop, colour in POPULATION_COLORS.items():
        patches = [Circle((xc * UM, zc * UM), rho * UM) for xc, zc, rho, p in disks if p == pop]
        coll = PatchCollection(patches, facecolor=colour, edgecolor="k", linewidth=0.2)
        coll.set_clip_box(ax.bbox)
        ax.add_collection(coll)
    ax.set_xlim(0, box[0] * UM)
    ax.set_ylim(0, box[2] * UM)
    ax.set_aspect("equal")
    notes = []
    for layer in packing["layers"]:
        z0, z1 = float(layer["z_bottom_m"]), float(layer["z_top_m"])
        if z0 > 0:
            ax.axhline(z0 * UM, color="k", ls="--", lw=0.8)
        area = section_solid_fraction(disks, float(box[0]), z0, z1)
        notes.append(f"{layer['name']}: section {100 * area:.0f} % solid, "
                     f"packing {100 * float(layer['achieved_solid_fraction']):.0f} %")
    ax.set_xlabel("x (um)")
    ax.set_ylabel("height above the current collector (um)")
    ax.set_title(f"{packing['case']}: section y = {y_mid * UM:.1f} um\n" + "\n".join(notes), fontsize=7)
    handles = [Patch(color=c, label=f"{p} particles") for p, c in POPULATION_COLORS.items()]
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
