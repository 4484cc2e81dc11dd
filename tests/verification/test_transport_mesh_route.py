"""The gmsh two-phase mesh route: a straight channel gives tau = 1; untagged phases are an input error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from layerlab.errors import InputError
from layerlab.fe import MPI
from layerlab.geometry.tags import ELECTROLYTE, PARTICLES
from layerlab.transport.tetmesh import mesh_study
from layerlab.transport.study import ELECTRODE


def _channel_mesh(path: Path, tag_pore: bool = True) -> float:
    """Box 3 x 3 x 6 with a 1 x 1 square channel along z (electrolyte) in a solid block; returns its fraction."""
    import gmsh

    gmsh.initialize(["-v", "0"])
    try:
        gmsh.model.add("channel")
        occ = gmsh.model.occ
        block = occ.addBox(0, 0, 0, 3, 3, 6)
        channel = occ.addBox(1, 1, 0, 1, 1, 6)
        out, _ = occ.fragment([(3, block)], [(3, channel)])
        occ.synchronize()
        vols = [t for d, t in out if d == 3]
        pore = [t for t in vols if abs(occ.getMass(3, t) - 6.0) < 1e-9]
        solid = [t for t in vols if t not in pore]
        if tag_pore:
            gmsh.model.addPhysicalGroup(3, pore, ELECTROLYTE, name="electrolyte")
        gmsh.model.addPhysicalGroup(3, solid, PARTICLES, name="particles")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.7)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()
    return 1.0 / 9.0


def test_channel_on_tetrahedral_submesh(tmp_path: Path) -> None:
    path = tmp_path / "channel.msh"
    fraction = _channel_mesh(path)
    study = mesh_study(MPI.COMM_SELF, path)
    pore = study.results[(ELECTRODE, "pore")]
    assert pore["z"].phase_fraction == pytest.approx(fraction, rel=1e-10)
    assert pore["z"].tortuosity_factor == pytest.approx(1.0, abs=1e-3)
    assert pore["x"].relative_diffusivity == 0.0 and math.isinf(pore["x"].tortuosity_factor)
    solid = study.results[(ELECTRODE, "solid")]
    assert solid["z"].tortuosity_factor == pytest.approx(1.0, abs=1e-3)
    # across the channel the solid must go around the (insulating) hole: slower than straight
    assert solid["x"].relative_diffusivity < solid["x"].phase_fraction
    assert solid["x"].tortuosity_factor >= (3 - solid["x"].phase_fraction) / 2


def test_untagged_phase_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "untagged.msh"
    _channel_mesh(path, tag_pore=False)
    with pytest.raises(InputError) as err:
        mesh_study(MPI.COMM_SELF, path)
    assert "electrolyte" in str(err.value)


def test_command_mesh_route_writes_electrode_values(tmp_path: Path, repo_root: Path) -> None:
    """``transport --route mesh``: whole-electrode values from the mesh, layers NaN (voxel route only)."""
    import json

    import numpy as np
    import xarray as xr

    from layerlab.cli import main

    mesh_path = tmp_path / "mesh3d.msh"
    _channel_mesh(mesh_path)
    packing = {"box_m": [3.0, 3.0, 6.0], "periodic": False, "sphere_x_m": [], "sphere_y_m": [], "sphere_z_m": [],
               "sphere_radius_m": [], "sphere_population": [],
               "layers": [{"name": "L", "z_bottom_m": 0.0, "z_top_m": 3.0}, {"name": "S", "z_bottom_m": 3.0,
                                                                             "z_top_m": 6.0}]}
    (tmp_path / "packing3d.json").write_text(json.dumps(packing))
    out = tmp_path / "out.nc"
    args = ["transport", "--config", str(repo_root / "config" / "config.yaml"), "--case",
            "L-Dry-S_load22_por0.45_ls0.5_seed0", "--packing", str(tmp_path / "packing3d.json"),
            "--route", "mesh", "--mesh", str(mesh_path), "--out", str(out)]
    assert main(args) == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["route"] == "mesh"
        assert float(ds["tortuosity_factor_electrode"].sel(direction="z")) == pytest.approx(1.0, abs=1e-3)
        assert float(ds["pore_fraction_electrode"]) == pytest.approx(1.0 / 9.0, rel=1e-10)
        assert np.all(np.isnan(ds["tortuosity_factor"].values))
    # a packing of another box than the mesh: input error, nothing written
    packing["box_m"] = [3.0, 3.0, 7.0]
    (tmp_path / "packing3d.json").write_text(json.dumps(packing))
    out.unlink()
    assert main(args) == 2
    assert not out.exists()
