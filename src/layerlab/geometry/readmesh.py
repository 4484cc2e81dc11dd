"""Read a gmsh ``.msh`` file into dolfinx on every rank, with its tags checked.

The mesh is read on rank 0 and distributed with facet-sharing ghosts (needed for interior-facet
integrals such as the 3D particle interface in parallel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from layerlab.errors import InputError
from layerlab.fe import MPI, dolfinx


def read_msh(path: str | Path, gdim: int, required: Mapping[str, tuple[int, int]] | None = None,
             comm: MPI.Comm = MPI.COMM_WORLD) -> "dolfinx.io.gmsh.MeshData":
    """Read ``path`` (gmsh 4 format) and check that the ``required`` physical groups exist.

    Parameters
    ----------
    path : the ``.msh`` file
    gdim : geometric dimension (2 or 3)
    required : physical-group name -> (dimension, tag) that must be present (see
        :mod:`layerlab.geometry.tags`)

    Raises
    ------
    InputError
        if the file is missing or a required group is absent or carries another tag.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("mesh", f"file {str(p)!r} does not exist", "a gmsh .msh file from the geometry stage")
    partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)
    data = dolfinx.io.gmsh.read_from_msh(str(p), comm, 0, gdim=gdim, partitioner=partitioner)
    groups = dict(data.physical_groups)
    for name, (dim, tag) in (required or {}).items():
        if name not in groups:
            raise InputError("mesh", f"{p.name} has no physical group {name!r}",
                             f"groups {sorted(required)} (found {sorted(groups)})")
        if tuple(groups[name]) != (dim, tag):
            raise InputError("mesh", f"{p.name}: group {name!r} is {tuple(groups[name])}",
                             f"(dimension, tag) = {(dim, tag)}")
    return data
