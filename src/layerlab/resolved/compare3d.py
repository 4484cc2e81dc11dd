"""Resolved 3D half cells beside the DFN on the same designs: metrics, campaign dataset, figures.

Per case (one ``resolve3d`` run with ``--packing`` and a DFN run of the same design and experiment:
the discharge from rest at the OCP of ``v_max_V``, ``electrochem.protocol.charge: rest``; a rate
test's discharge at ``c_rate`` is read the same way, but starts from what its charge left):

* ``capacity_mAh_g``: the 1C discharge capacity per active mass to the resolved run's cut-off
  (resolved: of the modelled particles; DFN: its discharge read at the same voltage; every DFN
  metric is taken over that part of the discharge);
* ``ce_spread_mol_m3``: the largest difference of the depth-averaged electrolyte concentration
  over the cell (electrode + separator) at any output time of the discharge;
* ``top_bottom_utilisation``: mean stoichiometry change of the separator-side half of the
  electrode over that of the collector-side half (the reaction distribution through the
  thickness: 1 uniform, > 1 front-loaded);
* ``utilisation_L`` / ``utilisation_S``: mean stoichiometry change of the L / S particles during
  the discharge (resolved: volume mean over the spheres of the packing's population; DFN: each population's mean particle concentration averaged over the depths where it is
  present, equal weights per DFN cell).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from layerlab.cases import parse_case
from layerlab.cfnames import DISTANCE, PROTOCOL_TIME, upgrade_legacy

METRICS = {
    "capacity_mAh_g": ("mA h g-1", "1C discharge capacity per active mass"),
    "ce_spread_mol_m3": ("mol m-3", "largest depth spread of the electrolyte concentration during the discharge"),
    "top_bottom_utilisation": ("1", "stoichiometry change of the separator-side half over the collector-side half"),
    "utilisation_L": ("1", "mean stoichiometry change of the L particles during the discharge"),
    "utilisation_S": ("1", "mean stoichiometry change of the S particles during the discharge"),
}
MODELS = ("resolved", "dfn")


def _halves(depth: np.ndarray, ds_profile: np.ndarray) -> float:
    """Mean of the upper half of the electrode's depth bins over that of the lower half."""
    ok = np.isfinite(ds_profile)
    d, v = depth[ok], ds_profile[ok]
    mid = 0.5 * (d.min() + d.max())
    return float(np.mean(v[d > mid]) / np.mean(v[d <= mid]))


def discharge_end_voltage(ds) -> float:
    """Voltage at the end of a resolved run's discharge segment (its cut-off), V."""
    dis = ds["segment_label"].values.tolist().index("discharge")
    return float(ds["voltage"].values[ds["segment"].values == dis][-1])


def resolved_metrics(ds) -> dict[str, float]:
    """Metrics of one resolved run (a ``resolve3d`` dataset with particle variables)."""
    dis = ds["segment_label"].values.tolist().index("discharge")
    t_end = float(ds[PROTOCOL_TIME].values[ds["segment"].values == dis].max())
    pt = ds["profile_time"].values <= t_end + 1e-9
    ce = ds["c_e"].values[pt]
    st = ds["stoichiometry"].values[pt]
    s0 = float(ds.attrs["initial_stoichiometry"])
    pop = ds["particle_population"].values.astype(str)
    w = ds["particle_volume"].values
    dsp = ds["particle_end_stoichiometry"].values - s0

    def mean(name: str) -> float:
        m = pop == name
        return float(np.sum(w[m] * dsp[m]) / np.sum(w[m])) if np.any(m) else float("nan")

    return {"capacity_mAh_g": float(ds.attrs["discharge_capacity_mAh_g"]),
            "ce_spread_mol_m3": float(np.nanmax(np.nanmax(ce, axis=1) - np.nanmin(ce, axis=1))),
            "top_bottom_utilisation": _halves(ds[DISTANCE].values, st[-1] - s0),
            "utilisation_L": mean("L"), "utilisation_S": mean("S")}


def discharge_samples(ds, c_rate: float = 1.0) -> np.ndarray:
    """Sample indices of a DFN protocol dataset's discharge: its only one, else the one at ``c_rate``."""
    meanings = ds["segment"].attrs["flag_meanings"].split()
    discharges = [m for m in meanings if m.startswith("discharge_")]
    k = meanings.index(discharges[0] if len(discharges) == 1 else f"discharge_{c_rate:g}C")
    return np.flatnonzero(ds["segment"].values == k)


def dfn_metrics(ds, cmax_mol_m3: float, v_cut_V: float, c_rate: float = 1.0) -> dict[str, float]:
    """Metrics of the DFN's discharge (a protocol dataset: :func:`discharge_samples`), up to the first
    time its voltage reaches ``v_cut_V`` (the resolved run's cut-off)."""
    idx = discharge_samples(ds, c_rate)
    v = ds["voltage"].values[idx]
    below = np.flatnonzero(v <= v_cut_V)
    n = below[0] if len(below) else len(idx) - 1                # last index kept
    q = ds["capacity"].values[idx]
    if len(below) and n > 0:                                    # interpolate the charge at the cut-off
        cap = float(np.interp(v_cut_V, [v[n], v[n - 1]], [q[n], q[n - 1]]))
    else:
        cap = float(q[n])
    sel = idx[: n + 1]
    ce = ds["electrolyte_concentration"].values[sel]
    mpc = ds["mean_particle_concentration"].values[sel]          # (sample, population, distance)
    dsto = (mpc[-1] - mpc[0]) / cmax_mol_m3                            # (population, distance)
    pops = [str(p) for p in ds["population"].values]
    depth = ds[DISTANCE].values
    total = np.nansum(np.where(np.isfinite(dsto), dsto, 0.0), axis=0) / np.maximum(
        np.sum(np.isfinite(dsto), axis=0), 1)
    present = np.any(np.isfinite(dsto), axis=0)
    return {"capacity_mAh_g": cap,
            "ce_spread_mol_m3": float(np.nanmax(np.nanmax(ce, axis=1) - np.nanmin(ce, axis=1))),
            "top_bottom_utilisation": _halves(depth[present], total[present]),
            "utilisation_L": float(np.nanmean(dsto[pops.index("L")])) if "L" in pops else float("nan"),
            "utilisation_S": float(np.nanmean(dsto[pops.index("S")])) if "S" in pops else float("nan")}


