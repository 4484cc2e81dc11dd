"""Two-phase 2D meshes of the geometry stage's disk packings, for the 2D resolved half cell.

The wetting mesh (``mesh2d.msh``) holds the pore space only; the resolved model needs both
phases.  From ``packing2d.json`` (see :mod:`layerlab.geometry.packing2d`) this builds, with gmsh
(OpenCASCADE, micrometres, scaled to metres), the electrode ``[0, W] x [0, H]`` with its disks as
``PARTICLES`` cells and the pore space as ``ELECTROLYTE`` cells, a ``SEPARATOR`` band
``H < y < H + L_sep`` on top, and the facet groups ``CURRENT_COLLECTOR`` (``y = 0``), ``TOP``
(Li foil, ``y = H + L_sep``), ``SIDES``, ``ELECTRODE_SEPARATOR`` and ``INTERFACE`` (disk
boundaries) with the integer tags of :mod:`layerlab.geometry.tags` (the 3D convention, one
dimension lower).  ``y = 0`` is the current collector: the packing's coordinates are shifted by
the electrode's bottom line ``electrode_y_range_m[0]`` (kept as :attr:`DiskLayout.y_offset_m`
to read maps on the packing's grid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerlab.errors import InputError, require
from layerlab.fe import MPI, dolfinx
from layerlab.geometry import tags as T
from layerlab.resolved.boxmesh import UM, _finish, _gmsh_start


@dataclass(frozen=True)
class DiskLayout:
    """Electrode section of a 2D packing, in metres, collector at ``y = 0``."""

    width_m: float
    height_m: float
    y_offset_m: float                  # packing y of the collector line
    x_m: np.ndarray
    y_m: np.ndarray
    radius_m: np.ndarray
    population: tuple[str, ...]

    @classmethod
    def from_packing(cls, packing: Mapping[str, Any]) -> "DiskLayout":
        """Read a ``packing2d.json`` dict; InputError when a field is missing or a disk leaves the electrode."""
        for key in ("width_m", "electrode_y_range_m", "disk_x_m", "disk_y_m", "disk_radius_m"):
            require(key in packing, f"packing.{key}", "missing", "a packing2d.json of the geometry stage")
        y0, y1 = (float(v) for v in packing["electrode_y_range_m"])
        x = np.asarray(packing["disk_x_m"], float)
        y = np.asarray(packing["disk_y_m"], float) - y0
        r = np.asarray(packing["disk_radius_m"], float)
        W, H = float(packing["width_m"]), y1 - y0
        require(len(x) > 0 and len(x) == len(y) == len(r), "packing.disk_x_m", f"{len(x)} disks",
                "at least one disk, equal-length coordinate lists")
        inside = (x - r > 0) & (x + r < W) & (y - r > 0) & (y + r < H)
        if not np.all(inside):
            raise InputError("packing.disk_x_m", f"{np.count_nonzero(~inside)} disks cross the electrode's edges",
                             "disks wholly inside the electrode (the geometry stage's packings are)")
        pop = tuple(packing.get("disk_population", ["?"] * len(x)))
        return cls(W, H, y0, x, y, r, pop)

    @property
    def disk_area_m2(self) -> np.ndarray:
        return np.pi * self.radius_m ** 2


def disk_mesh(layout: DiskLayout, separator_m: float, h_m: float = 1e-6, h_min_m: float = 0.25e-6,
              points_per_circle: int = 40, comm: MPI.Comm = MPI.COMM_WORLD,
              msh_path: str | None = None) -> "dolfinx.io.gmsh.MeshData":
    """Triangle mesh of the electrode section with its disks and a separator band.

    Parameters
    ----------
    layout : disks and electrode size
    separator_m : separator band height (> 0; homogenised separator, Li foil on its top)
    h_m, h_min_m : largest and smallest element size
    points_per_circle : mesh-size-from-curvature setting (element edges per disk circumference)
    msh_path : also write the gmsh file there (rank 0, metres)
    """
    require(separator_m > 0, "resolved.separator_m", f"got {separator_m!r}", "> 0")
    gmsh = _gmsh_start()
    W, H, S = layout.width_m / UM, layout.height_m / UM, separator_m / UM
    h, hmin = h_m / UM, h_min_m / UM
    if comm.rank == 0:
        occ = gmsh.model.occ
        box = occ.addRectangle(0, 0, 0, W, H)
        disks = [(2, occ.addDisk(x / UM, y / UM, 0, r / UM, r / UM))
                 for x, y, r in zip(layout.x_m, layout.y_m, layout.radius_m)]
        sep = (2, occ.addRectangle(0, H, 0, W, S))
        _, pieces = occ.fragment([(2, box)], disks + [sep])
        occ.synchronize()
        disk_ids = {t for p in pieces[1:1 + len(disks)] for _, t in p}
        solid, liquid, band = [], [], []
        for _, v in gmsh.model.getEntities(2):
            if occ.getCenterOfMass(2, v)[1] > H:
                band.append(v)
            else:
                (solid if v in disk_ids else liquid).append(v)
        _tag_2d(gmsh, solid, liquid, band, W, H + S, 1e-3 * hmin)
        gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
        gmsh.option.setNumber("Mesh.CharacteristicLengthMin", hmin)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", points_per_circle)
        gmsh.model.mesh.generate(2)
    return _finish(gmsh, comm, msh_path, gdim=2)


def _tag_2d(gmsh, solid: list[int], liquid: list[int], band: list[int], width: float, top: float,
            tol: float) -> None:
    """Physical groups of a 2D section: cells and lines with the tags of :mod:`layerlab.geometry.tags`."""
    gm = gmsh.model
    for surfs, tag, name in ((solid, T.PARTICLES, "particles"), (liquid, T.ELECTROLYTE, "electrolyte"),
                             (band, T.SEPARATOR, "separator")):
        if surfs:
            gm.addPhysicalGroup(2, surfs, tag, name=name)

    def curves(surfs: list[int]) -> set[int]:
        return {abs(t) for _, t in gm.getBoundary([(2, v) for v in surfs], oriented=False, combined=False)}

    cs, cl, cb = curves(solid), curves(liquid), curves(band)
    groups: dict[int, list[int]] = {T.CURRENT_COLLECTOR: [], T.TOP: [], T.SIDES: [],
                                    T.ELECTRODE_SEPARATOR: [], T.INTERFACE: []}
    for _, c in gm.getEntities(1):
        x0, y0, _, x1, y1, _ = gm.getBoundingBox(1, c)
        if y1 < tol:
            groups[T.CURRENT_COLLECTOR].append(c)
        elif y0 > top - tol:
            groups[T.TOP].append(c)
        elif x1 - x0 < tol and (x1 < tol or x0 > width - tol):
            groups[T.SIDES].append(c)
        elif c in cs and c in cl:
            groups[T.INTERFACE].append(c)
        elif c in cb and c in cl:
            groups[T.ELECTRODE_SEPARATOR].append(c)
    names = {v: k for k, (_, v) in T.NAMES_3D.items()}
    for tag, ents in groups.items():
        if ents:
            gm.addPhysicalGroup(1, ents, tag, name=names[tag])


def disk_of_cells(msh: "dolfinx.mesh.Mesh", cells: np.ndarray, layout: DiskLayout) -> np.ndarray:
    """Index of the disk containing each cell's midpoint (-1: none)."""
    mid = dolfinx.mesh.compute_midpoints(msh, msh.topology.dim, cells.astype(np.int32))[:, :2]
    d2 = ((mid[:, None, 0] - layout.x_m[None]) ** 2 + (mid[:, None, 1] - layout.y_m[None]) ** 2
          - layout.radius_m[None] ** 2)
    k = d2.argmin(axis=1)
    return np.where(d2[np.arange(len(k)), k] < 0, k, -1)
