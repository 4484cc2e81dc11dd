"""The per-run netCDF dataset of a DFN protocol run (CF attributes on every variable)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.protocols import ProtocolResult
from layerlab.units import MAH_G_TO_C_KG


def _var(dims: tuple[str, ...], data: Any, units: str, long_name: str, **attrs: Any) -> tuple:
    return dims, np.asarray(data), {"units": units, "long_name": long_name, **attrs}


def protocol_dataset(model: DFNModel, result: ProtocolResult, attrs: Mapping[str, Any] | None = None):
    """Time series, capacities per C-rate and depth profiles of one run as an xarray Dataset."""
    import xarray as xr
    cath = model.cell.cathode
    mass = cath.active_mass_kg_m2
    t, V, I, Q, seg = [], [], [], [], []
    profiles: list[dict] = []
    for k, tr in enumerate(result.traces):
        t += tr.t_s
        V += tr.voltage_V
        I += tr.current_A_m2
        Q += tr.charge_C_m2
        seg += [k] * len(tr.t_s)
        profiles += tr.profiles
    seg_arr = np.array(seg)
    Q_arr = np.array(Q)
    seg_start = np.array([result.traces[k].charge_C_m2[0] for k in seg])
    seg_cap = np.abs(Q_arr - seg_start)
    data: dict[str, tuple] = {
        "voltage": _var(("time",), V, "V", "cell voltage (cathode vs Li)"),
        "current_density": _var(("time",), I, "A m-2", "current density, discharge positive"),
        "charge": _var(("time",), Q_arr, "C m-2", "net charge passed since the start (discharge positive)"),
        "segment": _var(("time",), seg_arr, "1", "index of the protocol step",
                        flag_values=list(range(len(result.segments))),
                        flag_meanings=" ".join(s.label.replace(" ", "_") for s in result.segments)),
    }
    if mass:
        data["capacity"] = _var(("time",), seg_cap / mass / MAH_G_TO_C_KG, "mAh g-1",
                                "charge passed within the current protocol step per active mass")
    else:
        data["capacity"] = _var(("time",), seg_cap, "C m-2", "charge passed within the current protocol step")
    coords: dict[str, Any] = {"time": ("time", np.array(t), {"units": "s", "long_name": "time", "standard_name": "time"})}
    if result.discharge_c_rates:
        coords["c_rate"] = ("c_rate", np.array(result.discharge_c_rates), {"units": "h-1", "long_name": "discharge C-rate"})
        qd = np.array(result.discharge_capacity_C_m2)
        qc = np.array(result.charge_capacity_C_m2)
        if mass:
            data["discharge_capacity"] = _var(("c_rate",), qd / mass / MAH_G_TO_C_KG, "mAh g-1",
                                              "discharge capacity per active mass")
            data["charge_capacity"] = _var(("c_rate",), qc / mass / MAH_G_TO_C_KG, "mAh g-1",
                                           "CC-CV charge capacity before each discharge per active mass")
        data["discharge_capacity_areal"] = _var(("c_rate",), qd, "C m-2", "discharge capacity per electrode area")
    if profiles:
        z = profiles[0]["z"]
        coords["depth"] = ("depth", z, {"units": "m", "long_name":
                                        "depth from the current collector (separator beyond the electrode thickness)"})
        coords["population"] = ("population", np.array(list(model.pops)), {"long_name": "particle population"})
        stack = lambda key: np.array([p[key] for p in profiles])  # noqa: E731
        data["electrolyte_concentration"] = _var(("time", "depth"), stack("c_e"), "mol m-3",
                                                 "electrolyte salt concentration")
        data["electrolyte_potential"] = _var(("time", "depth"), stack("phi_e"), "V",
                                             "electrolyte potential vs the Li foil")
        data["solid_potential"] = _var(("time", "depth"), stack("phi_s"), "V", "solid-phase potential")
        cmax = model.cell.params.positive.max_concentration_mol_m3
        present = np.array([profiles[0][f"present_{p}"] for p in model.pops])
        surf = np.array([[p[f"sto_surf_{pop}"] for pop in model.pops] for p in profiles]) * cmax
        jj = np.array([[p[f"j_{pop}"] for pop in model.pops] for p in profiles])
        avg = np.array([[p[f"sto_avg_{pop}"] for pop in model.pops] for p in profiles]) * cmax
        mask = np.broadcast_to(~present[None], surf.shape)
        data["surface_concentration"] = _var(("time", "population", "depth"), np.where(mask, np.nan, surf),
                                             "mol m-3", "particle surface concentration (NaN: population absent)")
        data["mean_particle_concentration"] = _var(("time", "population", "depth"), np.where(mask, np.nan, avg),
                                                   "mol m-3", "volume-averaged particle concentration")
        data["reaction_current"] = _var(("time", "population", "depth"), np.where(mask, np.nan, jj),
                                        "A m-2", "reaction current per particle surface, anodic positive")
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    ds.attrs["title"] = "DFN half-cell run (layerlab.electrochem)"
    ds.attrs["segment_end_reasons"] = "; ".join(f"{s.label}: {tr.end_reason}"
                                                for s, tr in zip(result.segments, result.traces))
    return ds
