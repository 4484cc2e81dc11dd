"""The resolved run's VTX fields (ParaView): written, and holding the model's fields at every output.

No ADIOS2 reader is installed (no ``adios2`` / ``adios4dolfinx`` module), so the BP4 folders are read
back structurally: one index record per output time in ``md.idx`` (BP4: a 64-byte header, then 64
bytes per step), the field names in the metadata (``md.0``, the ``vtk.xml`` schema ParaView reads),
and the exact float64 bytes of every field at every output time in ``data.0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layerlab.cfnames import PROFILE_SAMPLE
from layerlab.fe import MPI
from layerlab.resolved.boxmesh import sphere_box_mesh

BP4_HEADER, BP4_STEP = 64, 64


def _steps(bp: Path) -> int:
    """Number of steps in a BP4 folder, from its index file."""
    size = (bp / "md.idx").stat().st_size
    assert (size - BP4_HEADER) % BP4_STEP == 0, size
    return (size - BP4_HEADER) // BP4_STEP


@pytest.fixture(scope="module")
def vtx_run(tmp_path_factory: pytest.TempPathFactory):
    """A short 1C discharge of one sphere under a separator with VTX output; the fields at each output."""
    from layerlab.electrochem.parameters import load_parameters
    from layerlab.geometry import tags as T
    from layerlab.geometry.readmesh import read_msh
    from layerlab.resolved.run import Protocol, run_resolved
    from layerlab.resolved.solver import StepControl

    tmp = tmp_path_factory.mktemp("vtx")
    msh = tmp / "mesh3d.msh"
    sphere_box_mesh(10e-6, 10e-6, [(5e-6, 5e-6, 3.8e-6, 4.5e-6)], separator_m=5e-6, h_m=2.5e-6,
                    comm=MPI.COMM_SELF, msh_path=str(msh))
    data = read_msh(str(msh), 3, required={k: T.NAMES_3D[k] for k in
                                           ("electrolyte", "particles", "current_collector", "top", "interface")},
                    comm=MPI.COMM_SELF)
    saved: list[dict[str, np.ndarray]] = []

    def keep(model, t_s: float) -> None:
        saved.append({f.name: f.x.array.copy() for f in model.u})

    ds, _ = run_resolved(data, load_parameters(), Protocol(1.0, 0.0, 3.9, 4.3), 210.0, 5000.0,
                         StepControl(dt_max_s=300.0, dv_max_V=0.03), profile_bins=6, profile_every_s=300.0,
                         vtx_folder=str(tmp / "fields"), on_output=keep)
    return tmp / "fields", ds, saved


def test_vtx_folders_hold_every_output_time(vtx_run) -> None:
    folder, ds, saved = vtx_run
    assert len(saved) == ds.sizes[PROFILE_SAMPLE] >= 3
    for name, fields in (("electrolyte.bp", ("c_e", "phi_e")), ("particles.bp", ("stoichiometry", "phi_s"))):
        bp = folder / name
        assert {"md.idx", "md.0", "data.0"} <= {p.name for p in bp.iterdir()}, name
        assert _steps(bp) == len(saved), name
        meta = (bp / "md.0").read_bytes()
        for f in fields:
            assert f.encode() in meta, (name, f)


def test_vtx_data_are_the_model_fields(vtx_run) -> None:
    """Every field at every output time lies in ``data.0`` byte for byte (serial run: no ghosts)."""
    folder, _, saved = vtx_run
    blobs = {n: (folder / n / "data.0").read_bytes() for n in ("electrolyte.bp", "particles.bp")}
    where = {"c_e": "electrolyte.bp", "phi_e": "electrolyte.bp", "stoichiometry": "particles.bp",
             "phi_s": "particles.bp"}
    for k, fields in enumerate(saved):
        for name, values in fields.items():
            assert values.astype(np.float64).tobytes() in blobs[where[name]], (k, name)
    # the fields change between outputs (a discharge), so the match is not trivially the first state
    assert not np.array_equal(saved[0]["stoichiometry"], saved[-1]["stoichiometry"])
