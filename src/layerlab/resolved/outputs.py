"""netCDF (and VTX) outputs of a resolved run: voltage/capacity vs time and depth profiles."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from layerlab.cfnames import DISTANCE, MAP_SAMPLE, PROFILE_SAMPLE, PROTOCOL_TIME, PROTOCOL_TIME_ATTRS, SAMPLE
from layerlab.resolved.solver import Trace


def to_dataset(traces: Sequence[Trace], labels: Sequence[str], edges_m: np.ndarray,
               summary: dict[str, float], dimension: int, particles=None) -> "xarray.Dataset":  # noqa: F821
    """One dataset: time series over all segments, profiles at output times, scalar summary, and
    (``particles``, a :class:`~layerlab.resolved.particles.ParticleState`) the end state per particle.

    Time series run over ``sample`` (with ``protocol_time``), profiles over ``profile_sample`` (with
    ``profile_time``: a segment's end and the next one's start share a time) and ``distance_from_collector``
    (bin centre, m from the current collector), as the DFN's do (:mod:`layerlab.cfnames`).
    """
    import xarray as xr

    t = np.concatenate([tr.t_s for tr in traces])
    seg = np.concatenate([np.full(len(tr.t_s), i) for i, tr in enumerate(traces)])

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(tr, name) for tr in traces])

    prof = [(tp, p) for tr in traces for tp, p in tr.profiles]
    depth = 0.5 * (edges_m[1:] + edges_m[:-1])
    ds = xr.Dataset(
        {
            "voltage": (SAMPLE, cat("voltage_V"), {"units": "V", "long_name": "cell voltage vs Li/Li+"}),
            "current": (SAMPLE, cat("current_A_m2"),
                        {"units": "A m-2", "long_name": "current density through the Li foil (discharge > 0)"}),
            "charge": (SAMPLE, cat("charge_C_m2"),
                       {"units": "C m-2", "long_name": "net charge passed since the start (discharge > 0)"}),
            "lithium_electrolyte": (SAMPLE, cat("li_electrolyte_mol_m2"),
                                    {"units": "mol m-2", "long_name": "lithium in the electrolyte"}),
            "lithium_particles": (SAMPLE, cat("li_particles_mol_m2"),
                                  {"units": "mol m-2", "long_name": "lithium in the particles"}),
            "mean_stoichiometry": (SAMPLE, cat("mean_stoichiometry"),
                                   {"units": "1", "long_name": "mean particle stoichiometry"}),
            "segment": (SAMPLE, seg, {"units": "1", "long_name": "protocol segment index"}),
            PROTOCOL_TIME: (SAMPLE, t, PROTOCOL_TIME_ATTRS),
            "profile_time": (PROFILE_SAMPLE, np.array([tp for tp, _ in prof]),
                             {**PROTOCOL_TIME_ATTRS, "long_name": "time of the profile since the start of the run"}),
            "capacity": ("segment_index", np.array([tr.capacity_C_m2 for tr in traces]),
                         {"units": "C m-2", "long_name": "charge passed per segment (discharge > 0)"}),
            "c_e": ((PROFILE_SAMPLE, DISTANCE), np.array([p["c_e"] for _, p in prof]),
                    {"units": "mol m-3", "long_name": "depth-averaged electrolyte concentration"}),
            "phi_e": ((PROFILE_SAMPLE, DISTANCE), np.array([p["phi_e"] for _, p in prof]),
                      {"units": "V", "long_name": "depth-averaged electrolyte potential vs the Li foil"}),
            "reaction_current": ((PROFILE_SAMPLE, DISTANCE), np.array([p["reaction"] for _, p in prof]),
                                 {"units": "A m-3", "long_name": "reaction current per volume (anodic > 0)"}),
            "stoichiometry": ((PROFILE_SAMPLE, DISTANCE), np.array([p["stoichiometry"] for _, p in prof]),
                              {"units": "1", "long_name": "depth-averaged mean particle stoichiometry"}),
        },
        coords={
            DISTANCE: (DISTANCE, depth, {"units": "m", "long_name": "distance from the current collector "
                                                                   "(centre of the averaging bin)"}),
            "segment_index": ("segment_index", np.arange(len(traces)), {"units": "1", "long_name": "segment"}),
        },
    )
    ds["segment_label"] = ("segment_index", np.array(list(labels), dtype=str),
                           {"units": "1", "long_name": "segment label"})
    if particles is not None:
        ds = ds.assign_coords(particle=("particle", particles.sphere,
                                        {"units": "1", "long_name": "packing sphere index"}))
        for name, data, units, long_name in (
                ("particle_radius", particles.radius_m, "m", "packing sphere radius"),
                ("particle_population", particles.population, "1", "particle population (L or S)"),
                ("particle_depth", particles.depth_m, "m", "sphere centre height above the current collector"),
                ("particle_volume", particles.volume_m3, "m3", "modelled volume of the sphere's cells"),
                ("particle_end_stoichiometry", particles.stoichiometry, "1",
                 "volume-mean stoichiometry of the sphere at the end of the last segment")):
            ds[name] = ("particle", data, {"units": units, "long_name": long_name})
    for k, v in summary.items():
        ds.attrs[k] = v
    ds.attrs["model"] = f"microstructure-resolved half cell ({dimension}D)"
    ds.attrs["title"] = f"microstructure-resolved half-cell run, {dimension}D (layerlab.resolved)"
    if dimension == 2:
        ds.attrs["caveat"] = ("2D section: disks give tortuosity factors several times those of the same "
                              "packing in 3D; electrolyte polarisation is exaggerated")
    return ds


def add_section_maps(ds: "xarray.Dataset", maps: Sequence[tuple[float, np.ndarray]], x_m: np.ndarray,  # noqa: F821
                     y_m: np.ndarray, theoretical_C_m2: float, caveat: str) -> "xarray.Dataset":  # noqa: F821
    """Add the electrolyte concentration maps ``(time, c_e on the y x raster)`` of a 2D section as
    ``c_e_map(map_sample, map_y, map_x)`` with ``map_time`` and the depth of discharge at each map
    (over ``map_sample``: a segment's end and the next one's start share a time)."""
    t_map = np.array([t for t, _ in maps])
    q_map = np.interp(t_map, ds[PROTOCOL_TIME].values, ds["charge"].values)
    ds = ds.assign_coords(
        map_x=("map_x", x_m, {"units": "m", "long_name": "position across the 2D section"}),
        map_y=("map_y", y_m, {"units": "m", "long_name": "height above the current collector (2D section)"}),
    )
    ds["map_time"] = (MAP_SAMPLE, t_map, {**PROTOCOL_TIME_ATTRS, "long_name": "time of the concentration map "
                                                                              "since the start of the run"})
    ds["c_e_map"] = ((MAP_SAMPLE, "map_y", "map_x"), np.array([m for _, m in maps]),
                     {"units": "mol m-3",
                      "long_name": "electrolyte concentration in a 2D section (tortuosity of disks "
                                   "several times 3D; NaN: particle, air or separator-free region)",
                      "caveat": caveat})
    ds["map_depth_of_discharge"] = (MAP_SAMPLE, q_map / theoretical_C_m2,
                                    {"units": "1", "long_name": "charge passed / theoretical capacity at the map"})
    return ds


class VTXOutput:
    """VTX (ADIOS2) files of the electrolyte and particle fields, for ParaView."""

    def __init__(self, model, folder: str) -> None:
        from pathlib import Path

        from layerlab.fe import dolfinx
        Path(folder).mkdir(parents=True, exist_ok=True)
        comm = model.comm
        ce, phie, s, phis = model.u
        groups = [("electrolyte.bp", [ce, phie]), ("particles.bp", [s, phis])]
        if model.ph.binder:        # phi_s on the conductor (particles + pores): its own file
            groups = [groups[0], ("particles.bp", [s]), ("solid_potential.bp", [phis])]
        self.writers = [dolfinx.io.VTXWriter(comm, str(Path(folder) / name), fields, engine="BP4")
                        for name, fields in groups]

    def write(self, t_s: float) -> None:
        for w in self.writers:
            w.write(t_s)

    def close(self) -> None:
        for w in self.writers:
            w.close()
