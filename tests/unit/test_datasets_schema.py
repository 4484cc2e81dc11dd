"""Campaign datasets: documented dims, CF attributes, provenance and a lossless netCDF round trip;
CF 1.10 compliance (IOOS compliance-checker) of the datasets and of a file of every stage's writer.

Every dataset of :data:`layerlab.aggregate.datasets.DATASETS` is built by the real ``aggregate``
command from small synthetic per-run files, each made by the writing stage's own dataset
function (wetting ``to_dataset`` + air map, transport ``to_dataset``, DFN ``protocol_dataset``,
full-cell ``protocol_dataset`` + ``cycling_dataset``, ``impedance_dataset``) and written with
``write_netcdf`` as the stages do.  The dataset is then reopened with xarray (h5netcdf) and compared
with the same dataset built in memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
import yaml

from layerlab import __version__
from layerlab.aggregate.datasets import DATASETS, build_dataset, dataset_run_files
from layerlab.cases import parse_case
from layerlab.config import load_config
from layerlab.io import REPO_ROOT, config_hash, git_commit, provenance, write_netcdf
from layerlab.settings import stage_subset

CASE_DIMS = {"architecture", "loading", "porosity", "ls_ratio"}
PROVENANCE = ("Conventions", "layerlab_version", "git_commit", "config_hash", "date_created")

# dataset -> (its dims, {variable: dims it must have})
SCHEMA: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    "wetting": (CASE_DIMS | {"seed", "filling_time", "distance_from_collector", "breakthrough_definition"}, {
        "breakthrough_time": CASE_DIMS | {"seed"},
        "breakthrough_time_by_definition": CASE_DIMS | {"seed", "breakthrough_definition"},
        "trapped_air_fraction": CASE_DIMS | {"seed"},
        "air_fraction_profile": CASE_DIMS | {"seed", "distance_from_collector"},
        "saturation": CASE_DIMS | {"seed", "filling_time"},
    }),
    "transport": (CASE_DIMS | {"seed", "layer", "direction"}, {
        "tortuosity_factor": CASE_DIMS | {"seed", "layer", "direction"},
        "solid_conductivity_ratio": CASE_DIMS | {"seed", "layer", "direction"},
        "effective_diffusivity_ratio": CASE_DIMS | {"seed", "layer", "direction"},
        "tortuosity_factor_electrode": CASE_DIMS | {"seed", "direction"},
        "pore_fraction": CASE_DIMS | {"seed", "layer"},       # measured; not the porosity coordinate
        "pore_fraction_electrode": CASE_DIMS | {"seed"},
    }),
    "network": (CASE_DIMS | {"seed", "r_c", "layer", "direction", "part"}, {
        "electronic_conductivity": CASE_DIMS | {"seed", "r_c", "layer", "direction"},
        "electronic_conductivity_electrode": CASE_DIMS | {"seed", "r_c", "direction"},
        "area_specific_resistance": CASE_DIMS | {"seed", "r_c", "layer", "part"},
        "n_contacts": CASE_DIMS | {"seed", "layer"},
        "mean_contact_lens_area": CASE_DIMS | {"seed", "layer"},
    }),
    "rate_capability": (CASE_DIMS | {"cell", "c_rate", "process", "curve_point"}, {
        "discharge_capacity": CASE_DIMS | {"cell", "c_rate"},
        "curve_capacity": CASE_DIMS | {"cell", "process", "c_rate", "curve_point"},
        "curve_voltage": CASE_DIMS | {"cell", "process", "c_rate", "curve_point"},
    }),
    "profiles": (CASE_DIMS | {"process", "c_rate", "step_fraction", "distance_from_collector"}, {
        "electrolyte_concentration": CASE_DIMS | {"process", "c_rate", "step_fraction", "distance_from_collector"},
        "electrolyte_potential": CASE_DIMS | {"process", "c_rate", "step_fraction", "distance_from_collector"},
    }),
    "cycling": (CASE_DIMS | {"cycle"}, {
        "discharge_capacity_cycle": CASE_DIMS | {"cycle"},
        "capacity_retention": CASE_DIMS | {"cycle"},
    }),
    "impedance": (CASE_DIMS | {"frequency"}, {
        "impedance_real": CASE_DIMS | {"frequency"},
        "impedance_imag": CASE_DIMS | {"frequency"},
        "apparent_diffusivity": CASE_DIMS,
        "warburg_coefficient": CASE_DIMS,
    }),
}

SWEEPS = {
    "wet": {"architecture": ["L-S", "S-L"], "loading_mg_cm2": [29.6], "porosity": [0.55], "ls_ratio": [0.5]},
    "tau": {"architecture": ["Mix"], "loading_mg_cm2": [22.0], "porosity": [0.55, 0.35], "ls_ratio": [1.0, 0.0]},
    "rate": {"architecture": ["L-Dry-S", "S-Dry-L"], "loading_mg_cm2": [22.0, 29.6], "porosity": [0.55],
             "ls_ratio": [0.5]},
    "imp": {"architecture": ["L-Dry-S", "Mix-Dry-Mix"], "loading_mg_cm2": [29.6], "porosity": [0.55],
            "ls_ratio": [0.5]},
    "full": {"architecture": ["L-Dry-S"], "loading_mg_cm2": [24.6], "porosity": [0.55], "ls_ratio": [0.5, 0.0]},
}


def _value(case_name: str) -> float:
    """A distinct number per case, so that values can be traced through the aggregation."""
    c = parse_case(case_name)
    return (10.0 * c.loading_mg_cm2 + 100.0 * c.porosity + 7.0 * c.ls_ratio + (c.seed or 0)
            + 3.0 * ["L-Dry-S", "S-Dry-L", "Mix-Dry-Mix", "L-S", "S-L", "Mix"].index(c.architecture))


# ---- synthetic per-run files, made by the stages' own dataset functions ------------------------------
def _wetting_run(case: str) -> xr.Dataset:
    from layerlab.wetting.output import add_air_map, to_dataset
    from layerlab.wetting.params import WettingParams

    v = _value(case)
    t = np.linspace(0.0, 0.4 + 0.01 * (v % 7), 41)
    outlet = np.clip(t - 0.2, 0, None)
    arrays = {"t": t, "outlet_fraction": outlet, "outlet_fraction_raw": outlet, "outlet_flux_fraction": outlet,
              "outlet_flux_fraction_raw": outlet, "saturation": np.clip(2 * t, 0, 0.95),
              "trapped_air_fraction": 0.01 + 0 * t, "electrolyte_volume": 100 * t, "air_volume": 100 - 100 * t,
              "dt": np.full_like(t, 1e-3)}
    hist = SimpleNamespace(as_arrays=lambda: arrays, stopped_steady=True)
    metrics = {"breakthrough_time": 1e-3 * v, "steady_state_time": 0.35, "trapped_air_fraction_final": 1e-4 * v,
               "saturation_final": 0.95}
    n = 8
    height = 140e-6 + 1e-6 * (v % 5)
    depth = (np.arange(n) + 0.5) * height / n
    rng = np.random.default_rng(int(v))
    xy = rng.uniform(0, 25e-6, (30, 2))
    ds = to_dataset(hist, metrics, depth, np.linspace(0.0, 0.05, n), xy, np.sign(rng.normal(size=30)),
                    WettingParams(), case, SimpleNamespace(electrode_area=2500.0))
    from layerlab.wetting.output import add_snapshots
    ds = add_air_map(ds, np.linspace(0.5e-6, 24.5e-6, 5), np.linspace(0.5e-6, 150e-6, 7),
                     np.zeros((7, 5)), case, "0" * 64)
    return add_snapshots(ds, [(0.1, np.linspace(-1, 1, 35).reshape(7, 5)), (t[-1], np.ones((7, 5)))])


def _transport_run(case: str) -> xr.Dataset:
    from layerlab.transport.study import TransportStudy, to_dataset

    v = _value(case)
    c = parse_case(case)
    dirs = ("x", "y", "z")

    def res(phase: str, k: float) -> dict:
        frac = c.porosity if phase == "pore" else 1 - c.porosity
        return {d: SimpleNamespace(tortuosity_factor=k + 0.1 * i, macmullin_number=(k + 0.1 * i) / frac,
                                   relative_diffusivity=frac / (k + 0.1 * i), isolated_fraction=0.0,
                                   phase_fraction=frac) for i, d in enumerate(dirs)}

    study = TransportStudy("voxel", dirs, ["mix", "electrode"], {"mix": (0.0, 80e-6), "electrode": (0.0, 80e-6)},
                           {("mix", "pore"): res("pore", 1 + v / 1000), ("mix", "solid"): res("solid", 2.0),
                            ("electrode", "pore"): res("pore", 1 + v / 1000),
                            ("electrode", "solid"): res("solid", 2.0)},
                           {"voxel_size_m": 1e-6, "grid_nx": 20, "grid_ny": 20, "grid_nz": 80})
    ds = to_dataset(study, case=case)
    ds.attrs["mpi_ranks"] = 2
    return ds


def _network_run(case: str) -> xr.Dataset:
    from layerlab.network.graph import DIRECTIONS, PARTS
    from layerlab.network.output import to_dataset
    from layerlab.network.study import NetworkStudy

    v = _value(case)
    regions = ["mix", "electrode"]
    studies = [NetworkStudy(regions, {"mix": 80e-6, "electrode": 80e-6},
                            {r: {d: v / 1000 / (1 + k) for d in DIRECTIONS} for r in regions},
                            {r: {p: 1e-4 * (1 + k) for p in PARTS} for r in regions},
                            {r: 100 for r in regions}, {r: 1e-12 for r in regions}, {r: 2e-12 for r in regions},
                            {r: 50 for r in regions}, {"n_collector_contacts": 5}) for k in range(2)]
    return to_dataset(studies, [0.0, 1e-4], case=case)


def _rate_result(c_rates, capacity: float, n_z: int, thickness_m: float, points: int = 4):
    """A ProtocolResult shaped as ``run_rate_test`` makes it (charge, CV, discharge per C-rate)."""
    from layerlab.electrochem.integrator import Segment
    from layerlab.electrochem.protocols import ProtocolResult

    res = ProtocolResult()
    t0 = q = 0.0
    z = np.linspace(0.0, thickness_m + 25e-6, n_z)
    for c in c_rates:
        for label, dq in ((f"charge before {c:g}C", -capacity), (f"CV before {c:g}C", -1.0),
                          (f"discharge {c:g}C", capacity / (1 + c))):
            t = t0 + np.linspace(0.0, 3600.0 / max(c, 0.2), points)
            charge = q + np.linspace(0.0, dq, points)
            prof = [{"z": z, "c_e": 1000.0 + (1 if label.startswith("discharge") else -1) * tt * 1e-3 * z / z[-1],
                     "phi_e": -0.1 * z / z[-1], "phi_s": 3.8 + 0 * z, "present_L": z < thickness_m,
                     "sto_surf_L": 0.5 + 0 * z, "j_L": 1.0 + 0 * z,
                     "sto_avg_L": 0.5 + 1e-5 * tt * (1 + z / z[-1])} for tt in t]
            res.segments.append(Segment("current", c, 3600.0, label=label))
            res.traces.append(SimpleNamespace(t_s=list(t), voltage_V=list(np.linspace(4.2, 3.0, points)),
                                              current_A_m2=[c * 10.0] * points, charge_C_m2=list(charge),
                                              inventory_mol_m2=list(1.0 - 1e-4 * np.arange(points) - 1e-3 * t0 / 3600),
                                              profiles=prof, end_reason="v_min"))
            t0, q = float(t[-1]), float(charge[-1])
        res.discharge_c_rates.append(c)
        res.charge_capacity_C_m2.append(capacity)
        res.discharge_capacity_C_m2.append(capacity / (1 + c))
    return res


def _model(mass: float, full: bool) -> SimpleNamespace:
    params = SimpleNamespace(positive=SimpleNamespace(max_concentration_mol_m3=50000.0))
    return SimpleNamespace(cell=SimpleNamespace(cathode=SimpleNamespace(active_mass_kg_m2=mass),
                                                anode=SimpleNamespace() if full else None, params=params),
                           pops=("L",))


def _dfn_run(case: str) -> xr.Dataset:
    from layerlab.electrochem.output import protocol_dataset
    from layerlab.units import MAH_G_TO_C_KG

    v, c = _value(case), parse_case(case)
    mass = c.loading_mg_cm2 * 1e-2 * 0.96
    res = _rate_result((0.1, 1.0, 2.0), (150.0 + v / 10) * mass * MAH_G_TO_C_KG, 5 + int(v) % 3,
                       c.loading_mg_cm2 * 4.5e-6)
    return protocol_dataset(_model(mass, False), res, attrs={"case": case, "parameter_set": "synthetic"})


def _fullcell_run(case: str) -> xr.Dataset:
    from layerlab.electrochem.output import cycling_dataset, protocol_dataset
    from layerlab.units import MAH_G_TO_C_KG

    v, c = _value(case), parse_case(case)
    mass = c.loading_mg_cm2 * 1e-2 * 0.96
    cap = (140.0 + v / 10) * mass * MAH_G_TO_C_KG
    model = _model(mass, True)
    rate = protocol_dataset(model, _rate_result((0.1, 0.5), cap, 6, 110e-6))
    cyc = _rate_result((0.5,) * 4, cap, 6, 110e-6)
    cyc.discharge_capacity_C_m2[:] = [cap * (1 - 1e-3 * k) for k in range(4)]
    ds = xr.merge([rate, cycling_dataset(model, cyc, (1, 4))], combine_attrs="override")
    ds.attrs.update({"sei_model": "solvent-diffusion limited", "np_ratio": "1.1", "case": case,
                     "title": "DFN full-cell run: rate test and cycling with SEI (layerlab.electrochem)"})
    return ds


def _impedance_run(case: str) -> xr.Dataset:
    from layerlab.electrochem.commands_impedance import impedance_dataset
    from layerlab.electrochem.impedance import WarburgFit

    v = _value(case)
    f = np.logspace(-3, 5, 17)
    w = 2 * np.pi * f
    sigma = 1e-3 * v
    Z = 1e-3 + sigma * (1 - 1j) / np.sqrt(w) + 1e-3 / (1 + 1j * w * 1e-3)
    fit = WarburgFit(sigma, 1e-3, 0.01, 0.1, 3, 0.999)
    return impedance_dataset(f, Z, fit, 1e-18 * v, {"case": case, "state_of_charge": 0.5})


WRITERS = {"wetting": _wetting_run, "transport": _transport_run, "network": _network_run, "dfn": _dfn_run,
           "fullcell": _fullcell_run, "impedance": _impedance_run}


def _resolved_run(case: str, dimension: int = 3) -> xr.Dataset:
    """A resolved run as ``run_resolved`` makes it: a 1C discharge then a charge (the profile at the
    discharge's end and the charge's start share a time stamp), per-particle end state in 3D, the
    concentration maps of ``run_resolved2d`` in 2D."""
    from layerlab.resolved.outputs import add_section_maps, to_dataset
    from layerlab.resolved.solver import Trace

    v, edges = _value(case), np.linspace(0.0, 60e-6, 7)
    mid = 0.5 * (edges[1:] + edges[:-1])
    traces, t0, q0 = [], 0.0, 0.0
    for sign in (1.0, -1.0):
        t = t0 + np.linspace(0.0, 1800.0, 5)
        q = q0 + sign * 10.0 * (t - t0)
        prof = {"c_e": 1000.0 + sign * mid * 1e6, "phi_e": -1e3 * mid, "reaction": sign * np.ones(6),
                "stoichiometry": np.where(mid < 50e-6, 0.5 + 1e-3 * v, np.nan)}
        traces.append(Trace(list(t), list(np.linspace(4.2, 3.5, 5)[::int(sign)]), [sign * 10.0] * 5, list(q),
                            [1.0] * 5, [2.0] * 5, list(np.linspace(0.3, 0.8, 5)[::int(sign)]),
                            [(t[0], prof), (t[-1], prof)], end_reason="voltage cut-off"))
        t0, q0 = float(t[-1]), float(q[-1])
    summary = {"discharge_capacity_C_m2": 18000.0, "discharge_capacity_mAh_g": 150.0 + v / 10,
               "discharge_end_reason": "voltage cut-off", "initial_stoichiometry": 0.3,
               "particle_max_concentration_mol_m3": 50000.0, "particle_volume_m3_m2": 3e-5, "mpi_ranks": 2}
    particles = SimpleNamespace(sphere=np.arange(3), radius_m=np.array([5e-6, 2e-6, 2e-6]),
                                population=np.array(["L", "S", "S"]), depth_m=np.array([5e-6, 20e-6, 40e-6]),
                                volume_m3=np.array([5e-16, 3e-17, 3e-17]), stoichiometry=np.array([0.6, 0.7, 0.8]))
    ds = to_dataset(traces, ["discharge", "charge"], edges, summary, dimension, particles if dimension == 3 else None)
    if dimension == 2:
        maps = [(tp, np.full((4, 3), 1000.0 + tp / 100)) for tr in traces for tp, _ in tr.profiles]
        ds = add_section_maps(ds, maps, np.linspace(1e-6, 5e-6, 3), np.linspace(1e-6, 70e-6, 4), 2e4, "2D section")
        ds.attrs.update({"dimension": 2, "air_map": "none", "disks": 3, "dry_disks": 0})
    return ds


def _resolved2d_run(case: str) -> xr.Dataset:
    return _resolved_run(case, dimension=2)


# stages no dataset of DATASETS reads: their file under results/ (``{case}``), writer, write_netcdf's extras
RESOLVED_WRITERS = {"runs/resolved/{case}.nc": (_resolved_run, {"mesh": "mesh3d.msh"}),
                    "runs/resolved2d/{case}.air.nc": (_resolved2d_run, {"packing": "packing2d.json",
                                                                         "air_map_file": "wetting.nc"})}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> tuple[Path, dict]:
    """A small campaign config (the default one with small sweeps) and every per-run file it asks for."""
    root = tmp_path_factory.mktemp("campaign")
    cfg = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    cfg.update(results_dir=str(root / "results"), sweeps=SWEEPS)
    cfg["geometry"].update(sweeps2d=["wet"], sweeps3d=["tau"], seeds=[0, 1])
    cfg["wetting"]["sweeps"] = ["wet"]
    cfg["transport"]["sweeps"] = ["tau"]
    cfg["network"]["sweeps"] = ["tau"]
    cfg["electrochem"]["sweeps"] = ["rate"]
    cfg["impedance"]["sweeps"] = ["imp"]
    cfg["fullcell"]["sweeps"] = ["full"]
    cfg["resolved"]["sweeps2d"] = []
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    config = load_config(path)
    for name in DATASETS:
        for run in dataset_run_files(config, name):
            if not run.exists():
                write_netcdf(WRITERS[run.parent.name](run.stem), run, config, case=run.stem)
    return path, config


@pytest.fixture(scope="module")
def aggregated(campaign, tmp_path_factory):
    """``name -> path`` of the dataset written by the real ``aggregate`` command (once per dataset,
    each in its own folder), shared by the schema and CF tests."""
    from layerlab.aggregate.commands import COMMANDS

    cfg_path, _ = campaign
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp(name) / f"{name}.nc"
            rc = COMMANDS["aggregate"].run(argparse.Namespace(config=str(cfg_path), dataset=name, out=str(out)))
            assert rc == 0 and out.is_file()
            done[name] = out
        return done[name]
    return get


def test_schema_covers_every_dataset() -> None:
    assert set(SCHEMA) == set(DATASETS)


def _check_cf(ds: xr.Dataset, dataset: str) -> None:
    for name, var in ds.data_vars.items():
        for attr in ("units", "long_name"):
            assert isinstance(var.attrs.get(attr), str) and var.attrs[attr], f"{dataset}: {name} lacks {attr}"
    for name, coord in ds.coords.items():
        assert isinstance(coord.attrs.get("long_name"), str) and coord.attrs["long_name"], \
            f"{dataset}: coordinate {name} lacks long_name"
        if coord.dtype.kind in "fiuc":   # numeric coordinates are physical quantities: units too
            assert isinstance(coord.attrs.get("units"), str) and coord.attrs["units"], \
                f"{dataset}: coordinate {name} lacks units"


@pytest.mark.parametrize("name", list(SCHEMA))
def test_dataset_dims_cf_attributes_provenance_and_round_trip(campaign, aggregated, name) -> None:
    _, config = campaign
    out = aggregated(name)
    assert [p.name for p in out.parent.iterdir()] == [out.name], "the atomic writer left a temporary file"
    written = build_dataset(config, name)           # what the command wrote, before provenance

    with xr.open_dataset(out, engine="h5netcdf") as back:
        back = back.load()

    dims, variables = SCHEMA[name]
    assert set(back.dims) == dims, f"{name}: dims {sorted(back.dims)}, documented {sorted(dims)}"
    for var, var_dims in variables.items():
        assert var in back, f"{name}: no variable {var!r}"
        assert set(back[var].dims) == var_dims, f"{name}.{var}: dims {back[var].dims}"
    _check_cf(back, name)

    # every run was found, and a value comes back at its case's coordinates
    n_runs = len(dataset_run_files(config, name))
    assert back.attrs["runs_expected"] == back.attrs["runs_found"] == n_runs and back.attrs["missing_runs"] == ""
    run = dataset_run_files(config, name)[-1]
    case = parse_case(run.stem)
    sel = {"architecture": case.architecture, "loading": case.loading_mg_cm2, "porosity": case.porosity,
           "ls_ratio": case.ls_ratio}
    if case.seed is not None:
        sel["seed"] = case.seed
    if "cell" in back.dims:
        sel["cell"] = {"dfn": "half", "fullcell": "full"}[run.parent.name]
    first = next(iter(variables))
    with xr.open_dataset(run, engine="h5netcdf") as src:
        assert np.isfinite(back[first].sel(sel).values).any(), f"{name}: {run.stem} not in the dataset"
        if first in src and src[first].ndim == 0:
            assert float(back[first].sel(sel)) == pytest.approx(float(src[first]))

    # provenance
    for attr in PROVENANCE:
        assert isinstance(back.attrs.get(attr), str) and back.attrs[attr], f"{name}: no {attr}"
    assert back.attrs["Conventions"].startswith("CF-")
    assert back.attrs["layerlab_version"] == __version__
    assert back.attrs["git_commit"].split("+")[0] == git_commit().split("+")[0]   # "+dirty" may change
    # the hash of what the job read (its settings: layerlab.settings), not of the whole campaign config
    settings = stage_subset(config, "aggregate", {"dataset": name})
    assert back.attrs["config_hash"] == config_hash(settings)
    assert back.attrs["dataset"] == name
    created = dt.datetime.fromisoformat(back.attrs["date_created"])
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 600

    # round trip: the reopened file is the dataset that was written, attributes and dtypes included
    expected = written.copy()
    expected.attrs.update(provenance(settings, dataset=name))
    expected.attrs.update(date_created=back.attrs["date_created"], history=back.attrs["history"])
    xr.testing.assert_identical(back, expected)
    for var in expected.variables:
        assert back[var].dtype == expected[var].dtype or (
            back[var].dtype.kind in "OU" and expected[var].dtype.kind in "OU"), f"{name}.{var} dtype"


# ---- CF conventions: the IOOS compliance-checker (CF 1.10) on every dataset and per-run file ------------
@pytest.mark.parametrize("name", list(SCHEMA))
def test_cf_checker_passes_every_campaign_dataset(aggregated, name, cf_check) -> None:
    """Zero CF 1.10 errors (and warnings) in each aggregated dataset written by ``aggregate``."""
    assert cf_check(aggregated(name)) == [], name


@pytest.fixture(scope="module")
def run_files(campaign) -> dict[str, Path]:
    """One file per netCDF-writing stage: the campaign's first run of each stage of the datasets, and
    the resolved stages' files written beside them (``resolve3d`` and ``resolve2d`` runs of a design
    of the rate sweep, and ``resolve3d-compare``'s dataset of that 3D run beside its DFN run)."""
    from layerlab.resolved.compare3d import compare

    _, config = campaign
    files: dict[str, Path] = {}
    for name in DATASETS:
        for run in dataset_run_files(config, name):
            files.setdefault(run.parent.name, run)
    dfn = files["dfn"]
    root = Path(config["results_dir"])
    case = parse_case(dfn.stem).with_seed(0).name
    for pattern, (writer, extras) in RESOLVED_WRITERS.items():
        path = root / pattern.format(case=case)
        write_netcdf(writer(case), path, config, case=case, **extras)
        files[path.parent.name] = path
    files["resolved3d"] = root / "datasets" / "resolved3d.nc"
    write_netcdf(compare([str(files["resolved"])], [str(dfn)]), files["resolved3d"], None,
                 sources=f"{files['resolved']} {dfn}")
    return files


PER_RUN_STAGES = (*WRITERS, "resolved", "resolved2d", "resolved3d")


@pytest.mark.parametrize("stage", PER_RUN_STAGES)
def test_cf_checker_passes_every_per_run_file(run_files, stage, cf_check) -> None:
    """Zero CF 1.10 errors and warnings in a file of every stage that writes netCDF, as the stage's
    writer makes it: wetting (+ air map, snapshots), transport, network, dfn (rate test), fullcell (rate
    test + cycling), impedance, resolved (``resolve3d``, with particles), resolved2d (``resolve2d``, with
    maps) and resolved3d (``resolve3d-compare``'s dataset).  (The network r_c scan and the mechanism
    check write JSON / CSV.)  No ``time`` / ``depth`` (:mod:`layerlab.cfnames`), strictly monotonic
    coordinates, udunits units, a title."""
    assert cf_check(run_files[stage]) == [], stage
