"""The resolved 3D half cell on a real packing (``pack3d`` -> level-set ``mesh3d`` -> ``resolve3d``).

A small real case: L-Dry-S at 6 mg/cm2 and 45 % porosity (a ~20 um electrode), 22.6 um (two L
diameters) wide, a 10 um separator slab, lattice h = 3 um.  Checks: lithium conserved to 1e-8 and
1 vs 2 ranks equal to 1e-8 (capacity, per-particle state); the command's dataset (phi_e profile,
per-particle end state consistent with the mean stoichiometry); bad input (unknown solver, a
non-boolean keep_freed_memory, too narrow a packing, a packing of another case, a mesh without the
interface tag): one line, exit 2, nothing written; at 0.05C the capacity per active mass within 2 %
of the campaign DFN's on the same design.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from layerlab.fe import MPI

CASE = "L-Dry-S_load6_por0.45_ls0.5_seed0"
UM = 1e-6
H_UM, SEP_UM, LATERAL_UM = 3.0, 10.0, 22.6


def _config(tmp: Path, repo_root: Path, **resolved) -> str:
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["materials"] = str(repo_root / "config" / "parameters" / "materials.yaml")
    cfg["geometry"]["packing3d"] = {"lateral_um": LATERAL_UM, "separator_um": SEP_UM}
    cfg["geometry"]["mesh3d"] = {"route": "levelset", "h_um": H_UM, "h_min_um": H_UM}
    cfg["resolved"].update({"parameters": str(repo_root / "config" / "parameters" / "dfn_nmc83.yaml"),
                            "discharge_c_rate": 1.0, "v_min_V": 3.9, "dt_max_s": 300.0, "dv_max_V": 0.03,
                            "profile_every_s": 60.0, "profile_bins": 12, **resolved})
    path = tmp / f"cfg{len(list(tmp.glob('cfg*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _packing_and_mesh(folder: Path) -> tuple[Path, Path]:
    """pack3d + level-set mesh of CASE (rank 0 of the caller's communicator)."""
    from layerlab.design import ElectrodeDesign
    from layerlab.geometry.levelset3d import mesh_packing, summary, write_msh
    from layerlab.geometry.packing3d import Packing3DOptions, pack3d, write_packing3d
    from layerlab.io import write_json_atomic
    folder.mkdir(parents=True, exist_ok=True)
    packing = pack3d(ElectrodeDesign("L-Dry-S", 6.0, 0.45, 0.5),
                     Packing3DOptions(lateral_um=LATERAL_UM, separator_um=SEP_UM), seed=0, case=CASE)
    write_packing3d(packing, folder / "packing3d.json")
    d = json.loads((folder / "packing3d.json").read_text())
    mesh = mesh_packing(d, H_UM * UM, H_UM * UM)
    write_msh(mesh, str(folder / "mesh3d.msh"))
    write_json_atomic(folder / "mesh3d.json", {**summary(mesh, d), "case": CASE})
    return folder / "packing3d.json", folder / "mesh3d.msh"


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """packing3d.json and mesh3d.msh of CASE, made once for the serial tests."""
    return _packing_and_mesh(tmp_path_factory.mktemp("resolved3d") / "case")


def _short_discharge(msh: Path, packing: dict, comm: MPI.Comm):
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.geometry import tags as T
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel
    from layerlab.resolved.particles import ParticleIntegrals
    from layerlab.resolved.solver import Runner, StepControl
    data = read_msh(msh, 3, required=T.NAMES_3D, comm=comm)
    params = load_parameters().replace("separator", thickness_m=SEP_UM * UM)
    m = ResolvedModel(build_phases(data), params)
    m.set_rest_state(stoichiometry_at_ocp(params.positive.ocp, 4.3))
    one_c = 210.0 * 5000.0 * m.particle_volume_m3_m2()
    tr = Runner(m, StepControl(dt_initial_s=5.0, dt_max_s=300.0, dv_max_V=0.03)).run_cc(one_c, v_min_V=3.5,
                                                                                      duration_s=240.0)
    return tr, ParticleIntegrals(m, packing).state(), m


@pytest.mark.mpi
def test_real_packing_conserves_lithium_and_is_rank_independent(mpi_tmp_path) -> None:
    from layerlab.electrochem.parameters import FARADAY
    comm = MPI.COMM_WORLD
    if comm.rank == 0:
        _packing_and_mesh(mpi_tmp_path / "case")
    comm.Barrier()
    packing = json.loads((mpi_tmp_path / "case" / "packing3d.json").read_text())
    msh = mpi_tmp_path / "case" / "mesh3d.msh"
    world, pw, mw = _short_discharge(msh, packing, comm)
    serial, ps, _ = _short_discharge(msh, packing, MPI.COMM_SELF)
    assert mw.comm.size == comm.size
    for tr in (world, serial):
        li = np.array(tr.li_electrolyte_mol_m2) + np.array(tr.li_particles_mol_m2)
        err = (li - li[0]) - np.array(tr.charge_C_m2) / FARADAY
        assert np.abs(err).max() / li[0] < 1e-8
        assert tr.end_reason == "duration" and tr.capacity_C_m2 > 0
    assert world.capacity_C_m2 == pytest.approx(serial.capacity_C_m2, rel=1e-8)
    np.testing.assert_array_equal(pw.sphere, ps.sphere)
    np.testing.assert_allclose(pw.stoichiometry, ps.stoichiometry, rtol=1e-8)
    np.testing.assert_allclose(pw.volume_m3, ps.volume_m3, rtol=1e-10)
    # the spheres' volumes add up to the modelled particle volume, and they lithiated
    vol = mw.particle_volume_m3_m2() * mw.box_area_m2
    assert pw.volume_m3.sum() == pytest.approx(vol, rel=1e-10)
    assert np.all(pw.stoichiometry > serial.mean_stoichiometry[0])


def test_resolve3d_on_packing_writes_particles_and_rejects_bad_input(tmp_path, repo_root, capsys,
                                                                    case_files, cf_check) -> None:
    import xarray as xr

    from layerlab.cli import main
    from layerlab.geometry import tags as T
    from layerlab.geometry.levelset3d import mesh_packing, write_msh
    cfg = _config(tmp_path, repo_root)
    packing, msh = case_files
    out = tmp_path / "runs" / f"{CASE}.nc"

    def bad(args: list[str], field: str) -> None:
        capsys.readouterr()
        assert main(["resolve3d", *args, "--out", str(out)]) == 2
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("layerlab resolve3d:")]
        assert len(err) == 1 and field in err[0], err
        assert not out.parent.exists() or not list(out.parent.iterdir())

    base = ["--case", CASE, "--mesh", str(msh), "--packing", str(packing)]
    bad(["--config", _config(tmp_path, repo_root, linear_solver="superlu"), *base[:]], "linear_solver")
    bad(["--config", _config(tmp_path, repo_root, keep_freed_memory="yes"), *base], "keep_freed_memory")
    narrow = json.loads(packing.read_text())
    narrow["box_m"] = [10e-6, 10e-6, narrow["box_m"][2]]
    (tmp_path / "narrow.json").write_text(json.dumps(narrow))
    bad(["--config", cfg, "--case", CASE, "--mesh", str(msh), "--packing", str(tmp_path / "narrow.json")],
        "lateral_um")
    other = CASE.replace("seed0", "seed1")
    bad(["--config", cfg, "--case", other, "--mesh", str(msh), "--packing", str(packing)], "mesh")  # mesh3d.json
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "mesh3d.msh").write_bytes(msh.read_bytes())
    bad(["--config", cfg, "--case", other, "--mesh", str(lone / "mesh3d.msh"), "--packing", str(packing)],
        "another case")
    m = mesh_packing(json.loads(packing.read_text()), H_UM * UM, H_UM * UM)
    keep = m.facet_tags != T.INTERFACE
    m.facets, m.facet_tags = m.facets[keep], m.facet_tags[keep]
    write_msh(m, str(lone / "untagged.msh"))
    bad(["--config", cfg, "--case", CASE, "--mesh", str(lone / "untagged.msh"), "--packing", str(packing)],
        "interface")
    # the real run: 1C to 3.9 V
    assert main(["resolve3d", "--config", cfg, *base, "--out", str(out)]) == 0
    assert cf_check(out) == []                # CF 1.10 (with the particle variables): no error, no warning
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name in ds.data_vars:
            assert "units" in ds[name].attrs and "long_name" in ds[name].attrs
        assert ds.attrs["Conventions"].startswith("CF") and ds.attrs["case"] == CASE
        assert abs(ds.attrs["lithium_balance_error_rel"]) < 1e-8
        assert ds.attrs["discharge_end_reason"] == "voltage cut-off"
        # phi_e: below the foil's 0 V during the discharge, falling towards the collector
        phie = ds["phi_e"].values[-1]
        ok = np.isfinite(phie)
        assert np.all(phie[ok] < 0) and phie[ok][0] < phie[ok][-1]
        # per particle: the volume mean of the spheres' end states is the run's end mean stoichiometry
        w, s = ds["particle_volume"].values, ds["particle_end_stoichiometry"].values
        assert np.sum(w * s) / np.sum(w) == pytest.approx(float(ds["mean_stoichiometry"].values[-1]), rel=1e-10)
        assert set(ds["particle_population"].values.astype(str)) <= {"L", "S"}
        assert np.all(ds["particle_depth"].values >= -ds["particle_radius"].values)
    assert not list(out.parent.glob(".*tmp*"))


