"""Benchmark: the paper-width resolved 3D half cell on N ranks for a short fixed simulated time,
extrapolated to a full 1C discharge (prints JSON lines as each phase ends, then a summary).

``pack3d`` of ``--arch`` at ``--loading`` mg/cm2 and ``--porosity``, ``--lateral-um`` wide (walled,
``--separator-um`` separator) and its level-set mesh at ``--h-um`` / ``--h-min-um`` (rank 0, the
paper.yaml mesh size by default), read on all ranks, the model set up, then a 1C discharge for
``--duration-s`` of simulated time.  A phase line is printed when each phase ends, so a run killed by
its time or memory limit still tells how far it got; ``--max-prep-s`` skips the discharge when mesh
and set-up alone took longer.  The extrapolation to a full discharge is an estimate, stated as such:
set-up plus the preview's Newton iterations for a full 1C discharge (``--full-newton-its``, and
``--full-steps`` steps; README, "Resolved 3D half cells") times the measured time per Newton iteration.

Run::

    mpiexec -n 2 python bench/bench_resolved_paper.py [--h-um 1.5 --h-min-um 0.375] [--duration-s 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bench_resolved_packing import add_case_arguments


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(ap, 29.6, 0.55, 50.0, 25.0)
    ap.add_argument("--h-um", type=float, default=1.5)
    ap.add_argument("--h-min-um", type=float, default=0.375)
    ap.add_argument("--duration-s", type=float, default=15.0, help="simulated time of the timed discharge")
    ap.add_argument("--max-prep-s", type=float, default=480.0, help="skip the discharge past this mesh + set-up")
    ap.add_argument("--full-steps", type=int, default=29, help="steps of the preview's full 1C discharge")
    ap.add_argument("--full-newton-its", type=int, default=305, help="Newton its of the preview's full 1C discharge")
    ap.add_argument("--debug", action="store_true", help="log every solve attempt (rank 0, with time stamps)")
    a = ap.parse_args()

    from layerlab.fe import MPI
    comm = MPI.COMM_WORLD
    if a.debug and comm.rank == 0:
        import logging
        logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("layerlab.resolved").setLevel(logging.DEBUG)
    t_start = time.perf_counter()
    out = {"benchmark": "resolved_paper", "machine": platform.node(), "ranks": comm.size, "args": vars(a)}

    def phase(name: str, **values) -> None:
        out.update(values)
        if comm.rank == 0:
            print(json.dumps({"phase": name, "elapsed_s": round(time.perf_counter() - t_start, 1),
                              "cpu_s_rank0": round(time.process_time(), 1),
                              "load_avg_1min": round(os.getloadavg()[0], 2), **values}), flush=True)

    from layerlab.design import ElectrodeDesign
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.geometry import tags as T
    from layerlab.geometry.levelset3d import mesh_packing, write_msh
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel
    from layerlab.resolved.solver import Runner, StepControl

    um = 1e-6
    design = ElectrodeDesign(a.arch, a.loading, a.porosity, 0.5)
    tmp = comm.bcast(tempfile.mkdtemp() if comm.rank == 0 else None, root=0)
    path, done = Path(tmp) / "mesh3d.msh", Path(tmp) / "done"
    if comm.rank == 0:
        t0 = time.perf_counter()
        packing = pack3d(design, Packing3DOptions(lateral_um=a.lateral_um, separator_um=a.separator_um,
                                                  periodic=False), seed=0, case="bench").to_dict()
        phase("pack", pack_s=round(time.perf_counter() - t0, 1), n_spheres=packing["n_spheres"],
              thickness_um=design.thickness_m * 1e6)
        t0 = time.perf_counter()
        mesh = mesh_packing(packing, a.h_um * um, a.h_min_um * um)
        phase("mesh", mesh_s=round(time.perf_counter() - t0, 1), cells=int(len(mesh.cells)),
              volume_particles_rel_error=mesh.info["volume_particles_rel_error"])
        t0 = time.perf_counter()
        write_msh(mesh, str(path))
        del mesh
        phase("write", write_s=round(time.perf_counter() - t0, 1))
        done.touch()
    while not done.exists():          # the other ranks sleep (an MPI barrier would spin a core)
        time.sleep(1.0)
    t0 = time.perf_counter()
    data = read_msh(str(path), 3, required=T.NAMES_3D, comm=comm)
    params = load_parameters().replace("separator", thickness_m=a.separator_um * um)
    model = ResolvedModel(build_phases(data), params)
    model.set_rest_state(stoichiometry_at_ocp(params.positive.ocp, 4.3))
    prep = time.perf_counter() - t_start
    phase("setup", read_setup_s=round(time.perf_counter() - t0, 1), prep_s=round(prep, 1),
          unknowns=sum(f.function_space.dofmap.index_map.size_global for f in model.u))
    comm.Barrier()
    if comm.rank == 0:
        shutil.rmtree(tmp)
    if prep > a.max_prep_s:
        phase("skipped", reason=f"mesh + set-up took {prep:.0f} s > {a.max_prep_s:g} s")
        return
    one_c = 210.0 * 5000.0 * model.particle_volume_m3_m2()     # 210 mA/g, 5 g/cm3 (materials.yaml)
    t0, cpu0 = time.perf_counter(), time.process_time()
    tr = Runner(model, StepControl(dt_initial_s=5.0, dt_max_s=300.0, dv_max_V=0.03)).run_cc(
        one_c, v_min_V=3.5, duration_s=a.duration_s)
    run_s = time.perf_counter() - t0
    cpu_s = comm.allreduce(time.process_time() - cpu0)
    steps = len(tr.t_s) - 1
    per_it = run_s / max(tr.newton_its, 1)
    phase("discharge", simulated_s=tr.t_s[-1] - tr.t_s[0], steps=steps, newton_its=tr.newton_its,
          rejected=tr.rejected, jacobian_builds=model.jacobian_builds, jacobian_refreshes=model.jacobian_refreshes,
          voltage_end_V=round(tr.voltage_V[-1], 5), discharge_s=round(run_s, 1),
          discharge_cpu_s_all_ranks=round(cpu_s, 1),
          s_per_step=round(run_s / max(steps, 1), 1), s_per_newton_it=round(per_it, 2),
          extrapolated_full_discharge_s=round(prep + a.full_newton_its * per_it, 0),
          extrapolated_full_discharge_by_steps_s=round(prep + a.full_steps * run_s / max(steps, 1), 0))
    if comm.rank == 0:
        print(json.dumps(out, indent=1), flush=True)


if __name__ == "__main__":
    main()
