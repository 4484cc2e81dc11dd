"""Benchmark: the resolved 3D half cell on a level-set mesh of a real packing, at h and h/2 (prints JSON).

A thin preview of the paper's design: ``pack3d`` of ``--arch`` at ``--loading`` mg/cm2 and
``--porosity``, ``--lateral-um`` wide with a ``--separator-um`` separator; the level-set mesh at each
``--h-um`` (surface refinement ``--h-min-um``, default none: ``h_min = h``), written and read back as the campaign does; a 1C discharge (each ``--linear`` solver in turn, default MUMPS) for a
fixed simulated time ``--duration-s``.  Per mesh: mesh time, set-up time, solve time, cells,
unknowns, steps, Newton iterations per step, linear iterations per Newton iteration, lithium balance.  One rank (this machine has 2 cores).

CPU times (``time.process_time``) beside the wall times: the machine is shared.

Packings are walled (as the campaign's) unless ``--periodic``; glibc keeps freed memory
(``resolved.keep_freed_memory``) unless ``--keep-freed-memory off``; ``--neck-min-um`` is the mesh's
collar radius of thin necks (0: the plain isosurface, which loses contacts); ``--volume-correction``
the mesh's volume correction(s) (``isovalue``: the preview's, ``geometry.mesh3d.volume_correction``).

``--reference-rev REV``: this checkout and revision REV side by side (CPU from ``wait4``; the resolved
preview before / after, README "Resolved 3D half cells").

Run: ``python bench/bench_resolved_packing.py [--h-um 3 1.5] [--h-min-um 1.5] [--duration-s 120] [--newton adaptive full]``
The resolved campaign's laptop preview (README)::

    python bench/bench_resolved_packing.py --loading 29.6 --porosity 0.55 --lateral-um 22.6 \
        --separator-um 25 --h-um 3 --h-min-um 3 --duration-s 4000 --volume-correction none isovalue
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time


# --newton: the Newton variants (SolverSettings fields) compared on every mesh
NEWTON = {"adaptive": {}, "adaptive-no-refresh": {"refresh_ratio": None},
          "adaptive-rebuild-on-growth": {"rebuild_dt_ratio": 1.2},
          "full": {"jacobian_lag": 1, "predictor": False}}


def run_one(packing: dict, h_um: float, linear: str, a: argparse.Namespace, newton: str = "adaptive",
            volume_correction: str = "none") -> dict:
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.parameters import FARADAY, load_parameters
    from layerlab.fe import MPI
    from layerlab.geometry import tags as T
    from layerlab.geometry.levelset3d import mesh_packing, write_msh
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel
    from layerlab.resolved.solver import Runner, StepControl, linear_solver_settings

    um = 1e-6
    t0, c0 = time.perf_counter(), time.process_time()
    h_min_um = a.h_min_um if a.h_min_um else h_um
    mesh = mesh_packing(packing, h_um * um, min(h_min_um, h_um) * um, neck_min_radius_m=a.neck_min_um * um,
                        volume_correction=volume_correction)
    t_mesh = time.perf_counter() - t0
    import tempfile

    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        write_msh(mesh, f"{tmp}/mesh3d.msh")
        data = read_msh(f"{tmp}/mesh3d.msh", 3, required=T.NAMES_3D, comm=MPI.COMM_SELF)
    t_read = time.perf_counter() - t0 - t_mesh
    params = load_parameters().replace("separator", thickness_m=a.separator_um * um)
    phases = build_phases(data)
    model = ResolvedModel(phases, params, linear_solver_settings(linear, **NEWTON[newton]))
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    model.set_rest_state(s0)
    t_setup = time.perf_counter() - t0 - t_mesh - t_read
    one_c = 210.0 * 5000.0 * model.particle_volume_m3_m2()     # 210 mA/g, 5 g/cm3 (materials.yaml)
    t1, c1 = time.perf_counter(), time.process_time()
    control = StepControl(dt_initial_s=a.dt_initial_s, dt_max_s=a.dt_max_s, dv_max_V=a.dv_max_V)
    tr = Runner(model, control).run_cc(one_c, v_min_V=a.v_min, duration_s=a.duration_s)
    t_run = time.perf_counter() - t1
    cpu_run, cpu_before = time.process_time() - c1, c1 - c0
    li0 = tr.li_electrolyte_mol_m2[0] + tr.li_particles_mol_m2[0]
    li1 = tr.li_electrolyte_mol_m2[-1] + tr.li_particles_mol_m2[-1]
    steps = len(tr.t_s) - 1
    return {"h_um": h_um, "linear": linear, "newton": newton, "volume_correction": volume_correction,
            "isovalue_offset_um": mesh.info["isovalue_offset_m"] / um, "cells": int(len(mesh.cells)),
            "particle_cells": int(np.count_nonzero(mesh.cell_tags == T.PARTICLES)),
            "volume_particles_rel_error": mesh.info["volume_particles_rel_error"],
            "volume_electrolyte_rel_error": mesh.info["volume_electrolyte_rel_error"],
            "unknowns": sum(f.function_space.dofmap.index_map.size_global for f in model.u),
            "mesh_s": round(t_mesh, 2), "write_read_s": round(t_read, 2), "setup_s": round(t_setup, 2), "solve_s": round(t_run, 2),
            "simulated_s": tr.t_s[-1] - tr.t_s[0], "steps": steps, "rejected": tr.rejected,
            "newton_its": tr.newton_its, "newton_its_per_step": tr.newton_its / max(steps, 1),
            "linear_its_per_newton_it": round(tr.linear_its_per_solve, 2),
            "jacobian_builds": model.jacobian_builds, "jacobian_refreshes": model.jacobian_refreshes,
            "end_reason": tr.end_reason,
            "lithium_balance_error_rel": (li1 - li0 - tr.capacity_C_m2 / FARADAY) / li0,
            "capacity_C_m2": tr.capacity_C_m2,
            "capacity_mAh_g": tr.capacity_C_m2 / 3.6 / (5000.0 * model.particle_volume_m3_m2() * 1e3),
            "h_min_um": h_min_um, "cpu_mesh_read_setup_s": round(cpu_before, 2), "cpu_solve_s": round(cpu_run, 2),
            "cpu_s_per_step": round(cpu_run / max(steps, 1), 2),
            "excluded_particle_volume_fraction": phases.excluded_volume_fraction,
            "connected_volume_fraction_mesh": mesh.info["particle_volume_connected_fraction_mesh"],
            "connected_volume_fraction_packing": mesh.info["particle_volume_connected_fraction_packing"],
            "contacts_lost": len(mesh.info["contacts_lost"]), "neck_collars": mesh.info["n_neck_collars"],
            "necks_refined": mesh.info["n_necks_refined"],
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def add_case_arguments(ap: argparse.ArgumentParser, loading: float, porosity: float, lateral_um: float,
                       separator_um: float) -> None:
    """``--arch --loading --porosity --lateral-um --separator-um`` (the packed design and its box)."""
    ap.add_argument("--arch", default="L-Dry-S")
    ap.add_argument("--loading", type=float, default=loading, help="mg/cm2")
    ap.add_argument("--porosity", type=float, default=porosity)
    ap.add_argument("--lateral-um", type=float, default=lateral_um)
    ap.add_argument("--separator-um", type=float, default=separator_um)


def _bench_json(text: str) -> dict:
    """The JSON document of this script's stdout (gmsh prints its Info lines before it)."""
    return json.loads(text[text.index("\n{") + 1:] if not text.startswith("{") else text)


