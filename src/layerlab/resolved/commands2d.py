"""CLI command ``resolve2d``: a 2D resolved half-cell run on a disk packing, optionally with trapped air."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from layerlab.cli import Command
from layerlab.errors import InputError, require
from layerlab.settings import add_settings_arguments

log = logging.getLogger("layerlab.resolved")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. L-S_load29.6_por0.55_ls0.5_seed0")
    p.add_argument("--packing", required=True, help="disk packing (results/geometry/<case>/packing2d.json)")
    p.add_argument("--out", required=True, help="output netCDF")
    p.add_argument("--air-map", dest="air_map", help="wetting result with air_map (results/runs/wetting/<case>.nc)")
    p.add_argument("--vtx", help="folder for VTX fields (ParaView); none when omitted")


def _run(args: argparse.Namespace) -> int:
    from layerlab.resolved.airmap import AirMap, sha256_of
    from layerlab.resolved.commands import checked_inputs, move_vtx, prepare_process
    from layerlab.resolved.diskmesh import DiskLayout

    # --- every input check before any work -------------------------------------------------------
    config, case, cfg, params, materials = checked_inputs(args, "resolve2d")
    sec = cfg["section2d"]
    require(Path(args.packing).is_file(), "packing", f"file {args.packing!r} does not exist", "a packing2d.json")
    try:
        packing = json.loads(Path(args.packing).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("packing", f"{args.packing} is not JSON ({exc})", "a packing2d.json") from exc
    require(isinstance(packing, dict), "packing", "not a JSON object", "a packing2d.json")
    require(packing.get("case", case.name) in ("", case.name), "packing",
            f"packing of case {packing.get('case')!r}", f"the packing of case {case.name!r}")
    layout = DiskLayout.from_packing(packing)
    sha = sha256_of(args.packing)
    air = AirMap.read(args.air_map, sha, layout) if args.air_map else None
    prepare_process(cfg)

    from layerlab.fe import MPI
    from layerlab.io import write_netcdf
    from layerlab.resolved.run import Protocol
    from layerlab.resolved.run2d import Section2DOptions, run_resolved2d
    from layerlab.resolved.solver import StepControl, linear_solver_settings

    comm = MPI.COMM_WORLD
    if comm.rank > 0:
        logging.getLogger("layerlab").setLevel(logging.WARNING)
    protocol = Protocol(sec["discharge_c_rate"], cfg["charge_c_rate"], sec["v_min_V"], cfg["v_max_V"])
    vtx_tmp = str(Path(args.vtx).with_name(f".{Path(args.vtx).name}.tmp")) if args.vtx else None
    ds, _ = run_resolved2d(packing, sha, params, protocol, materials.specific_capacity_1C_A_kg,
                           materials.density_active_kg_m3, Section2DOptions.from_config(sec),
                           StepControl(dt_max_s=cfg["dt_max_s"], dv_max_V=cfg["dv_max_V"]),
                           linear_solver_settings(cfg["linear_solver"], jacobian_lag=cfg["jacobian_lag"]),
                           cfg["profile_bins"], air, comm, vtx_tmp)
    comm.Barrier()
    if comm.rank == 0:
        write_netcdf(ds, args.out, config, case=case.name, packing=str(args.packing),
                     air_map_file=str(args.air_map or ""))
        move_vtx(vtx_tmp, args.vtx)
        log.info("wrote %s: discharge %.2f mAh/g at %gC (%s), %d of %d disks dry", args.out,
                 ds.attrs["discharge_capacity_mAh_g"], protocol.discharge_c_rate, ds.attrs["discharge_end_reason"],
                 ds.attrs["dry_disks"], ds.attrs["disks"])
    comm.Barrier()
    return 0


def _add_loss_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wet", nargs="+", required=True, help="resolve2d outputs without an air map")
    p.add_argument("--air", nargs="+", required=True, help="resolve2d outputs with the wetting stage's air map")
    p.add_argument("--out", required=True, help="CSV table, one row per case")


def _run_loss(args: argparse.Namespace) -> int:
    from layerlab.io import write_text_atomic
    from layerlab.resolved.airloss import loss_rows, to_csv

    require(str(args.out).endswith(".csv"), "out", f"got {args.out!r}", "a path ending in .csv")
    rows = loss_rows(args.wet, args.air)
    write_text_atomic(args.out, to_csv(rows))
    for r in rows:
        log.info("%s at %gC: %.2f -> %.2f mAh/g, lost %.2f mAh/g (%.2f %%)", r["case"], r["c_rate"],
                 r["capacity_wet_mAh_g"], r["capacity_air_mAh_g"], r["loss_mAh_g"], r["loss_percent"])
    return 0


COMMANDS = {
    "resolve2d": Command("2D microstructure-resolved half-cell run on a disk packing (optionally with trapped air)",
                         _add_arguments, _run),
    "air-loss": Command("capacity lost to trapped air per case: pairs of resolve2d runs (wet, with air map)",
                        _add_loss_arguments, _run_loss),
}
