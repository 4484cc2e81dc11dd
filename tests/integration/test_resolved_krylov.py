"""The Krylov option of the resolved 3D solve (``resolved.linear_solver: gmres-fieldsplit``).

GMRES with a multiplicative field split (GAMG per unknown, tuned as the config runs it) solves the
same Newton systems as MUMPS to a relative tolerance of 1e-8, so a 1C discharge to the cut-off must give the same step sequence
and the same capacity to the Newton tolerance, serially and on 2 ranks.  Its linear iterations per
Newton iteration must stay bounded under refinement (at most 1.5x from h to h/2, issue 13), which
additive Schwarz/ILU does not do (it grows about 3x: README, bench/bench_resolved.py).
"""

from __future__ import annotations

import pytest

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, load_parameters
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel
from layerlab.resolved.solver import Runner, StepControl, Trace, linear_solver_settings

SPHERES_M = [(5e-6, 5e-6, 3.8e-6, 4.5e-6), (5e-6, 5e-6, 8.0e-6, 2.0e-6)]


def _discharge(comm: MPI.Comm, linear: str, h_m: float = 2.2e-6, duration_s: float = 1e9) -> Trace:
    """A 1C discharge to 3.5 V of two overlapping spheres under a 5 um separator."""
    data = sphere_box_mesh(10e-6, 10e-6, SPHERES_M, separator_m=5e-6, h_m=h_m, comm=comm)
    params = load_parameters().replace("separator", thickness_m=5e-6)
    m = ResolvedModel(build_phases(data), params, linear_solver_settings(linear))
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m.set_rest_state(s0)
    I = (0.95 - s0) * params.positive.max_concentration_mol_m3 * m.particle_volume_m3_m2() * FARADAY / 3600
    control = StepControl(dt_initial_s=5.0, dt_max_s=300.0, dv_max_V=0.03)
    return Runner(m, control).run_cc(I, v_min_V=3.5, duration_s=duration_s)


@pytest.fixture(scope="module")
def mumps_serial() -> Trace:
    return _discharge(MPI.COMM_SELF, "mumps")


def _same_discharge(krylov: Trace, direct: Trace) -> None:
    assert krylov.end_reason == direct.end_reason == "voltage cut-off"
    assert len(krylov.t_s) == len(direct.t_s) and krylov.newton_its == direct.newton_its
    assert krylov.capacity_C_m2 == pytest.approx(direct.capacity_C_m2, rel=1e-8)
    assert krylov.voltage_V == pytest.approx(direct.voltage_V, rel=1e-9)
    # the count of linear iterations: one per solve for the direct solver, many for GMRES
    assert direct.linear_its == direct.linear_solves >= direct.newton_its
    assert 3 < krylov.linear_its_per_solve < 100


def test_fieldsplit_gamg_capacity_equals_mumps(mumps_serial) -> None:
    _same_discharge(_discharge(MPI.COMM_SELF, "gmres-fieldsplit"), mumps_serial)


@pytest.mark.mpi
def test_fieldsplit_gamg_on_two_ranks_equals_serial_mumps(mumps_serial) -> None:
    world = _discharge(MPI.COMM_WORLD, "gmres-fieldsplit")
    _same_discharge(world, mumps_serial)


def test_fieldsplit_gamg_iterations_bounded_under_refinement() -> None:
    coarse = _discharge(MPI.COMM_SELF, "gmres-fieldsplit", 2.2e-6, duration_s=60.0)
    fine = _discharge(MPI.COMM_SELF, "gmres-fieldsplit", 1.1e-6, duration_s=60.0)
    assert fine.linear_solves > 0 and coarse.linear_solves > 0
    assert fine.linear_its_per_solve <= 1.5 * coarse.linear_its_per_solve


def test_unknown_linear_solver_is_one_line_exit_2(tmp_path, repo_root, capsys) -> None:
    """``resolved.linear_solver: gmres-ilu`` is refused before any work (the mesh is not even read)."""
    import yaml

    from layerlab.cli import main
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["resolved"]["linear_solver"] = "gmres-ilu"
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "runs" / "x.nc"
    code = main(["resolve3d", "--config", str(tmp_path / "cfg.yaml"), "--case", "L-Dry-S_load22_por0.55_ls0.5_seed0",
                 "--mesh", str(tmp_path / "missing.msh"), "--out", str(out)])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("layerlab resolve3d:")]
    assert code == 2 and len(err) == 1, err
    assert "linear_solver" in err[0] and "gmres-ilu" in err[0] and "gmres-fieldsplit" in err[0]
    assert not out.parent.exists()
