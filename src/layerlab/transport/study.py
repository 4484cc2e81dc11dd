"""Effective transport of a packing per layer, for the whole electrode, both phases, all directions.

Regions are the layers of the packing (slabs ``z_bottom_m .. z_top_m``) and the whole electrode (the box).
:func:`voxel_study` runs the voxel route; :mod:`layerlab.transport.tetmesh` the gmsh-mesh route; both give
a :class:`TransportStudy` that :func:`to_dataset` turns into the stage's netCDF content.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from layerlab.fe import MPI
from layerlab.transport.effective import AXES, DEFAULT_RTOL, PhaseTransport, Region, owned_cell_volumes, \
    phase_transport
from layerlab.transport.packing import Packing
from layerlab.transport.voxel import box_mesh, grid_shape, owned_cell_voxels, phase_cells, rasterize, slab_k_range

log = logging.getLogger("layerlab.transport")

ELECTRODE = "electrode"
PHASES: tuple[str, ...] = ("pore", "solid")


@dataclass
class TransportStudy:
    """Results keyed by (region, phase) -> direction -> :class:`PhaseTransport`.

    ``regions`` lists the layer names, then :data:`ELECTRODE`; ``z_range_m`` the slab each region was
    solved on (snapped to the mesh); a missing entry means not computed (NaN in the dataset).
    """

    route: str
    directions: tuple[str, ...]
    regions: list[str]
    z_range_m: dict[str, tuple[float, float]]
    results: dict[tuple[str, str], dict[str, PhaseTransport]] = field(default_factory=dict)
    attrs: dict[str, float | int | str] = field(default_factory=dict)


def voxel_study(comm: MPI.Comm, packing: Packing, voxel_m: float, directions: tuple[str, ...] = AXES,
                rtol: float = DEFAULT_RTOL) -> TransportStudy:
    """Voxel route: rasterize the packing, build the hexahedral box mesh, solve every region/phase/direction."""
    shape = grid_shape(packing.box_m, voxel_m)
    grid = rasterize(packing, shape)
    msh = box_mesh(comm, grid)
    voxels = owned_cell_voxels(msh, grid)
    volumes = owned_cell_volumes(msh)
    hz = grid.spacing_m[2]
    slabs = {lay.name: slab_k_range(grid, lay.z_bottom_m, lay.z_top_m) for lay in packing.layers}
    slabs[ELECTRODE] = (0, shape[2])
    study = TransportStudy("voxel", tuple(directions), list(slabs),
                           {name: (k0 * hz, k1 * hz) for name, (k0, k1) in slabs.items()},
                           attrs={"voxel_size_m": float(voxel_m), "grid_nx": shape[0], "grid_ny": shape[1],
                                  "grid_nz": shape[2]})
    log.info("voxel grid %s (spacing %s m), solid fraction %.4f", shape, grid.spacing_m, grid.solid_fraction())
    for name, (k0, k1) in slabs.items():
        if k1 <= k0:
            log.warning("layer %s is thinner than a voxel: skipped", name)
            continue
        same = [other for other, ks in slabs.items() if ks == (k0, k1) and (other, PHASES[0]) in study.results]
        if same:  # e.g. a single-layer electrode: the layer is the whole electrode
            for phase in PHASES:
                study.results[(name, phase)] = study.results[(same[0], phase)]
            continue
        region = Region((0.0, 0.0, k0 * hz), (packing.box_m[0], packing.box_m[1], k1 * hz))
        for phase in PHASES:
            log.info("region %s (z %.3g..%.3g m), phase %s", name, k0 * hz, k1 * hz, phase)
            cells = phase_cells(msh, grid, phase, (k0, k1), voxels=voxels)
            study.results[(name, phase)] = phase_transport(msh, cells, region, tuple(directions), rtol, volumes)
    return study


def _table(study: TransportStudy, regions: list[str], phase: str, what: str) -> np.ndarray:
    """(len(regions), len(AXES)) array of a :class:`PhaseTransport` attribute, NaN where not computed."""
    out = np.full((len(regions), len(AXES)), np.nan)
    for i, reg in enumerate(regions):
        for j, d in enumerate(AXES):
            res = study.results.get((reg, phase), {}).get(d)
            if res is not None:
                out[i, j] = getattr(res, what)
    return out


_DIRECTIONAL = {  # variable -> (phase, PhaseTransport attribute, long name)
    "tortuosity_factor": ("pore", "tortuosity_factor", "tortuosity factor of the pore space (porosity D / D_eff)"),
    "macmullin_number": ("pore", "macmullin_number", "MacMullin number of the pore space (D / D_eff)"),
    "effective_diffusivity_ratio": ("pore", "relative_diffusivity", "effective to bulk diffusivity ratio D_eff / D"),
    "isolated_pore_fraction": ("pore", "isolated_fraction",
                               "volume fraction of pore clusters touching neither face (no flux)"),
    "solid_tortuosity_factor": ("solid", "tortuosity_factor",
                                "tortuosity factor of the solid (solid fraction sigma / sigma_eff)"),
    "solid_conductivity_ratio": ("solid", "relative_diffusivity",
                                 "effective to bulk solid conductivity ratio sigma_eff / sigma"),
    "solid_macmullin_number": ("solid", "macmullin_number", "MacMullin number of the solid (sigma / sigma_eff)"),
    "isolated_solid_fraction": ("solid", "isolated_fraction",
                                "volume fraction of solid clusters touching neither face (no path)"),
}


def to_dataset(study: TransportStudy, case: str = "") -> "xarray.Dataset":  # noqa: F821
    """The stage's dataset: per layer (dim ``layer``) and, as ``*_electrode``, for the whole electrode."""
    import xarray as xr

    layers = [r for r in study.regions if r != ELECTRODE]
    data_vars = {}
    for suffix, regions, dims in (("", layers, ("layer", "direction")), ("_electrode", [ELECTRODE], ("direction",))):
        for var, (phase, attr, long_name) in _DIRECTIONAL.items():
            table = _table(study, regions, phase, attr)
            values = table if dims[0] == "layer" else table[0]
            where = "per layer" if suffix == "" else "whole electrode"
            data_vars[var + suffix] = (dims, values, {"units": "1", "long_name": f"{long_name}, {where}"})
        for var, phase, long_name in (("pore_fraction", "pore", "pore volume fraction"),
                                      ("solid_fraction", "solid", "solid volume fraction")):
            vals = np.array([_first(study, r, phase, "phase_fraction") for r in regions])
            data_vars[var + suffix] = (dims[:-1], vals if dims[0] == "layer" else vals[0],
                                       {"units": "1", "long_name": f"{long_name} of the analysed slab"})
    coords = {
        "layer": ("layer", layers, {"long_name": "layer name (bottom to top)"}),
        "direction": ("direction", list(AXES), {"long_name": "direction of the potential drop (z: through-plane)"}),
        "layer_z_bottom_m": ("layer", [study.z_range_m[r][0] for r in layers],
                             {"units": "m", "long_name": "bottom of the analysed slab (z = 0: current collector)"}),
        "layer_z_top_m": ("layer", [study.z_range_m[r][1] for r in layers],
                          {"units": "m", "long_name": "top of the analysed slab"}),
    }
    attrs = {"title": "transport run: tortuosity factors of the layers of one packing (layerlab.transport)",
             "route": study.route, "case": case, **{k: v for k, v in study.attrs.items()}}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _first(study: TransportStudy, region: str, phase: str, attr: str) -> float:
    res = study.results.get((region, phase), {})
    return float(getattr(next(iter(res.values())), attr)) if res else math.nan
