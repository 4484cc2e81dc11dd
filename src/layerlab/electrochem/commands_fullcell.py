"""CLI: ``python -m layerlab fullcell --settings JSON --case CASE --out results/runs/fullcell/CASE.nc``.

Full cell graphite | separator | the case's layered cathode (Fig. 5h/5i): the rate test of
``electrochem.protocol`` in the full-cell voltage window, then ``fullcell.cycles`` CC-CV / CC cycles
at ``fullcell.cycle_c_rate`` on a fresh cell with SEI growth on the graphite.  The cathode side
(parameters, overrides, tortuosity, discretisation) is exactly the ``dfn`` command's
(:func:`layerlab.electrochem.commands.prepare`); the ``fullcell`` section adds the anode, the N/P
ratio, the window, the cycling and the SEI model.  Everything is validated before any work.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from layerlab.cli import Command

log = logging.getLogger("layerlab.electrochem")


@dataclass(frozen=True)
class FullCellRun:
    """A validated full-cell run: cell, discretisation, rate test, cycling settings, SEI model."""

    cell: Any
    disc: Any
    rate_test: Any | None
    cycles: int
    cycle_c_rate: float
    cycle_charge_c_rate: float
    cycle_cv_end_c_rate: float
    curve_cycles: tuple[int, ...]
    sei_model: str
    v_min_V: float
    v_max_V: float
    attrs: Mapping[str, str]


def prepare_fullcell(config: Mapping[str, Any], case_name: str) -> FullCellRun:
    """Validated :class:`FullCellRun` for one case (InputError naming the field on bad input)."""
    from layerlab.electrochem.cell import HalfCell, anode_for_np_ratio
    from layerlab.electrochem.commands import mechanism_attrs, prepare_case
    from layerlab.electrochem.pybamm_import import anode_source
    from layerlab.electrochem.sei import check_sei_model
    from layerlab.errors import require

    fc = dict(config.get("fullcell", {}))
    prepared = prepare_case(config, case_name)
    half, disc, test = prepared.cell, prepared.disc, prepared.test
    disc = dataclasses.replace(disc, cells_anode=int(fc.get("cells_anode", 16)))
    neg, sei = anode_source(fc.get("anode_parameters", "config/parameters/graphite_chen2020.yaml"))
    sei_cfg = dict(fc.get("sei", {}))
    model = sei_cfg.get("model", "solvent-diffusion limited")
    check_sei_model(model, sei)
    params = half.params.with_anode(neg, sei)
    if sei_cfg.get("parameters"):
        require(sei is not None, "fullcell.sei.parameters", "the anode file has no sei section", "an sei section")
        params = _with_section(params, "sei", sei_cfg["parameters"], "fullcell.sei.parameters")
    for section, values in dict(fc.get("parameter_overrides", {})).items():
        params = _with_section(params, section, values, f"fullcell.parameter_overrides.{section}")
    cap = half.cathode.capacity_1C_A_m2
    require(cap is not None and cap > 0, "fullcell.np_ratio", "the cathode has no nominal capacity",
            "a design with an active mass")
    np_ratio = float(fc.get("np_ratio", 1.1))
    anode = anode_for_np_ratio(params, cap * 3600.0, np_ratio)
    cell = HalfCell(params, half.cathode, half.separator_tortuosity, anode=anode)
    v_min, v_max = float(fc.get("v_min_V", 2.7)), float(fc.get("v_max_V", 4.3))
    rate = dataclasses.replace(test, v_min_V=v_min, v_max_V=v_max) if fc.get("rate_test", True) else None
    from layerlab.electrochem.protocols import RateTest, check_cutoffs
    check_cutoffs(cell, v_min, v_max, "fullcell")
    if rate is not None:
        rate.validate(cell, "fullcell")
    cycles = int(fc.get("cycles", 200))
    require(cycles >= 0, "fullcell.cycles", f"got {cycles}", ">= 0")
    run = FullCellRun(cell=cell, disc=disc, rate_test=rate, cycles=cycles,
                      cycle_c_rate=float(fc.get("cycle_c_rate", 0.5)),
                      cycle_charge_c_rate=float(fc.get("cycle_charge_c_rate", 0.5)),
                      cycle_cv_end_c_rate=float(fc.get("cycle_cv_end_c_rate", 0.05)),
                      curve_cycles=tuple(int(c) for c in fc.get("curve_cycles", (1, 50, 100, 150, 200))),
                      sei_model=model, v_min_V=v_min, v_max_V=v_max,
                      attrs={**mechanism_attrs(prepared.mechanisms), "np_ratio": str(np_ratio)})
    if cycles:
        RateTest(c_rates=(run.cycle_c_rate,), charge_c_rate=run.cycle_charge_c_rate,
                 cv_end_c_rate=run.cycle_cv_end_c_rate, v_min_V=v_min, v_max_V=v_max).validate(cell, "fullcell")
    return run


def _with_section(params, section: str, values: Mapping[str, Any], field: str):
    """``params`` with ``{key: value}`` of one section replaced; errors name ``field``."""
    from layerlab.errors import InputError
    try:
        return params.replace(section, **{k: float(v) for k, v in values.items()})
    except InputError as err:
        key = err.field.rsplit(".", 1)[-1]
        raise InputError(f"{field}.{key}" if key in values else field, err.problem, err.allowed) from None


def run_fullcell(run: FullCellRun, comm=None, record_profiles: bool = True):
    """Rate test (fresh cell) and cycling (another fresh cell); returns the merged xarray Dataset."""
    import time

    import xarray as xr

    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.integrator import Integrator
    from layerlab.electrochem.output import cycling_dataset, protocol_dataset
    from layerlab.electrochem.protocols import run_cycling, run_rate_test
    from layerlab.fe import MPI

    comm = comm or MPI.COMM_WORLD
    parts = []
    attrs = {"sei_model": run.sei_model, "anode_thickness_m": run.cell.anode.thickness_m,
             "parameter_set": run.cell.params.name,
             "contact_resistance_ohm_m2": run.cell.params.positive.contact_resistance_ohm_m2, **run.attrs}
    if run.rate_test is not None:
        model = DFNModel(run.cell, run.disc, comm=comm, sei=run.sei_model)
        res = run_rate_test(Integrator(model, record_profiles=record_profiles), run.rate_test, "fullcell")
        parts.append(protocol_dataset(model, res))
    if run.cycles:
        model = DFNModel(run.cell, run.disc, comm=comm, sei=run.sei_model)
        t0 = time.perf_counter()

        def progress(k: int, res) -> None:
            log.info("cycle %d/%d: discharge %.1f C/m2 (%.2f s per cycle so far)", k + 1, run.cycles,
                     res.discharge_capacity_C_m2[-1], (time.perf_counter() - t0) / (k + 1))

        res = run_cycling(Integrator(model, record_profiles=False), run.cycles, run.cycle_c_rate,
                          run.cycle_charge_c_rate, run.v_min_V, run.v_max_V, run.cycle_cv_end_c_rate,
                          "fullcell", progress)
        attrs["seconds_per_cycle"] = (time.perf_counter() - t0) / run.cycles
        parts.append(cycling_dataset(model, res, run.curve_cycles))
    ds = xr.merge(parts, combine_attrs="override") if parts else xr.Dataset()
    ds.attrs.update({k: str(v) for k, v in attrs.items()})
    ds.attrs["title"] = "DFN full-cell run: rate test and cycling with SEI (layerlab.electrochem)"
    return ds


def _add_arguments(p: argparse.ArgumentParser) -> None:
    from layerlab.settings import add_settings_arguments
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. L-Dry-S_load24.6_por0.55_ls0.5")
    p.add_argument("--out", required=True, help="output netCDF path")


def _run(args: argparse.Namespace) -> int:
    from layerlab.settings import job_config
    cfg = job_config(args, "fullcell")
    run = prepare_fullcell(cfg, args.case)
    from layerlab.electrochem.commands import write_case_dataset
    ds = run_fullcell(run)
    if "discharge_capacity" in ds:
        log.info("%s: full-cell discharge capacity %s mAh/g", args.case,
                 [round(float(v), 1) for v in ds["discharge_capacity"].values])
    if "capacity_retention" in ds:
        log.info("%s: retention after %d cycles %.4f", args.case, run.cycles, float(ds["capacity_retention"][-1]))
    ds.attrs["case"] = args.case
    write_case_dataset(ds, args.out, cfg, args.case)
    return 0


COMMANDS = {
    "fullcell": Command(help="DFN full cell (graphite anode, SEI): rate test + cycling of one case (netCDF out)",
                        add_arguments=_add_arguments, run=_run),
}