def compare(resolved: Sequence[str], dfn: Sequence[str]):
    """Campaign dataset (case x model) of the metrics; ``dfn[i]`` is the DFN run of ``resolved[i]``'s design."""
    import xarray as xr

    cases, rows = [], {m: [] for m in MODELS}
    for rpath, dpath in zip(resolved, dfn):
        with xr.open_dataset(rpath, engine="h5netcdf") as r, xr.open_dataset(dpath, engine="h5netcdf") as d:
            r, d = upgrade_legacy(r), upgrade_legacy(d)
            rows["resolved"].append(resolved_metrics(r))
            rows["dfn"].append(dfn_metrics(d, float(r.attrs["particle_max_concentration_mol_m3"]),
                                           discharge_end_voltage(r)))
            cases.append(str(r.attrs.get("case", Path(rpath).stem)))
    data = {name: (("case", "model"), np.array([[rows[m][i][name] for m in MODELS] for i in range(len(cases))]),
                   {"units": u, "long_name": ln}) for name, (u, ln) in METRICS.items()}
    return xr.Dataset(data, coords={
        "case": ("case", np.array(cases), {"long_name": "case (design and packing seed)"}),
        "model": ("model", np.array(MODELS), {"long_name": "resolved 3D half cell or DFN"})},
        attrs={"title": "resolved 3D half cells beside the DFN on the same designs (layerlab.resolved)"})


def table_csv(ds) -> str:
    """The campaign dataset as CSV: one row per case, resolved and DFN columns side by side."""
    cols = [f"{name}_{m}" for name in METRICS for m in MODELS]
    lines = ["case," + ",".join(cols)]
    for i, case in enumerate(ds["case"].values):
        vals = [ds[name].values[i, j] for name in METRICS for j in range(len(MODELS))]
        lines.append(f"{case}," + ",".join(f"{v:.6g}" for v in vals))
    return "\n".join(lines) + "\n"


def figure(rpath: str, dpath: str, out: str) -> None:
    """c_e through the thickness during the 1C discharge (resolved vs DFN, like the paper's Fig. 6) and
    particle utilisation by depth and size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    from layerlab.figures.plots import save_figure

    with xr.open_dataset(rpath, engine="h5netcdf") as r, xr.open_dataset(dpath, engine="h5netcdf") as d:
        r, d = upgrade_legacy(r), upgrade_legacy(d)
        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6))
        dis = r["segment_label"].values.tolist().index("discharge")
        t_end = float(r[PROTOCOL_TIME].values[r["segment"].values == dis].max())
        times = r["profile_time"].values
        idx = discharge_samples(d)
        below = np.flatnonzero(d["voltage"].values[idx] <= discharge_end_voltage(r))
        sel = idx[: below[0] + 1] if len(below) else idx
        td = d[PROTOCOL_TIME].values[sel] - d[PROTOCOL_TIME].values[sel][0]
        ced = d["electrolyte_concentration"].values[sel]
        picks = [i for i in range(len(times)) if times[i] <= t_end + 1e-9]
        picks = sorted(set(picks[:: max(1, len(picks) // 4)] + [picks[-1]]))
        for n, i in enumerate(picks):
            col = plt.cm.viridis(n / max(len(picks) - 1, 1))
            a.plot(r[DISTANCE].values * 1e6, r["c_e"].values[i], color=col, label=f"{times[i]:.0f} s")
            j = int(np.argmin(np.abs(td - times[i])))
            a.plot(d[DISTANCE].values * 1e6, ced[j], "--", color=col)
        a.set(xlabel="distance from the current collector (um)", ylabel="c_e (mol/m3)",
              title="c_e through the thickness (solid: resolved 3D, dashed: DFN)")
        a.legend(fontsize=7)
        s0 = float(r.attrs["initial_stoichiometry"])
        rad = r["particle_radius"].values * 1e6
        sc = b.scatter(r["particle_depth"].values * 1e6, r["particle_end_stoichiometry"].values - s0, c=rad,
                       s=6 + 2 * rad, cmap="coolwarm", alpha=0.7)
        fig.colorbar(sc, ax=b, label="particle radius (um)")
        mpc = d["mean_particle_concentration"].values[sel]
        cmax = float(r.attrs["particle_max_concentration_mol_m3"])
        for p, pop in enumerate(d["population"].values):
            b.plot(d[DISTANCE].values * 1e6, (mpc[-1, p] - mpc[0, p]) / cmax, "k--" if str(pop) == "L" else "k:",
                   label=f"DFN, {pop} particles")
        b.set(xlabel="distance from the current collector (um)", ylabel="stoichiometry change in the discharge",
              title="utilisation by depth and size (dots: resolved spheres)")
        b.legend(fontsize=7)
        a.title.set_fontsize(10)
        b.title.set_fontsize(10)
        fig.suptitle(f"{parse_case(str(r.attrs.get('case', Path(rpath).stem))).name}: resolved 3D vs DFN, 1C "
                     f"to {discharge_end_voltage(r):.2f} V", fontsize=11)
        save_figure(fig, out)
        plt.close(fig)