def reference_pair(rev: str, argv: list[str]) -> dict:
    """This benchmark with ``argv`` twice at once: on this checkout's ``src`` (``new``) and on ``src`` +
    ``config`` of git revision ``rev`` (``reference``, ``--keep-freed-memory off``: before the setting);
    CPU seconds from each process's ``wait4`` rusage, the ratio reference / new."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    ref = Path(tempfile.mkdtemp(prefix="bench_resolved_ref_"))
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src", "config"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
    runs = {"new": (repo / "src", ["--keep-freed-memory", "on"]),
            "reference": (ref / "src", ["--keep-freed-memory", "off"])}
    procs, out, t0 = {}, {}, time.perf_counter()
    for name, (src, extra) in runs.items():
        env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        procs[name] = subprocess.Popen([sys.executable, __file__, *argv, *extra], cwd=repo, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        name = next((n for n, p in procs.items() if p.pid == pid), None)
        if name is None:
            continue
        data = _bench_json(procs.pop(name).stdout.read())
        out[name] = {"cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "wall_s": round(time.perf_counter() - t0, 1),
                     "maxrss_MB": round(usage.ru_maxrss / 1024), "cpu_pack_s": data["cpu_pack_s"], **data["runs"][0]}
    new, old = out["new"], out["reference"]
    return {"benchmark": "resolved_packing_pair", "reference_rev": rev, "args": argv, "runs": out,
            "cpu_ratio_reference_over_new": round(old["cpu_s"] / new["cpu_s"], 3),
            "capacity_rel_difference": new["capacity_C_m2"] / old["capacity_C_m2"] - 1,
            "load_avg_1min_end": round(os.getloadavg()[0], 2)}


def main() -> None:
    from layerlab.resolved.solver import StepControl
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(ap, 8.0, 0.25, 22.6, 10.0)
    ap.add_argument("--h-um", type=float, nargs="+", default=[3.0, 1.5])
    ap.add_argument("--duration-s", type=float, default=120.0)
    ap.add_argument("--v-min", type=float, default=3.5, help="discharge cut-off, V")
    ap.add_argument("--dt-initial-s", type=float, default=StepControl.dt_initial_s,
                    help="first step, s (default: the campaign's, StepControl's; 5 s in this bench until 2026-12-08)")
    ap.add_argument("--dt-max-s", type=float, default=300.0, help="resolved.dt_max_s (the campaign's 300)")
    ap.add_argument("--dv-max-V", type=float, default=0.03, help="resolved.dv_max_V (the campaign's 0.03)")
    ap.add_argument("--h-min-um", type=float, default=None, help="surface refinement (default: h, none)")
    ap.add_argument("--linear", nargs="+", default=["mumps"], choices=("mumps", "gmres-fieldsplit", "gmres-asm"),
                    help="resolved.linear_solver values, each on every mesh")
    ap.add_argument("--newton", nargs="+", default=["adaptive"], choices=tuple(NEWTON),
                    help="Newton variants, each on every mesh: adaptive Jacobian reuse (default), the same "
                         "without the in-solve refresh, full Newton")
    ap.add_argument("--neck-min-um", type=float, default=0.5, help="collar radius of thin necks (0: off)")
    ap.add_argument("--periodic", action="store_true", help="periodic packing (default: walls, as the campaign)")
    ap.add_argument("--keep-freed-memory", choices=("on", "off"), default="on",
                    help="layerlab.memory.keep_freed_memory, as resolved.keep_freed_memory (default on, as the config)")
    ap.add_argument("--reference-rev", metavar="REV",
                    help="run the rest of the command line twice at once, on this checkout and on git revision REV "
                         "(its src and config, --keep-freed-memory off; only flags REV knows); prints both and the CPU ratio")
    ap.add_argument("--volume-correction", nargs="+", default=["none"], choices=("none", "isovalue"),
                    help="geometry.mesh3d.volume_correction values, each on every mesh (isovalue: the preview's)")
    a = ap.parse_args()
    if a.reference_rev:
        import sys
        drop = ("--reference-rev", a.reference_rev, "--keep-freed-memory", "on", "off")
        argv = [x for x in sys.argv[1:] if x not in drop]
        print(json.dumps(reference_pair(a.reference_rev, argv), indent=1))
        return
    if a.keep_freed_memory == "on":
        from layerlab.memory import keep_freed_memory
        keep_freed_memory()
    from layerlab.design import ElectrodeDesign
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d
    design = ElectrodeDesign(a.arch, a.loading, a.porosity, 0.5)
    c0 = time.process_time()
    packing = pack3d(design, Packing3DOptions(lateral_um=a.lateral_um, separator_um=a.separator_um,
                                              periodic=a.periodic), seed=0, case="bench").to_dict()
    cpu_pack = time.process_time() - c0
    runs = [run_one(packing, h, linear, a, newton, vc) for h in a.h_um for vc in a.volume_correction
            for linear in a.linear for newton in a.newton]
    print(json.dumps({"benchmark": "resolved_packing", "machine": platform.node(), "args": vars(a),
                      "thickness_um": design.thickness_m * 1e6, "n_spheres": packing["n_spheres"],
                      "cpu_pack_s": round(cpu_pack, 2),
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
