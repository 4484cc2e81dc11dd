"""The per-run netCDF datasets of DFN protocol runs (CF attributes on every variable): a rate test
(:func:`protocol_dataset`) and a cycling run (:func:`cycling_dataset`, full-cell ageing)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from layerlab.cfnames import DISTANCE, PROTOCOL_TIME, PROTOCOL_TIME_ATTRS, SAMPLE
from layerlab.electrochem.dfn import DFNModel
from layerlab.electrochem.protocols import ProtocolResult
from layerlab.units import MAH_G_TO_C_KG


def _var(dims: tuple[str, ...], data: Any, units: str, long_name: str, **attrs: Any) -> tuple:
    return dims, np.asarray(data), {"units": units, "long_name": long_name, **attrs}


def protocol_dataset(model: DFNModel, result: ProtocolResult, attrs: Mapping[str, Any] | None = None):
    """Time series (over ``sample``, with ``protocol_time``), capacities per C-rate and profiles through
    the thickness (over ``distance_from_collector``) of one run as an xarray Dataset."""
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
        "voltage": _var((SAMPLE,), V, "V", "terminal cell voltage (full cell: cathode vs graphite)"
                        if model.cell.anode is not None else "cell voltage (cathode vs Li)"),
        "current_density": _var((SAMPLE,), I, "A m-2", "current density, discharge positive"),
        "charge": _var((SAMPLE,), Q_arr, "C m-2", "net charge passed since the start (discharge positive)"),
        "segment": _var((SAMPLE,), seg_arr, "1", "index of the protocol step",
                        flag_values=list(range(len(result.segments))),
                        flag_meanings=" ".join(s.label.replace(" ", "_") for s in result.segments)),
    }
    if mass:
        data["capacity"] = _var((SAMPLE,), seg_cap / mass / MAH_G_TO_C_KG, "mA h g-1",
                                "charge passed within the current protocol step per active mass")
    else:
        data["capacity"] = _var((SAMPLE,), seg_cap, "C m-2", "charge passed within the current protocol step")
    data[PROTOCOL_TIME] = _var((SAMPLE,), t, **PROTOCOL_TIME_ATTRS)
    coords: dict[str, Any] = {}
    if result.discharge_c_rates:
        coords["c_rate"] = ("c_rate", np.array(result.discharge_c_rates), {"units": "h-1", "long_name": "discharge C-rate"})
        qd = np.array(result.discharge_capacity_C_m2)
        qc = np.array(result.charge_capacity_C_m2)
        if mass:
            data["discharge_capacity"] = _var(("c_rate",), qd / mass / MAH_G_TO_C_KG, "mA h g-1",
                                              "discharge capacity per active mass")
            data["charge_capacity"] = _var(("c_rate",), qc / mass / MAH_G_TO_C_KG, "mA h g-1",
                                           "CC-CV charge capacity before each discharge per active mass")
        data["discharge_capacity_areal"] = _var(("c_rate",), qd, "C m-2", "discharge capacity per electrode area")
    if profiles:
        z = profiles[0]["z"]
        coords[DISTANCE] = (DISTANCE, z, {"units": "m", "long_name": "distance from the current collector "
                                                                     "(separator beyond the electrode thickness)"})
        coords["population"] = ("population", np.array(list(model.pops)), {"long_name": "particle population"})
        stack = lambda key: np.array([p[key] for p in profiles])  # noqa: E731
        data["electrolyte_concentration"] = _var((SAMPLE, DISTANCE), stack("c_e"), "mol m-3",
                                                 "electrolyte salt concentration")
        data["electrolyte_potential"] = _var((SAMPLE, DISTANCE), stack("phi_e"), "V",
                                             "electrolyte potential vs the Li foil")
        data["solid_potential"] = _var((SAMPLE, DISTANCE), stack("phi_s"), "V", "solid-phase potential")
        cmax = model.cell.params.positive.max_concentration_mol_m3
        present = np.array([profiles[0][f"present_{p}"] for p in model.pops])
        surf = np.array([[p[f"sto_surf_{pop}"] for pop in model.pops] for p in profiles]) * cmax
        jj = np.array([[p[f"j_{pop}"] for pop in model.pops] for p in profiles])
        avg = np.array([[p[f"sto_avg_{pop}"] for pop in model.pops] for p in profiles]) * cmax
        mask = np.broadcast_to(~present[None], surf.shape)
        data["surface_concentration"] = _var((SAMPLE, "population", DISTANCE), np.where(mask, np.nan, surf),
                                             "mol m-3", "particle surface concentration (NaN: population absent)")
        data["mean_particle_concentration"] = _var((SAMPLE, "population", DISTANCE), np.where(mask, np.nan, avg),
                                                   "mol m-3", "volume-averaged particle concentration")
        data["reaction_current"] = _var((SAMPLE, "population", DISTANCE), np.where(mask, np.nan, jj),
                                        "A m-2", "reaction current per particle surface, anodic positive")
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    ds.attrs["title"] = ("DFN full-cell run (layerlab.electrochem)" if model.cell.anode is not None
                         else "DFN half-cell run (layerlab.electrochem)")
    ds.attrs["segment_end_reasons"] = "; ".join(f"{s.label}: {tr.end_reason}"
                                                for s, tr in zip(result.segments, result.traces))
    return ds


def _discharge_indices(result: ProtocolResult) -> list[int]:
    """Index of the CC discharge trace of every cycle."""
    return [k for k, s in enumerate(result.segments) if s.label.startswith("discharge")]


def cycling_dataset(model: DFNModel, result: ProtocolResult, curve_cycles: Sequence[int] = (),
                    points: int = 100):
    """Discharge capacity, retention and lithium lost per cycle, and discharge curves of some cycles.

    curve_cycles : 1-based cycle numbers whose discharge voltage-vs-capacity curves are kept
    (resampled to ``points`` points of equal charge); those beyond the run are skipped.
    """
    import xarray as xr
    mass = model.cell.cathode.active_mass_kg_m2
    scale, unit = (1.0 / (mass * MAH_G_TO_C_KG), "mA h g-1") if mass else (1.0, "C m-2")
    qd = np.array(result.discharge_capacity_C_m2) * scale
    n = len(qd)
    idx = _discharge_indices(result)
    inv = np.array([result.traces[k].inventory_mol_m2[-1] for k in idx])
    inv0 = result.traces[0].inventory_mol_m2[0]
    mean_V = []
    for k in idx:
        tr = result.traces[k]
        q = np.abs(np.array(tr.charge_C_m2) - tr.charge_C_m2[0])
        mean_V.append(float(np.trapezoid(tr.voltage_V, q) / q[-1]) if q[-1] > 0 else np.nan)
    data: dict[str, tuple] = {
        "discharge_capacity_cycle": _var(("cycle",), qd, unit, "discharge capacity per cycle per cathode active mass"),
        "capacity_retention": _var(("cycle",), qd / qd[0], "1", "discharge capacity relative to the first cycle"),
        "charge_capacity_cycle": _var(("cycle",), np.array(result.charge_capacity_C_m2) * scale, unit,
                                      "CC-CV charge capacity per cycle per cathode active mass"),
        "mean_discharge_voltage": _var(("cycle",), np.array(mean_V), "V",
                                       "charge-weighted mean terminal voltage of each discharge"),
        "lithium_inventory_loss": _var(("cycle",), 1.0 - inv / inv0, "1",
                                       "cyclable lithium lost (both electrodes + electrolyte) at the end of "
                                       "each discharge, relative to the start"),
    }
    coords: dict[str, Any] = {"cycle": ("cycle", np.arange(1, n + 1), {"units": "1", "long_name": "cycle number"})}
    keep = [c for c in curve_cycles if 1 <= c <= n]
    if keep:
        V = np.full((len(keep), points), np.nan)
        Q = np.full((len(keep), points), np.nan)
        for i, c in enumerate(keep):
            tr = result.traces[idx[c - 1]]
            q = np.abs(np.array(tr.charge_C_m2) - tr.charge_C_m2[0]) * scale
            Q[i] = np.linspace(0.0, q[-1], points)
            V[i] = np.interp(Q[i], q, tr.voltage_V)
        coords["curve_cycle"] = ("curve_cycle", np.array(keep), {"units": "1", "long_name": "cycle of the curve"})
        data["curve_capacity"] = _var(("curve_cycle", "curve_point"), Q, unit, "discharge capacity along the curve")
        data["curve_voltage"] = _var(("curve_cycle", "curve_point"), V, "V", "terminal voltage along the discharge")
    return xr.Dataset(data, coords=coords)
