"""CLI: ``python -m layerlab dfn --settings JSON --case CASE --out results/runs/dfn/CASE.nc``.

Everything (case, design, parameter file, tortuosity, mechanisms, protocol, discretisation) is
validated before any work; on bad input nothing is written.  The active mechanisms
(``mechanisms.active``, :mod:`layerlab.electrochem.mechanisms`) and what each did are recorded in
the output's attributes (``mechanisms``, ``mechanism_<name>``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Mapping

from layerlab.cli import Command
from layerlab.io import input_path
from layerlab.settings import add_settings_arguments, job_config

if TYPE_CHECKING:
    import xarray as xr

log = logging.getLogger("layerlab.electrochem")



@dataclasses.dataclass(frozen=True)
class Prepared:
    """Everything one DFN run of a case needs, and what the active mechanisms did."""

    cell: Any
    disc: Any
    test: Any
    mechanisms: dict


def prepare_case(config: Mapping[str, Any], case_name: str, tortuosity: str | None = None) -> Prepared:
    """Validated cell, discretisation and rate test of one case, mechanisms applied.

    Parameters come from ``electrochem.parameters`` with ``electrochem.parameter_overrides``, then
    the mechanisms listed in ``mechanisms.active`` (see :mod:`layerlab.electrochem.mechanisms`;
    none active: exactly the plain design).
    """
    from layerlab.cases import parse_case
    from layerlab.electrochem.cell import HalfCell
    from layerlab.electrochem.dfn import Discretisation
    from layerlab.electrochem.mechanisms import apply_mechanisms
    from layerlab.electrochem.protocols import RateTest
    from layerlab.electrochem.pybamm_import import load_parameter_source
    from layerlab.errors import InputError

    ec = dict(config.get("electrochem", {}))
    case = parse_case(case_name)
    params = load_parameter_source(ec.get("parameters"))   # a YAML file, pybamm:<SetName> or a BPX file
    params = params.with_overrides(ec.get("parameter_overrides"))
    tau = tortuosity if tortuosity is not None else ec.get("tortuosity")
    if isinstance(tau, str):
        tau = input_path(tau)
    applied = apply_mechanisms(config, case, params, tau)
    cell = HalfCell(applied.params, applied.cathode)
    disc_fields = {f.name for f in dataclasses.fields(Discretisation)}
    disc_cfg = dict(ec.get("discretisation", {}))
    for key in disc_cfg:
        if key not in disc_fields:
            raise InputError(f"electrochem.discretisation.{key}", "unknown key", ", ".join(sorted(disc_fields)))
    disc = Discretisation(**disc_cfg)
    proto = dict(ec.get("protocol", {}))
    proto_fields = {f.name for f in dataclasses.fields(RateTest)}
    for key in proto:
        if key not in proto_fields:
            raise InputError(f"electrochem.protocol.{key}", "unknown key", ", ".join(sorted(proto_fields)))
    if "c_rates" in proto:
        proto["c_rates"] = tuple(float(c) for c in proto["c_rates"])
    test = RateTest(**proto)
    test.validate(cell)
    return Prepared(cell, disc, test, applied.record)


def prepare(config: Mapping[str, Any], case_name: str, tortuosity: str | None = None):
    """Validated (HalfCell, Discretisation, RateTest) for one case of the campaign."""
    p = prepare_case(config, case_name, tortuosity)
    return p.cell, p.disc, p.test


def mechanism_attrs(record: Mapping[str, str]) -> dict[str, str]:
    """Output attributes naming the active mechanisms and what each did."""
    attrs = {"mechanisms": ", ".join(record) if record else "none"}
    attrs.update({f"mechanism_{k}": v for k, v in record.items()})
    return attrs


def write_case_dataset(ds: "xr.Dataset", out: str, cfg: Mapping[str, Any], case: str) -> None:
    """Write one case's dataset from rank 0 (atomically, with provenance); all ranks wait for it."""
    from layerlab.fe import MPI
    from layerlab.io import write_netcdf
    if MPI.COMM_WORLD.rank == 0:
        write_netcdf(ds, out, cfg, case=case)
    MPI.COMM_WORLD.barrier()


def add_case_arguments(p: argparse.ArgumentParser) -> None:
    """--settings (or --config), --case, --out and --tortuosity: the arguments of every per-case electrochem command."""
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. L-Dry-S_load29.6_por0.55_ls0.5")
    p.add_argument("--out", required=True, help="output netCDF path")
    p.add_argument("--tortuosity", default=None,
                   help="netCDF with 'tortuosity' per 'layer' (overrides electrochem.tortuosity)")


def _run_dfn(args: argparse.Namespace) -> int:
    cfg = job_config(args, "dfn")
    prep = prepare_case(cfg, args.case, args.tortuosity)
    cell, disc, test = prep.cell, prep.disc, prep.test
    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.integrator import Integrator
    from layerlab.electrochem.output import protocol_dataset
    from layerlab.electrochem.protocols import run_rate_test
    from layerlab.fe import MPI

    model = DFNModel(cell, disc, comm=MPI.COMM_WORLD)
    it = Integrator(model, record_profiles=True)
    res = run_rate_test(it, test)
    ds = protocol_dataset(model, res, attrs={"case": args.case, "parameter_set": cell.params.name,
                                                   **mechanism_attrs(prep.mechanisms)})
    if "discharge_capacity" in ds:
        log.info("%s: discharge capacity %s mAh/g at %s C", args.case,
                 [round(float(v), 1) for v in ds["discharge_capacity"].values], list(test.c_rates))
    write_case_dataset(ds, args.out, cfg, args.case)
    return 0


COMMANDS = {
    "dfn": Command(help="DFN half-cell rate test of one case (netCDF out)",
                   add_arguments=add_case_arguments, run=_run_dfn),
}
