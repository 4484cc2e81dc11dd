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
    check_msh_file(p)
    partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)
    try:
        data = dolfinx.io.gmsh.read_from_msh(str(p), comm, 0, gdim=gdim, partitioner=partitioner)
    except Exception as err:  # noqa: BLE001 - gmsh raises bare Exceptions; serial runs end here
        raise InputError("mesh", f"{p.name} does not read as a gmsh mesh ({str(err).splitlines()[0][:120]})",
                         "a gmsh .msh file from the geometry stage") from err
    groups = dict(data.physical_groups)
    for name, (dim, tag) in (required or {}).items():
        if name not in groups:
            raise InputError("mesh", f"{p.name} has no physical group {name!r}",
                             f"groups {sorted(required)} (found {sorted(groups)})")
        if tuple(groups[name]) != (dim, tag):
            raise InputError("mesh", f"{p.name}: group {name!r} is {tuple(groups[name])}",
                             f"(dimension, tag) = {(dim, tag)}")
    return data


def check_msh_file(path: Path) -> None:
    """A whole gmsh file: it starts with ``$MeshFormat`` and its last section is closed (a truncated
    file is not).  Checked on every rank before the collective read (which would hang if rank 0 failed)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(max(0, size - 256))
        tail = f.read().rstrip()
    if not head.startswith(b"$MeshFormat"):
        raise InputError("mesh", f"{path.name} is not a gmsh file (no $MeshFormat header)",
                         "a gmsh .msh file from the geometry stage")
    last = tail.rsplit(b"\n", 1)[-1].strip()
    if not (last.startswith(b"$End") and last != b"$EndMeshFormat"):
        raise InputError("mesh", f"{path.name} is truncated (it ends inside a section)",
                         "a complete gmsh .msh file from the geometry stage")
