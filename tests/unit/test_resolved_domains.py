"""Phases of a resolved mesh: bad tags, particles without an electronic path, the CLI's input checks."""

from __future__ import annotations

import argparse
import logging
from types import SimpleNamespace

import numpy as np
import pytest

from layerlab.errors import InputError
from layerlab.fe import MPI, mesh
from layerlab.geometry import tags as T
from layerlab.resolved.boxmesh import sphere_box_mesh
from layerlab.resolved.domains import build_phases, check_tags

W = 10e-6
TOUCHING = (5e-6, 5e-6, 3.0e-6, 3.5e-6)        # cut by the current collector
FLOATING = (5e-6, 5e-6, 8.0e-6, 1.5e-6)        # inside the electrolyte, 0.5 um above the other


def _data(spheres, comm=MPI.COMM_SELF):
    return sphere_box_mesh(W, W, spheres, separator_m=3e-6, h_m=2.0e-6, comm=comm)


def test_floating_particle_is_excluded_and_reported(caplog) -> None:
    data = _data([TOUCHING, FLOATING])
    with caplog.at_level(logging.WARNING, logger="layerlab.resolved"):
        ph = build_phases(data)
    assert ph.components == 2 and ph.excluded_components == 1
    v_float = 4 / 3 * np.pi * FLOATING[3] ** 3
    h = TOUCHING[3] - TOUCHING[2]                     # cap below z = 0 removed
    v_touch = 4 / 3 * np.pi * TOUCHING[3] ** 3 - np.pi * h * h * (3 * TOUCHING[3] - h) / 3
    # (a coarse polyhedral 1.5 um sphere loses a quarter of its volume at h = 2 um)
    assert ph.excluded_volume_fraction == pytest.approx(v_float / (v_float + v_touch), rel=0.3)
    assert "no electronic path" in caplog.text
    # the floating sphere carries no unknowns and no interface: solid cells = touching particle only
    ph1 = build_phases(_data([TOUCHING]))
    n = ph.solid.topology.index_map(3).size_local
    n1 = ph1.solid.topology.index_map(3).size_local
    assert n == pytest.approx(n1, rel=0.3)
    assert ph.interface.shape[0] == pytest.approx(ph1.interface.shape[0], rel=0.3)


def test_separate_particles_on_the_collector_are_reported(caplog) -> None:
    """Two particles resting apart on the collector both keep their unknowns, and the log names them
    (the S-Dry-L first-step failure of issue 13 under a collector current uniform per contact area:
    spheres cut off by lost necks took ~7 % of the current each; test_resolved_collector.py)."""
    other = (1.2e-6, 1.2e-6, 1.2e-6, 1.6e-6)                   # 0.4 um deep in the collector, 0.6 um apart
    with caplog.at_level(logging.WARNING, logger="layerlab.resolved"):
        ph = build_phases(_data([TOUCHING, other]))
    assert ph.components == 2 and ph.excluded_components == 0
    assert "2 particle components touch the current collector" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="layerlab.resolved"):
        build_phases(_data([TOUCHING]))
    assert "touch the current collector" not in caplog.text


def test_no_particle_reaching_the_collector_fails() -> None:
    with pytest.raises(InputError, match="no particle reaches the current collector"):
        build_phases(_data([FLOATING]))


def test_untagged_cells_fail() -> None:
    data = _data([TOUCHING])
    ct = data.cell_tags
    keep = ct.values != T.PARTICLES
    bad = SimpleNamespace(mesh=data.mesh, facet_tags=data.facet_tags,
                          cell_tags=mesh.meshtags(data.mesh, 3, ct.indices[keep], ct.values[keep]))
    with pytest.raises(InputError, match="carry no phase tag"):
        check_tags(bad)


def test_missing_interface_tags_fail() -> None:
    data = _data([TOUCHING])
    ft = data.facet_tags
    keep = ft.values != T.INTERFACE
    bad = SimpleNamespace(mesh=data.mesh, cell_tags=data.cell_tags,
                          facet_tags=mesh.meshtags(data.mesh, 2, ft.indices[keep], ft.values[keep]))
    with pytest.raises(InputError, match="interface"):
        check_tags(bad)


def test_command_rejects_bad_input_before_writing(tmp_path, repo_root) -> None:
    from layerlab.resolved.commands import COMMANDS
    cmd = COMMANDS["resolve3d"]
    out = tmp_path / "run.nc"
    case = "L-Dry-S_load29.6_por0.55_ls0.5_seed0"
    args = argparse.Namespace(config=str(repo_root / "config" / "config.yaml"), case=case,
                              mesh=str(tmp_path / "missing.msh"), out=str(out), vtx=None, dim=3)
    with pytest.raises(InputError, match="mesh"):
        cmd.run(args)
    # a mesh without the particle groups (a gmsh file with only the pore phase)
    import gmsh
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.clear()
    gmsh.model.occ.addBox(0, 0, 0, 1, 1, 1)
    gmsh.model.occ.synchronize()
    gmsh.model.addPhysicalGroup(3, [1], T.ELECTROLYTE, name="electrolyte")
    gmsh.model.mesh.generate(3)
    gmsh.write(str(tmp_path / "pore_only.msh"))
    gmsh.clear()
    args.mesh = str(tmp_path / "pore_only.msh")
    with pytest.raises(InputError, match="particles"):
        cmd.run(args)
    assert not out.exists()
    assert list(tmp_path.glob("*.nc*")) == []
