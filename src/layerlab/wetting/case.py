"""One wetting case: geometry-stage files in, a CF netCDF file (plus VTX fields) out.

Inputs: ``mesh2d.msh`` (groups :data:`layerlab.geometry.tags.NAMES_2D`), ``packing2d.json``
(``width_m``, ``domain_height_m``, ``electrode_y_range_m``) and ``mesh2d.json`` (``min_throat_m``)
beside the mesh.  Every input is checked before the first time step; on bad input nothing is
written.  Outputs: ``OUT`` (netCDF), ``OUT`` with suffix ``.phi.bp`` (final phase field, VTX),
``.snapshots.bp`` (phase field at the configured snapshot times); the netCDF holds the final
phase state as a raster ``air_map`` (see :mod:`layerlab.wetting.airmap`) and, while running, a checkpoint
folder ``.ckpt`` that a restarted job resumes from (removed after success).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from layerlab.errors import InputError, require
from layerlab.memory import keep_freed_memory, keep_freed_memory_setting
from layerlab.wetting.params import LENGTH_SCALE_M, WettingParams, check_interface_width, params_from_config

log = logging.getLogger("layerlab.wetting")

AIR_MAP_SPACING_M = 0.25e-6
"""Default grid spacing of the final air map (``wetting.air_map_spacing_m``)."""


def _read_json(path: Path, field: str, keys: tuple[str, ...]) -> dict[str, Any]:
    require(path.exists(), field, f"file {str(path)!r} does not exist", "a file from the geometry stage")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(field, f"{path.name} is not JSON ({err})") from err
    for k in keys:
        require(k in data, f"{field}.{k}", f"missing in {path.name}", "written by the geometry stage")
    return data


def check_inputs(section: Mapping[str, Any], mesh_path: Path, packing_path: Path
                 ) -> tuple[WettingParams, dict[str, Any], float]:
    """Validate parameters and geometry files; return (params, packing, min_throat_m)."""
    params = params_from_config(section)
    packing = _read_json(packing_path, "packing", ("width_m", "domain_height_m", "electrode_y_range_m"))
    yb, yt = (float(v) for v in packing["electrode_y_range_m"])
    require(0.0 <= yb < yt <= float(packing["domain_height_m"]), "packing.electrode_y_range_m",
            f"got {[yb, yt]}", "0 <= y_bottom < y_top <= domain_height_m")
    meta = _read_json(mesh_path.with_suffix(".json"), "mesh_info", ("min_throat_m",))
    min_throat_m = float(meta["min_throat_m"])
    h_max = meta.get("h_max_m")
    check_interface_width(params, min_throat_m, None if h_max is None else float(h_max))
    for key in ("record_interval_s", "checkpoint_interval_s", "air_map_spacing_m", "breakthrough_tol_s"):
        v = float(section.get(key, 1.0))
        require(v > 0, f"wetting.{key}", f"got {v!r}", "> 0")
    keep_freed_memory_setting(section, "wetting")
    return params, packing, min_throat_m


def run_case(section: Mapping[str, Any], case: str, mesh_path: str | Path, packing_path: str | Path,
             out_path: str | Path, config: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Run one case and write its outputs; returns the scalar metrics (on every rank)."""
    from layerlab.fe import MPI, dolfinx, fem
    from layerlab.geometry import tags
    from layerlab.geometry.readmesh import read_msh
    from layerlab.wetting.metrics import ElectrodeBand, Probe
    from layerlab.wetting.run import Schedule, run_metrics, simulate
    from layerlab.wetting.solver import Boundaries, WettingSolver, mesh_to_scaled

    mesh_path, packing_path, out_path = Path(mesh_path), Path(packing_path), Path(out_path)
    params, packing, min_throat_m = check_inputs(section, mesh_path, packing_path)
    if keep_freed_memory_setting(section, "wetting"):
        keep_freed_memory()       # MUMPS reuses its workspace pages: ~20 % less CPU per factorisation
    data = read_msh(mesh_path, 2, required=tags.NAMES_2D)
    comm = data.mesh.comm
    msh = data.mesh
    mesh_to_scaled(msh)
    L = LENGTH_SCALE_M
    yb, yt = (float(v) / L for v in packing["electrode_y_range_m"])
    height = float(packing["domain_height_m"]) / L
    bnd = Boundaries(data.facet_tags, inlet=(tags.INLET,), outlet=(tags.OUTLET,),
                     slip_x=(tags.SIDE_LEFT, tags.SIDE_RIGHT), walls=(tags.PARTICLE_WALL,))
    y0 = height - params.initial_front_below_inlet_m / L
    width = math.sqrt(2.0) * params.eps_hat
    solver = WettingSolver(msh, bnd, params, lambda x: np.tanh((x[1] - y0) / width))
    phi = solver.field("phi", "old")
    probe = Probe(phi, solver.ds, (tags.OUTLET,), ElectrodeBand(yb, yt), int(section.get("profile_bins", 20)),
                  u=solver.field("u", "old"))
    schedule = Schedule(end_time_s=params.end_time_s,
                        record_interval_s=float(section.get("record_interval_s", 1e-3)),
                        checkpoint_interval_s=float(section.get("checkpoint_interval_s", 0.05)),
                        snapshot_times_s=tuple(sorted(float(t) for t in section.get("snapshot_times_s", []))),
                        log_interval_wall_s=float(section.get("log_interval_wall_s", 10.0)),
                        steady_tol=float(section.get("steady_tol", 1e-3)),
                        steady_window_s=float(section.get("steady_window_s", math.inf)),
                        breakthrough_tol_s=float(section.get("breakthrough_tol_s", 1e-4)))
    ckpt = out_path.with_suffix(".ckpt")
    snap_tmp = out_path.with_suffix(".snapshots.bp.tmp")
    if comm.rank == 0 and not ckpt.exists() and snap_tmp.exists():
        shutil.rmtree(snap_tmp)
    comm.Barrier()
    snap = fem.Function(phi.function_space, name="phi")
    writer = dolfinx.io.VTXWriter(comm, snap_tmp, [snap], engine="BP4") if schedule.snapshot_times_s else None
    from layerlab.wetting.airmap import air_map, grid_centres, sample_on_grid
    spacing = float(section.get("air_map_spacing_m", AIR_MAP_SPACING_M)) / L
    map_x = grid_centres(float(packing["width_m"]) / L, spacing)
    map_y = grid_centres(height, spacing)
    snapshots: list[tuple[float, np.ndarray]] = []     # (t, phi on the map grid), rank 0

    def on_snapshot(t: float) -> None:
        snap.x.array[:] = solver.forms.w_old.x.array[solver._phi_map]
        writer.write(t)
        grid = sample_on_grid(snap, map_x, map_y)
        if grid is not None:
            snapshots.append((t, grid))

    log.info("case %s: %d cells, %d unknowns, Ca = %.3g, Re = %.3g, eps = %.3g m, min throat %.3g m",
             case, comm.allreduce(msh.topology.index_map(2).size_local, op=MPI.SUM),
             solver.forms.W.dofmap.index_map.size_global * solver.forms.W.dofmap.index_map_bs,
             params.capillary_number, params.reynolds_number, params.interface_width_m, min_throat_m)
    hist = simulate(solver, probe, schedule, checkpoint_dir=ckpt, on_snapshot=on_snapshot if writer else None)
    if writer is not None:
        writer.close()
    probe.phi.x.array[:] = solver.forms.w_old.x.array[solver._phi_map]
    metrics = run_metrics(hist, schedule.steady_tol)
    depth, air = probe.profile()
    from layerlab.wetting.metrics import gather_vertex_values
    xy, phi_v = gather_vertex_values(probe.phi)
    phi_map = sample_on_grid(probe.phi, map_x, map_y)
    final_tmp = out_path.with_suffix(".phi.bp.tmp")
    if comm.rank == 0 and final_tmp.exists():
        shutil.rmtree(final_tmp)
    comm.Barrier()
    final = fem.Function(phi.function_space, name="phi")
    final.x.array[:] = probe.phi.x.array
    with dolfinx.io.VTXWriter(comm, final_tmp, [final], engine="BP4") as w:
        w.write(solver.time_s)
    comm.Barrier()
    if comm.rank == 0:
        from layerlab.wetting.output import add_air_map, add_snapshots, to_dataset
        from layerlab.io import write_netcdf
        from layerlab.wetting.airmap import file_sha256
        ds = to_dataset(hist, metrics, depth * L, air, xy * L, phi_v, params, case, probe)
        ds = add_air_map(ds, map_x * L, map_y * L, air_map(phi_map), case, file_sha256(packing_path))
        ds = add_snapshots(ds, snapshots + [(solver.time_s, phi_map)])
        write_netcdf(ds, out_path, config)
        for tmp in (final_tmp, snap_tmp):
            dest = Path(str(tmp).removesuffix(".tmp"))
            if tmp.exists():
                if dest.exists():
                    shutil.rmtree(dest)
                tmp.rename(dest)
        shutil.rmtree(ckpt, ignore_errors=True)
    comm.Barrier()
    log.info("case %s: breakthrough %.4g s, final saturation %.4f, trapped air %.4g, %d steps, "
             "%d factorisations (%.1f s, matrix assembly %.1f s), right-hand sides and solves %.1f s", case,
             metrics["breakthrough_time"], metrics["saturation_final"], metrics["trapped_air_fraction_final"],
             hist.steps, solver.n_factorisations, solver.timings["factorise_s"], solver.timings["assemble_s"],
             solver.timings["solve_s"])
    return metrics
