"""Switchable physical mechanisms: named transformations of one case's DFN input.

A standard DFN (Bruggeman transport, literature NMC811 parameters) does not give the paper's
orderings (NOTES.md, PyBaMM study).  Each mechanism below changes the DFN input of a case in one
documented, physically grounded way; ``mechanisms.active`` in the config lists those switched on
(default none: the input is exactly today's).  Order of application (fixed):

``intermixing``
    The no-drying architectures L-S / S-L have an intermixed band (half L, half S by active
    volume) at the layer boundary.  Off: the band of the top-level ``band_width_um`` (the design
    default).  On: ``band_width_um`` of the mechanism (e.g. one L diameter into each layer).
``transport``
    Electrolyte tortuosity factor per layer instead of Bruggeman ``eps**-0.5``:
    ``model: bruggeman``: ``tau = cbd_factor eps**(1 - exponent)`` (exponent 1.78-1.93 measured
    with TauFactor on overlapping-sphere packings here; carbon-binder domain raises tau by
    1.35-1.81x, Usseglio-Viretta et al., JES 165 (2018) A3403); ``model: values``: given per layer;
    ``model: stage``: read from the effective-transport stage (through-plane ``tortuosity_factor``
    of the single-size / mixed reference packings at the case's porosity, mean over seeds).
``electronic``
    Composite electronic conductivity of the 2 wt% carbon electrode instead of the bulk NMC value
    of the parameter file: ``model: value`` (a stated value with its source) or ``model:
    percolation``: ``sigma = sigma_C ((phi_C - phi_c) / (1 - phi_c))**t`` with the carbon volume
    fraction ``phi_C`` of the design (Kirkpatrick, Rev. Mod. Phys. 45 (1973) 574; t = 2 in 3D).
    The value is the effective conductivity of the electrode (the parameter file's
    ``bruggeman_electrode`` is 0, so the DFN uses it as is).  ``model: stage``: per layer from the
    electronic network stage (:mod:`layerlab.network`): the through-plane conductivity of the L-only
    (layer L), S-only (S) and mixed (``mix`` at the design's L share; the intermixed ``band`` gets the
    1:1 mixed value) reference packings at the case's porosity, mean over seeds, at the interfacial
    resistance ``r_c_ohm_m2`` (the one scale parameter; the resistivity is interpolated linearly in
    r_c between the stage's computed values).  It sets ``LayerSpec.electronic_conductivity_S_m``.
``contact_resistance``
    Series resistance at the current collector, ohm m2 (parameter
    ``positive.contact_resistance_ohm_m2``, passed as an override).
``nmc83``
    Solid diffusivity and exchange-current coefficient of NMC83 instead of NMC811 (no published
    NMC83 set exists: the values carry their source, or are fitted by ``layerlab calibrate``).
``wetting``
    Incomplete wetting from the wetting stage: the steady air fraction of the pore space per
    depth, ``a(z)`` (``air_fraction_profile`` over ``distance_from_collector`` of ``<runs_dir>/<case>_seed*.nc``,
    mean over seeds, mapped on the relative depth ``z / H``, regrouped into ``bins`` equal slabs)
    splits the layers into sub-layers with ``eps -> eps (1 - a)`` (electrolyte volume) and active
    fraction ``-> x (1 - a)`` (dry particles do not react); inactive solids and explicit
    tortuosities are kept, the active mass (and so 1C and mAh/g) refers to all the material.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from layerlab.cfnames import DISTANCE, upgrade_legacy
from layerlab.cases import Case, parse_case
from layerlab.design import ElectrodeDesign
from layerlab.electrochem.cell import CathodeSpec, LayerSpec
from layerlab.electrochem.parameters import ParameterSet
from layerlab.errors import require
from layerlab.units import UM_TO_M

log = logging.getLogger("layerlab.electrochem")

MECHANISMS: tuple[str, ...] = ("transport", "electronic", "wetting", "intermixing", "contact_resistance", "nmc83")
"""Names of the switchable mechanisms."""

PARAMETER_OWNERS: dict[str, tuple[str, str]] = {
    "positive.electronic_conductivity_S_m": ("electronic", "conductivity_S_m"),
    "positive.diffusivity_m2_s": ("nmc83", "diffusivity_m2_s"),
    "positive.exchange_current_coefficient": ("nmc83", "exchange_current_coefficient"),
    "positive.contact_resistance_ohm_m2": ("contact_resistance", "resistance_ohm_m2"),
}
"""Parameter (``section.key``) -> (mechanism, its setting) for the parameters a mechanism sets."""


def check_names(names: Sequence[str], field: str) -> tuple[str, ...]:
    """The mechanism names, checked (unknown or repeated names raise InputError at ``field[i]``)."""
    out: list[str] = []
    for i, name in enumerate(names):
        require(name in MECHANISMS, f"{field}[{i}]", f"unknown mechanism {name!r}", ", ".join(MECHANISMS))
        require(name not in out, f"{field}[{i}]", f"{name!r} listed twice", "each mechanism once")
        out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class Applied:
    """The transformed inputs of one case and what each active mechanism did."""

    design: ElectrodeDesign
    params: ParameterSet
    cathode: CathodeSpec
    record: dict[str, str]


def _section(mech: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict(mech.get(name) or {})


def _results(config: Mapping[str, Any], given: str | None, stage: str) -> Path:
    from layerlab.io import input_path
    return input_path(given) if given else input_path(Path(config.get("results_dir", "results")) / "runs" / stage)


# ---- parameter mechanisms --------------------------------------------------------------------------
def electronic_conductivity_S_m(settings: Mapping[str, Any], design: ElectrodeDesign) -> tuple[float, str]:
    """Composite conductivity of the design and a sentence saying where it comes from."""
    f = "mechanisms.electronic"
    model = settings.get("model", "value")
    if model == "value":
        sigma = settings.get("conductivity_S_m")
        require(sigma is not None and sigma > 0, f"{f}.conductivity_S_m", f"got {sigma!r}", "> 0 S/m")
        return float(sigma), f"sigma_s = {sigma:g} S/m ({settings.get('source', 'no source given')})"
    require(model == "percolation", f"{f}.model", f"got {model!r}", "value, percolation, stage")
    perc = dict(settings.get("percolation") or {})
    sig_c, phi_c, t = (perc.get(k) for k in ("carbon_conductivity_S_m", "threshold_volume_fraction", "exponent"))
    require(sig_c is not None and sig_c > 0, f"{f}.percolation.carbon_conductivity_S_m", f"got {sig_c!r}", "> 0")
    require(phi_c is not None and 0 <= phi_c < 1, f"{f}.percolation.threshold_volume_fraction",
            f"got {phi_c!r}", "[0, 1)")
    t = 2.0 if t is None else float(t)
    m = design.materials
    phi = (1 - design.porosity) * (m.mass_fraction_carbon / m.density_carbon_kg_m3) / m.specific_volume_m3_kg
    require(phi > phi_c, f"{f}.percolation.threshold_volume_fraction",
            f"carbon volume fraction {phi:.4f} of this design is below the threshold {phi_c:g}: no path",
            "a threshold below the design's carbon volume fraction")
    sigma = sig_c * ((phi - phi_c) / (1 - phi_c)) ** t
    return sigma, (f"sigma_s = {sigma:.4g} S/m (percolation: carbon volume fraction {phi:.4f}, threshold {phi_c:g}, "
                   f"sigma_C {sig_c:g} S/m, exponent {t:g})")


def mechanism_overrides(active: Sequence[str], mech: Mapping[str, Any], params: ParameterSet,
                        design: ElectrodeDesign) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """``{section: {key: value}}`` parameter overrides of the active parameter mechanisms."""
    over: dict[str, dict[str, float]] = {}
    rec: dict[str, str] = {}
    if "electronic" in active and _section(mech, "electronic").get("model") != "stage":
        sigma, rec["electronic"] = electronic_conductivity_S_m(_section(mech, "electronic"), design)
        over.setdefault("positive", {})["electronic_conductivity_S_m"] = sigma
    if "nmc83" in active:
        s = _section(mech, "nmc83")
        vals = {k: s.get(k) for k in ("diffusivity_m2_s", "exchange_current_coefficient")}
        require(any(v is not None for v in vals.values()), "mechanisms.nmc83",
                "neither diffusivity_m2_s nor exchange_current_coefficient is set",
                "a value with its source (or fitted by layerlab calibrate); null keeps the NMC811 value")
        for k, v in vals.items():
            require(v is None or v > 0, f"mechanisms.nmc83.{k}", f"got {v!r}", "> 0 or null")
        set_vals = {k: float(v) for k, v in vals.items() if v is not None}
        over.setdefault("positive", {}).update(set_vals)
        rec["nmc83"] = (", ".join(f"{k} = {v:g}" for k, v in set_vals.items())
                        + f" ({s.get('source', 'no source given')})")
    if "contact_resistance" in active:
        r = _section(mech, "contact_resistance").get("resistance_ohm_m2")
        require(r is not None and r >= 0, "mechanisms.contact_resistance.resistance_ohm_m2", f"got {r!r}", ">= 0")
        known = {f.name for f in dataclasses.fields(params.positive)}
        require("contact_resistance_ohm_m2" in known, "mechanisms.contact_resistance",
                f"parameter set {params.name!r} has no positive.contact_resistance_ohm_m2",
                "a parameter set and DFN with a contact resistance")
        over.setdefault("positive", {})["contact_resistance_ohm_m2"] = float(r)
        rec["contact_resistance"] = f"R_contact = {r:g} ohm m2"
    return over, rec


# ---- transport -----------------------------------------------------------------------------------
def layer_tortuosity(settings: Mapping[str, Any], design: ElectrodeDesign, config: Mapping[str, Any]
                     ) -> tuple[dict[str, float], str]:
    """Tortuosity factor per layer name of the design and a description."""
    f = "mechanisms.transport"
    model = settings.get("model", "bruggeman")
    names = sorted({lay.name for lay in design.layers})
    if model == "bruggeman":
        b, k = float(settings.get("exponent", 1.85)), float(settings.get("cbd_factor", 1.35))
        require(b >= 1, f"{f}.exponent", f"got {b!r}", ">= 1")
        require(k >= 1, f"{f}.cbd_factor", f"got {k!r}", ">= 1")
        taus = {lay.name: k * lay.porosity ** (1 - b) for lay in design.layers}
        return taus, f"tau = {k:g} eps^(1 - {b:g}): " + ", ".join(f"{n} {taus[n]:.3f}" for n in names)
    if model == "values":
        given = {str(a): float(v) for a, v in dict(settings.get("tortuosity") or {}).items()}
        taus = {}
        for n in names:
            v = given.get(n, given.get("all"))
            require(v is not None, f"{f}.tortuosity.{n}", "no value for this layer",
                    "a tortuosity factor >= 1 (or 'all')")
            require(v >= 1, f"{f}.tortuosity.{n}", f"got {v!r}", ">= 1")
            taus[n] = v
        return taus, "tau given: " + ", ".join(f"{n} {taus[n]:.3f}" for n in names)
    require(model == "stage", f"{f}.model", f"got {model!r}", "bruggeman, values, stage")
    return _stage_tortuosity(settings, design, config, names)


def _stage_tortuosity(settings, design, config, names) -> tuple[dict[str, float], str]:
    import xarray as xr
    f = "mechanisms.transport"
    runs = _results(config, settings.get("runs_dir"), "transport")
    ref_load = float(settings.get("reference_loading_mg_cm2", 22.0))
    seeds = list(settings.get("seeds") or config.get("geometry", {}).get("seeds", [0]))
    direction = settings.get("direction", "z")
    share = {"L": 1.0, "S": 0.0, "band": 0.5, "mix": design.ls_ratio}
    taus, used = {}, []
    for n in names:
        ref = Case("Mix", ref_load, design.porosity, share[n])
        vals = []
        for s in seeds:
            path = runs / f"{ref.with_seed(s).name}.nc"
            require(path.is_file(), f"{f}.runs_dir", f"no transport run {str(path)!r} for layer {n!r}",
                    "run the transport stage for the reference packings (Mix at ls 1, 0, 0.5)")
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                require("tortuosity_factor" in ds, f"{f}.runs_dir", f"{path} has no 'tortuosity_factor'",
                        "a transport-stage netCDF")
                vals.append(float(ds["tortuosity_factor"].sel(layer="mix", direction=direction)))
        tau = float(np.mean(vals))
        require(np.isfinite(tau) and tau >= 1, f"{f}.runs_dir", f"tortuosity {tau!r} from {ref.name}", ">= 1")
        taus[n] = tau
        used.append(f"{n} {tau:.3f} ({ref.name}, {len(vals)} seeds)")
    return taus, "tau from the transport stage: " + ", ".join(used)


# ---- electronic network (stage) -------------------------------------------------------------------
REFERENCE_SHARE = {"L": 1.0, "S": 0.0, "band": 0.5}
"""L share of the reference packing of each layer name (``mix``: the design's own L share)."""


def _reference_case(layer: str, design_or_case: Any, load: float, porosity: float) -> Case:
    share = REFERENCE_SHARE.get(layer, design_or_case.ls_ratio)
    return Case("Mix", load, porosity, share)


def resistivity_at(r_c_grid: np.ndarray, sigma: np.ndarray, r_c: float, field: str) -> float:
    """Conductivity at ``r_c``: resistivity ``1 / sigma`` interpolated linearly in r_c on the stage's grid."""
    grid = np.asarray(r_c_grid, dtype=float)
    order = np.argsort(grid)
    grid, sig = grid[order], np.asarray(sigma, dtype=float)[order]
    require(bool(grid[0] <= r_c <= grid[-1]), field, f"got {r_c!r} ohm m2",
            f"within the network stage's r_c range [{grid[0]:g}, {grid[-1]:g}] (network.r_c_ohm_m2)")
    require(bool(np.all(np.isfinite(sig) & (sig > 0))), field, f"network conductivities {sig}",
            "> 0 (a percolating network)")
    return float(1.0 / np.interp(r_c, grid, 1.0 / sig))


def layer_electronic_conductivity(settings: Mapping[str, Any], design: ElectrodeDesign,
                                  config: Mapping[str, Any]) -> tuple[dict[str, float], str]:
    """Per-layer effective electronic conductivity from the network stage's reference runs."""
    import xarray as xr
    f = "mechanisms.electronic"
    r_c = settings.get("r_c_ohm_m2")
    require(isinstance(r_c, (int, float)) and np.isfinite(r_c) and r_c >= 0, f"{f}.r_c_ohm_m2", f"got {r_c!r}",
            "a finite interfacial resistance >= 0 ohm m2")
    runs = _results(config, settings.get("runs_dir"), "network")
    load = float(settings.get("reference_loading_mg_cm2", 22.0))
    seeds = list(settings.get("seeds") or config.get("geometry", {}).get("seeds", [0]))
    direction = settings.get("direction", "z")
    sig, used = {}, []
    for n in sorted({lay.name for lay in design.layers}):
        ref = _reference_case(n, design, load, design.porosity)
        vals = []
        for s in seeds:
            path = runs / f"{ref.with_seed(s).name}.nc"
            require(path.is_file(), f"{f}.runs_dir", f"no network run {str(path)!r} for layer {n!r}",
                    "run the network stage for the reference packings (Mix at ls 1, 0, 0.5)")
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                require("electronic_conductivity_electrode" in ds, f"{f}.runs_dir",
                        f"{path} has no 'electronic_conductivity_electrode'", "a network-stage netCDF")
                da = ds["electronic_conductivity_electrode"].sel(direction=direction)
                vals.append(resistivity_at(ds["r_c"].values, da.values, float(r_c), f"{f}.r_c_ohm_m2"))
        sig[n] = float(np.mean(vals))
        used.append(f"{n} {sig[n]:.4g} S/m ({ref.name}, {len(vals)} seeds)")
    return sig, f"sigma from the network stage at r_c = {float(r_c):g} ohm m2: " + ", ".join(used)


def with_layer_conductivity(cathode: CathodeSpec, sigma: Mapping[str, float]) -> CathodeSpec:
    """The cathode with ``electronic_conductivity_S_m`` set per layer name."""
    return dataclasses.replace(cathode, layers=tuple(
        dataclasses.replace(lay, electronic_conductivity_S_m=float(sigma[lay.name])) for lay in cathode.layers))


# ---- wetting -------------------------------------------------------------------------------------
def wetting_case(case: Case, settings: Mapping[str, Any]) -> Case:
    """The wetting-stage case whose steady air profile stands for ``case`` (``substitute`` mapping)."""
    sub = dict(settings.get("substitute") or {})
    arch = dict(sub.get("architecture") or {}).get(case.architecture, case.architecture)
    load = sub.get("loading_mg_cm2") or case.loading_mg_cm2
    por = sub.get("porosity") or case.porosity
    return Case(arch, float(load), float(por), case.ls_ratio)


def air_profile(settings: Mapping[str, Any], case: Case, config: Mapping[str, Any]
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """Bin edges in relative depth ``z / H`` (0 at the current collector) and the mean air fraction."""
    import xarray as xr
    f = "mechanisms.wetting"
    want = wetting_case(case, settings)
    runs = _results(config, settings.get("runs_dir"), "wetting")
    files = sorted(glob.glob(str(runs / f"{want.name}_seed*.nc")))
    require(len(files) > 0, f"{f}.runs_dir",
            f"no wetting run {want.name}_seed*.nc in {str(runs)!r} for case {case.name}",
            "run the wetting stage for this design, or map it with mechanisms.wetting.substitute")
    profiles = []
    for path in files:
        with xr.open_dataset(path, engine="h5netcdf") as raw:
            ds = upgrade_legacy(raw)
            got = parse_case(str(ds.attrs.get("case", "")))
            same = (got.architecture == want.architecture and np.isclose(got.loading_mg_cm2, want.loading_mg_cm2)
                    and np.isclose(got.porosity, want.porosity) and np.isclose(got.ls_ratio, want.ls_ratio))
            require(same, f"{f}.runs_dir", f"{path} holds design {got.with_seed(None).name}", f"design {want.name}")
            require("air_fraction_profile" in ds, f"{f}.runs_dir", f"{path} has no 'air_fraction_profile'",
                    "a wetting-stage netCDF")
            air = ds["air_fraction_profile"]
            require(air.dims == (DISTANCE,) and air.attrs.get("units") == "1", f"{f}.runs_dir",
                    f"{path}: air_fraction_profile dims {air.dims}, units {air.attrs.get('units')!r}",
                    f"a dimensionless profile over {DISTANCE!r}")
            depth = ds[DISTANCE].values.astype(float)
            h = 2.0 * depth[0]
            require(np.allclose(depth, h * (np.arange(len(depth)) + 0.5), rtol=1e-6), f"{f}.runs_dir",
                    f"{path}: {DISTANCE} is not the centres of equal bins from the current collector",
                    "equal bins")
            profiles.append((depth, air.values.astype(float)))
    n = len(profiles[0][0])
    require(all(len(d) == n for d, _ in profiles), f"{f}.runs_dir", "seeds have different depth bins", "equal bins")
    # equal bins: centres (k + 1/2) h -> relative edges k / n
    vals = np.nanmean(np.array([np.nan_to_num(a, nan=0.0) for _, a in profiles]), axis=0)
    require(np.all((vals >= 0) & (vals < 1)), f"{f}.runs_dir", f"air fractions {vals}", "[0, 1)")
    edges = np.linspace(0.0, 1.0, n + 1)
    bins = int(settings.get("bins", 5))
    require(1 <= bins, f"{f}.bins", f"got {bins!r}", ">= 1")
    if bins < n:  # regroup into `bins` equal slabs (mean of the fine bins, area-weighted)
        new_edges = np.linspace(0.0, 1.0, bins + 1)
        centres = 0.5 * (edges[:-1] + edges[1:])
        idx = np.clip(np.searchsorted(new_edges, centres, side="right") - 1, 0, bins - 1)
        vals = np.array([vals[idx == k].mean() for k in range(bins)])
        edges = new_edges
    src = f"{len(files)} seed(s) of {want.name}"
    return edges, vals, src


def wet_cathode(cathode: CathodeSpec, rel_edges: np.ndarray, air: np.ndarray) -> CathodeSpec:
    """Layers split at the profile's bins: ``eps (1 - a)``, active fractions ``x (1 - a)``.

    Adjacent pieces of one layer with the same air fraction stay one layer, so a zero profile
    returns the layers unchanged.
    """
    H = cathode.thickness_m
    z_edges = np.asarray(rel_edges) * H
    out: list[LayerSpec] = []
    z0 = 0.0
    for lay in cathode.layers:
        z1 = z0 + lay.thickness_m
        cuts = [z0] + [z for z in z_edges if z0 < z < z1 and not np.isclose(z, z0) and not np.isclose(z, z1)] + [z1]
        pieces: list[tuple[float, float]] = []   # (thickness, air)
        for a, b in zip(cuts[:-1], cuts[1:]):
            k = int(np.clip(np.searchsorted(z_edges, 0.5 * (a + b), side="right") - 1, 0, len(air) - 1))
            if pieces and pieces[-1][1] == air[k]:
                pieces[-1] = (pieces[-1][0] + float(b - a), float(air[k]))
            else:
                pieces.append((float(b - a), float(air[k])))
        for i, (t, a) in enumerate(pieces):
            name = lay.name if len(pieces) == 1 else f"{lay.name}@{i}"
            thick = lay.thickness_m if len(pieces) == 1 else t
            out.append(dataclasses.replace(
                lay, name=name, thickness_m=thick, porosity=lay.porosity * (1.0 - a),
                active_fraction={p: v * (1.0 - a) for p, v in lay.active_fraction.items()}))
        z0 = z1
    return dataclasses.replace(cathode, layers=tuple(out))


def stage_inputs(config: Mapping[str, Any], case: Case, active: Sequence[str] | None = None) -> list[str]:
    """Stage outputs (wetting / transport runs) the active mechanisms read for ``case``, as paths
    relative to the working directory (for Snakemake rule inputs)."""
    mech = dict(config.get("mechanisms") or {})
    active = list(mech.get("active") or []) if active is None else list(active)
    seeds = list(config.get("geometry", {}).get("seeds", [0]))
    results = Path(config.get("results_dir", "results")) / "runs"
    out: set[str] = set()
    if "wetting" in active:
        w = _section(mech, "wetting")
        runs = Path(w.get("runs_dir") or results / "wetting")
        out |= {str(runs / f"{wetting_case(case, w).with_seed(s).name}.nc") for s in seeds}
    t = _section(mech, "transport")
    if "transport" in active and t.get("model") == "stage":
        runs = Path(t.get("runs_dir") or results / "transport")
        load = float(t.get("reference_loading_mg_cm2", 22.0))
        names = {lay.name for lay in case.design(config).layers}
        share = {"L": 1.0, "S": 0.0, "band": 0.5, "mix": case.ls_ratio}
        out |= {str(runs / f"{Case('Mix', load, case.porosity, share[n]).with_seed(s).name}.nc")
                for n in names for s in (t.get("seeds") or seeds)}
    e = _section(mech, "electronic")
    if "electronic" in active and e.get("model") == "stage":
        runs = Path(e.get("runs_dir") or results / "network")
        load = float(e.get("reference_loading_mg_cm2", 22.0))
        names = {lay.name for lay in case.design(config).layers}
        out |= {str(runs / f"{_reference_case(n, case, load, case.porosity).with_seed(s).name}.nc")
                for n in names for s in (e.get("seeds") or seeds)}
    return sorted(out)


# ---- all together --------------------------------------------------------------------------------
def apply_mechanisms(config: Mapping[str, Any], case: Case, params: ParameterSet,
                     tortuosity: Mapping[str, float] | str | Path | None) -> Applied:
    """The design, parameters and cathode of ``case`` with the active mechanisms applied.

    ``params`` already holds the file and ``electrochem.parameter_overrides``; ``tortuosity`` is
    the ``electrochem.tortuosity`` input (used unless ``transport`` is active).
    """
    from layerlab.electrochem.cell import cathode_from_design
    mech = dict(config.get("mechanisms") or {})
    active = check_names(list(mech.get("active") or []), "mechanisms.active")
    design = case.design(config)
    record: dict[str, str] = {}
    if "intermixing" in active:
        w = _section(mech, "intermixing").get("band_width_um")
        require(w is not None and w >= 0, "mechanisms.intermixing.band_width_um", f"got {w!r}", ">= 0 um")
        design = dataclasses.replace(design, band_width_m=float(w) * UM_TO_M)
        record["intermixing"] = (f"band width {w:g} um" if design.architecture in ("L-S", "S-L")
                                 else f"band width {w:g} um (no band in {design.architecture})")
    over, rec = mechanism_overrides(active, mech, params, design)
    params = params.with_overrides(over)
    record.update(rec)
    if "transport" in active:
        require(tortuosity is None, "mechanisms.transport",
                "electrochem.tortuosity (or --tortuosity) is also set", "one source of tortuosity")
        tortuosity, record["transport"] = layer_tortuosity(_section(mech, "transport"), design, config)
    cathode = cathode_from_design(design, tortuosity)
    if "electronic" in active and _section(mech, "electronic").get("model") == "stage":
        sigma, record["electronic"] = layer_electronic_conductivity(_section(mech, "electronic"), design, config)
        cathode = with_layer_conductivity(cathode, sigma)
    if "wetting" in active:
        edges, air, src = air_profile(_section(mech, "wetting"), case, config)
        cathode = wet_cathode(cathode, edges, air)
        record["wetting"] = (f"air fraction per depth from {src}: "
                             + ", ".join(f"{a:.3f}" for a in air) + " (current collector first)")
    return Applied(design=design, params=params, cathode=cathode, record=record)
