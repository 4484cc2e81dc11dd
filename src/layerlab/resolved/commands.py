"""CLI command ``resolve3d``: a microstructure-resolved half-cell run on a two-phase mesh."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from layerlab.cli import Command
from layerlab.errors import require
from layerlab.memory import keep_freed_memory, keep_freed_memory_setting
from layerlab.settings import add_settings_arguments, job_config

log = logging.getLogger("layerlab.resolved")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings_arguments(p)
    p.add_argument("--case", required=True, help="case name, e.g. L-Dry-S_load29.6_por0.55_ls0.5_seed0")
    p.add_argument("--mesh", required=True, help="two-phase gmsh mesh (results/geometry/<case>/mesh3d.msh)")
    p.add_argument("--out", required=True, help="output netCDF, results/runs/resolved/<case>.nc")
    p.add_argument("--vtx", help="folder for VTX fields (ParaView); none when omitted")
    p.add_argument("--packing", help="packing3d.json the mesh was made from: checked against the case and "
                                     "the L diameter; adds the end state of charge per particle")


def checked_inputs(args: argparse.Namespace, stage: str = "resolve3d"):
    """Config, case, ``resolved`` section, parameters and materials, checked before any work.

    Shared by ``resolve3d`` and ``resolve2d``.
    """
    from layerlab.cases import parse_case
    from layerlab.design import load_materials
    from layerlab.electrochem.electrolyte import ocp_range_V
    from layerlab.electrochem.parameters import load_parameters

    config = job_config(args, stage)
    case = parse_case(args.case)
    cfg = config["resolved"]
    require(str(args.out).endswith(".nc"), "out", f"got {args.out!r}", "a path ending in .nc")
    params = load_parameters(cfg["parameters"])
    materials = load_materials(config["materials"])
    u_min, u_max = ocp_range_V(params.positive.ocp)
    require(u_min < cfg["v_max_V"] < u_max, "resolved.v_max_V", f"got {cfg['v_max_V']!r} V",
            f"inside the cathode OCP range ({u_min:.3f}, {u_max:.3f}) V")
    require(cfg["v_min_V"] < cfg["v_max_V"], "resolved.v_min_V", f"got {cfg['v_min_V']!r} V",
            f"< v_max_V = {cfg['v_max_V']} V")
    keep_freed_memory_setting(cfg, "resolved")
    return config, case, cfg, params, materials


def prepare_process(cfg) -> None:
    """Process-wide settings once the inputs are checked: ``resolved.keep_freed_memory``
    (:mod:`layerlab.memory`: freed pages kept for MUMPS and the assembly)."""
    if keep_freed_memory_setting(cfg, "resolved"):
        keep_freed_memory()


def move_vtx(tmp: str | None, folder: str | None) -> None:
    """Replace ``folder`` by the finished VTX folder ``tmp`` (rank 0)."""
    if tmp and folder:
        import os
        import shutil
        if Path(folder).exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)


def checked_packing(path: str | None, case_name: str, mesh_path: str, L_diameter_m: float) -> dict | None:
    """The packing of ``--packing`` (or None): of this case, at least one L diameter wide, and the
    one the mesh was made from (its ``mesh3d.json``, when present beside the mesh, names the case)."""
    import json

    from layerlab.geometry.commands3d import check_packing_for_mesh
    from layerlab.geometry.packing3d import load_packing3d

    info = Path(mesh_path).with_suffix(".json")
    if info.is_file():
        mesh_case = json.loads(info.read_text()).get("case")
        require(mesh_case in (None, case_name), "mesh", f"{mesh_path} is a mesh of case {mesh_case!r}",
                f"the mesh3d.msh of case {case_name!r}")
    if path is None:
        return None
    packing = load_packing3d(path)
    check_packing_for_mesh(packing, case_name, L_diameter_m)
    return packing


def _run(args: argparse.Namespace) -> int:
    # --- every input check before any work -------------------------------------------------------
    config, case, cfg, params, materials = checked_inputs(args)
    require(Path(args.mesh).is_file(), "mesh", f"file {args.mesh!r} does not exist", "a gmsh .msh file")
    packing = checked_packing(getattr(args, "packing", None), case.name, args.mesh, 2.0 * materials.radius_m("L"))
    prepare_process(cfg)

    from layerlab.fe import MPI
    from layerlab.geometry.readmesh import read_msh
    from layerlab.geometry.tags import NAMES_3D
    from layerlab.io import write_netcdf
    from layerlab.resolved.run import Protocol, run_resolved
    from layerlab.resolved.solver import StepControl, linear_solver_settings

    comm = MPI.COMM_WORLD
    required = {k: NAMES_3D[k] for k in ("electrolyte", "particles", "current_collector", "top", "interface")}
    data = read_msh(args.mesh, 3, required=required, comm=comm)
    if comm.rank > 0:
        logging.getLogger("layerlab").setLevel(logging.WARNING)
    protocol = Protocol(cfg["discharge_c_rate"], cfg["charge_c_rate"], cfg["v_min_V"], cfg["v_max_V"])
    vtx_tmp = None
    if args.vtx:
        vtx_tmp = str(Path(args.vtx).with_name(f".{Path(args.vtx).name}.tmp"))
    ds, _ = run_resolved(data, params, protocol, materials.specific_capacity_1C_A_kg,
                         materials.density_active_kg_m3,
                         StepControl(dt_max_s=cfg["dt_max_s"], dv_max_V=cfg["dv_max_V"]),
                         linear_solver_settings(cfg["linear_solver"], jacobian_lag=cfg["jacobian_lag"]),
                         cfg["profile_bins"], cfg["profile_every_s"], vtx_tmp, packing=packing)
    comm.Barrier()
    if comm.rank == 0:
        write_netcdf(ds, args.out, config, case=case.name, mesh=str(args.mesh))
        move_vtx(vtx_tmp, args.vtx)
        log.info("wrote %s: discharge %.2f mAh/g (%s)", args.out, ds.attrs["discharge_capacity_mAh_g"],
                 ds.attrs["discharge_end_reason"])
    comm.Barrier()
    return 0


COMMANDS = {
    "resolve3d": Command("microstructure-resolved half-cell discharge/charge on a two-phase mesh",
                         _add_arguments, _run),
}