V_CUT_LOW_RATE = 3.5
"""Cut-off of the 0.05C comparison: just above the OCP minimum, as in test_resolved_capacity.py."""


# 0.05C: the DFN gets the design itself (cathode_from_design: two layers, the L and S radii of
# materials.yaml, Bruggeman), the same parameters and separator, the same C-rate per active mass
# (1C = 210 mA/g of the resolved particles / of the design's active mass), the same start (rest at
# the OCP of 4.3 V) and cut-off.  Near equilibrium the capacities per active mass must agree within 2 %.
@pytest.mark.slow
def test_low_rate_capacity_of_a_real_packing_matches_the_dfn(case_files) -> None:
    from layerlab.design import ElectrodeDesign
    from layerlab.electrochem.cell import HalfCell, cathode_from_design
    from layerlab.electrochem.dfn import DFNModel
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.integrator import Integrator, Segment
    from layerlab.electrochem.parameters import FARADAY, load_parameters
    from layerlab.geometry import tags as T
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel
    from layerlab.resolved.solver import Runner, StepControl

    _, msh = case_files
    params = load_parameters().replace("separator", thickness_m=SEP_UM * UM)
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    m = ResolvedModel(build_phases(read_msh(msh, 3, required=T.NAMES_3D, comm=MPI.COMM_SELF)), params)
    m.set_rest_state(s0)
    mass = 5000.0 * m.particle_volume_m3_m2()                     # kg/m2 (materials.yaml density)
    tr = Runner(m, StepControl(dt_initial_s=20.0, dt_max_s=3600.0, dv_max_V=0.03)).run_cc(
        0.05 * 210.0 * mass, v_min_V=V_CUT_LOW_RATE)
    q_res = tr.capacity_C_m2 / mass / 3600.0                       # mAh/g
    design = ElectrodeDesign("L-Dry-S", 6.0, 0.45, 0.5)
    cathode = cathode_from_design(design)
    dfn = DFNModel(HalfCell(params, cathode), comm=MPI.COMM_SELF)
    dfn.set_initial_state(s0)
    trd = Integrator(dfn, record_profiles=False).run(
        Segment("current", 0.05 * cathode.capacity_1C_A_m2, 40 * 3600.0, v_min_V=V_CUT_LOW_RATE))
    q_dfn = (trd.charge_C_m2[-1] - trd.charge_C_m2[0]) / cathode.active_mass_kg_m2 / 3600.0
    print(json.dumps({"resolved_mAh_g": q_res, "dfn_mAh_g": q_dfn, "rel_diff": q_res / q_dfn - 1,
                      "resolved_end": tr.end_reason, "dfn_end": trd.end_reason}))
    li = tr.li_electrolyte_mol_m2[-1] + tr.li_particles_mol_m2[-1]
    li0 = tr.li_electrolyte_mol_m2[0] + tr.li_particles_mol_m2[0]
    assert abs(li - li0 - tr.capacity_C_m2 / FARADAY) / li0 < 1e-8
    assert tr.end_reason == "voltage cut-off" and trd.end_reason == "voltage cut-off"
    assert q_res == pytest.approx(q_dfn, rel=0.02)
