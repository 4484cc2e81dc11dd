"""Bad wetting input is refused before any time step, naming the field, and nothing is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerlab.errors import InputError
from layerlab.geometry.tags import NAMES_2D
from layerlab.wetting.case import check_inputs, run_case
from layerlab.wetting.params import WettingParams, params_from_config

CASE = "L-S_load29.6_por0.55_ls0.5_seed0"


def _geometry(folder: Path, min_throat_m: float = 2e-6, groups: bool = True) -> tuple[Path, Path]:
    """A 10 x 20 um pore rectangle as the geometry stage would write it (optionally without boundary groups)."""
    import gmsh
    folder.mkdir(parents=True, exist_ok=True)
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("box")
    s = gmsh.model.occ.addRectangle(0, 0, 0, 10e-6, 20e-6)
    gmsh.model.occ.synchronize()
    gmsh.model.addPhysicalGroup(2, [s], 1, name="pore")
    if groups:
        for (_, c), name in zip(gmsh.model.getEntities(1), ("outlet", "side_right", "inlet", "side_left")):
            gmsh.model.addPhysicalGroup(1, [c], NAMES_2D[name][1], name=name)
        gmsh.model.addPhysicalGroup(1, [], NAMES_2D["particle_wall"][1], name="particle_wall")
    gmsh.option.setNumber("Mesh.CharacteristicLengthMax", 2e-6)
    gmsh.model.mesh.generate(2)
    gmsh.write(str(folder / "mesh2d.msh"))
    gmsh.finalize()
    (folder / "mesh2d.json").write_text(json.dumps({"min_throat_m": min_throat_m}))
    (folder / "packing2d.json").write_text(json.dumps(
        {"width_m": 10e-6, "domain_height_m": 20e-6, "electrode_y_range_m": [5e-6, 15e-6]}))
    return folder / "mesh2d.msh", folder / "packing2d.json"


@pytest.mark.parametrize("field,value", [("velocity_m_s", 0.0), ("velocity_m_s", -1e-4),
                                         ("viscosity_electrolyte_pa_s", 0.0), ("viscosity_air_pa_s", -1.0),
                                         ("surface_tension_n_m", 0.0), ("contact_angle_deg", 180.0),
                                         ("refactor_every", 0), ("dt_initial_s", 1.0),
                                         ("linear_solver", "gmres"), ("krylov_rtol", 0.0),
                                         ("krylov_refactor_iterations", 99)])
def test_bad_parameters_name_the_field(field: str, value: float) -> None:
    with pytest.raises(InputError) as err:
        params_from_config({field: value})
    assert err.value.field == f"wetting.{field}"


def test_defaults_are_valid_and_scaled() -> None:
    p = WettingParams()
    p.validate()
    assert p.capillary_number == pytest.approx(3.1e-3 * 1e-4 / 0.03)
    assert p.lambda_hat * 2 * 2**0.5 / 3 / p.eps_hat == pytest.approx(p.sigma_hat)   # sigma = 2 sqrt2/3 lambda/eps


def test_interface_wider_than_smallest_throat(tmp_path: Path) -> None:
    mesh, packing = _geometry(tmp_path, min_throat_m=0.3e-6)
    with pytest.raises(InputError) as err:
        check_inputs({"interface_width_m": 0.5e-6}, mesh, packing)
    assert err.value.field == "wetting.interface_width_m"


def test_mesh_coarser_than_the_interface_is_refused(tmp_path: Path) -> None:
    """h_max = 2 um with eps = 0.5 um pinned the front on a real packing: refuse it before any step."""
    mesh, packing = _geometry(tmp_path)
    info = json.loads((tmp_path / "mesh2d.json").read_text())
    (tmp_path / "mesh2d.json").write_text(json.dumps({**info, "h_max_m": 2e-6}))
    with pytest.raises(InputError) as err:
        check_inputs({"interface_width_m": 0.5e-6}, mesh, packing)
    assert err.value.field == "wetting.interface_width_m" and "under-resolved" in str(err.value)
    check_inputs({"interface_width_m": 1.5e-6}, mesh, packing)     # h_max = 1.33 eps is accepted


def test_mesh_without_needed_tags_writes_nothing(tmp_path: Path) -> None:
    mesh, packing = _geometry(tmp_path / "g", groups=False)
    out = tmp_path / "out" / "case.nc"
    with pytest.raises(InputError) as err:
        run_case({}, CASE, mesh, packing, out)
    assert err.value.field == "mesh" and "inlet" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_missing_packing_key(tmp_path: Path) -> None:
    mesh, packing = _geometry(tmp_path)
    packing.write_text(json.dumps({"width_m": 1e-5}))
    with pytest.raises(InputError) as err:
        check_inputs({}, mesh, packing)
    assert err.value.field == "packing.domain_height_m"


def test_cli_bad_velocity_exits_2_and_writes_nothing(tmp_path: Path, repo_root: Path) -> None:
    mesh, packing = _geometry(tmp_path / "g")
    cfg = (repo_root / "config" / "config.yaml").read_text()
    cfg = cfg.replace("\nwetting:\n", "\nwetting:\n  velocity_m_s: -1.0e-4\n", 1)
    cfg = cfg.replace("materials: config/parameters/materials.yaml",
                      f"materials: {repo_root / 'config' / 'parameters' / 'materials.yaml'}")
    (tmp_path / "cfg.yaml").write_text(cfg)
    out = tmp_path / "out" / "case.nc"
    proc = subprocess.run([sys.executable, "-m", "layerlab", "wet", "--config", str(tmp_path / "cfg.yaml"),
                           "--case", CASE, "--mesh", str(mesh), "--packing", str(packing), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=repo_root)
    assert proc.returncode == 2, proc.stderr
    assert "wetting.velocity_m_s" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_wetting_seeds_are_validated_and_default_to_the_geometry_seeds(repo_root: Path) -> None:
    """``wetting.seeds`` multiplies only the wetting runs; bad entries name the field."""
    import yaml
    from layerlab.aggregate.datasets import dataset_cases, stage_seeds
    from layerlab.config import validate_config
    raw = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg = validate_config({**raw, "wetting": {**raw["wetting"], "seeds": [0, 1, 2]}})
    assert stage_seeds(cfg, "wetting") == [0, 1, 2] and stage_seeds(cfg, "transport") == cfg["geometry"]["seeds"]
    assert len(dataset_cases(cfg, "wetting")) == 3 * len({c.rsplit("_seed", 1)[0] for c in dataset_cases(cfg, "wetting")})
    cfg = validate_config({**raw, "wetting": {k: v for k, v in raw["wetting"].items() if k != "seeds"}})
    assert stage_seeds(cfg, "wetting") == cfg["geometry"]["seeds"]
    for bad in ([-1], [], "0"):
        with pytest.raises(InputError) as err:
            validate_config({**raw, "wetting": {**raw["wetting"], "seeds": bad}})
        assert "wetting.seeds" in str(err.value)
