"""2D pore-space meshes with gmsh: the domain rectangle minus the packed disks.

Physical groups are those of :data:`layerlab.geometry.tags.NAMES_2D`.  The local element size is a
local-feature-size estimate: at a point ``p`` with distances ``d1 <= d2`` to its two nearest
obstacles (disks, side walls, inlet and outlet edges), the size is
``clamp((d1 + d2) / (1.25 cells_across_throat), h_min, h_max)`` (the factor 1.25 because gmsh's
triangles come out up to ~1.3 times the requested size).  Along the line of a throat of width
``w`` between two obstacles ``d1 + d2 = w``, so every throat gets at least
``cells_across_throat`` elements across, and the size grows smoothly away from the particles.
Circles are also resolved by ``elements_per_circle`` segments.

The model is built in micrometres (for OCC tolerances) and saved in metres (SI) with
``Mesh.ScalingFactor``.  gmsh runs with one thread and a fixed seed, so a packing always gives
the same mesh.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from layerlab.errors import InputError, options_from_mapping, require, require_in_range
from layerlab.geometry import tags
from layerlab.io import atomic_path, write_json_atomic
from layerlab.units import M_TO_UM, UM_TO_M

log = logging.getLogger("layerlab.geometry")

FIELD = "geometry.mesh2d"


@dataclass(frozen=True)
class Mesh2DOptions:
    """Options of the 2D mesh (``config["geometry"]["mesh2d"]``), lengths in um.

    Parameters
    ----------
    h_max_um : element size far from the particles
    h_min_um : smallest element size allowed
    cells_across_throat : elements across the narrowest gap between two obstacles
    elements_per_circle : segments along the circumference of each disk (at most)
    """

    h_max_um: float = 2.0
    h_min_um: float = 0.1
    cells_across_throat: int = 4
    elements_per_circle: int = 24

    def __post_init__(self) -> None:
        for name in ("h_max_um", "h_min_um"):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
                    f"{FIELD}.{name}", f"got {value!r}", "a finite number")
        require_in_range(self.h_max_um, f"{FIELD}.h_max_um", 0.0, 100.0, low_open=True)
        require_in_range(self.h_min_um, f"{FIELD}.h_min_um", 0.0, self.h_max_um, low_open=True)
        for name, low in (("cells_across_throat", 1), ("elements_per_circle", 8)):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool) and low <= value <= 1000,
                    f"{FIELD}.{name}", f"got {value!r}", f"an integer in [{low}, 1000]")

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> "Mesh2DOptions":
        """Options from ``config["geometry"]["mesh2d"]``; unknown keys raise InputError."""
        return options_from_mapping(cls, section, FIELD)


@dataclass(frozen=True)
class PoreGeometry:
    """The pore domain in micrometres: ``[0, width] x [0, height]`` minus the disks."""

    width_um: float
    height_um: float
    x_um: np.ndarray
    y_um: np.ndarray
    r_um: np.ndarray

    @classmethod
    def from_packing(cls, packing: Mapping[str, Any]) -> "PoreGeometry":
        """Read the geometry of a ``packing2d.json`` dictionary (SI) into micrometres."""
        try:
            return cls(float(packing["width_m"]) * M_TO_UM, float(packing["domain_height_m"]) * M_TO_UM,
                       np.asarray(packing["disk_x_m"], float) * M_TO_UM,
                       np.asarray(packing["disk_y_m"], float) * M_TO_UM,
                       np.asarray(packing["disk_radius_m"], float) * M_TO_UM)
        except (KeyError, TypeError, ValueError) as err:
            raise InputError("packing", f"not a packing2d.json ({err})", "the output of pack2d") from None

    @property
    def pore_area_um2(self) -> float:
        """Exact pore area (disks lie wholly inside the domain)."""
        return self.width_um * self.height_um - float(np.sum(math.pi * self.r_um ** 2))

    def obstacle_distances(self, x: float, y: float) -> np.ndarray:
        """Distances from ``(x, y)`` to every disk surface, the side walls and the top/bottom edges."""
        disks = np.hypot(self.x_um - x, self.y_um - y) - self.r_um
        return np.concatenate([disks, [x, self.width_um - x, y, self.height_um - y]])

    def throats(self, cutoff_um: float) -> list[tuple[float, float, float, float, float]]:
        """Gaps narrower than ``cutoff_um`` as (width, x0, y0, x1, y1): disk-disk and disk-side wall.

        ``(x0, y0)`` and ``(x1, y1)`` are the closest points of the two obstacles.
        """
        from scipy.spatial import cKDTree
        out = []
        c = np.column_stack([self.x_um, self.y_um])
        pairs = cKDTree(c).query_pairs(2.0 * float(self.r_um.max()) + cutoff_um, output_type="ndarray")
        for i, j in pairs:
            d = c[j] - c[i]
            dist = float(np.hypot(*d))
            w = dist - self.r_um[i] - self.r_um[j]
            if w < cutoff_um:
                n = d / dist
                p0, p1 = c[i] + self.r_um[i] * n, c[j] - self.r_um[j] * n
                out.append((w, p0[0], p0[1], p1[0], p1[1]))
        for i in range(len(self.r_um)):
            x, y, r = self.x_um[i], self.y_um[i], self.r_um[i]
            if x - r < cutoff_um:
                out.append((x - r, 0.0, y, x - r, y))
            if self.width_um - x - r < cutoff_um:
                out.append((self.width_um - x - r, x + r, y, self.width_um, y))
        return sorted(out)

    def min_throat_um(self) -> float:
        """Narrowest gap between two disks or a disk and a side wall (inf without disks)."""
        t = self.throats(cutoff_um=max(self.width_um, self.height_um))
        return t[0][0] if t else math.inf


SIZE_SAFETY = 1.25
"""gmsh's triangles reach ~1.2-1.4 times the requested size; throat sizes are requested this much finer."""


def size_at(geom: PoreGeometry, options: Mesh2DOptions, x: float, y: float) -> float:
    """Target element size (um) at ``(x, y)``: the local feature size over ``cells_across_throat``."""
    d = np.partition(geom.obstacle_distances(x, y), 1)[:2]
    h = (d[0] + d[1]) / (options.cells_across_throat * SIZE_SAFETY)
    return float(min(max(h, options.h_min_um), options.h_max_um))


def check_resolvable(geom: PoreGeometry, options: Mesh2DOptions) -> float:
    """The narrowest throat (um); InputError when ``h_min`` cannot give it enough elements."""
    w = geom.min_throat_um()
    need = w / (options.cells_across_throat * SIZE_SAFETY)
    require(options.h_min_um <= need * (1.0 + 1e-9), f"{FIELD}.h_min_um",
            f"{options.h_min_um:g} um cannot put {options.cells_across_throat} elements across the "
            f"narrowest throat ({w:.4g} um)", f"<= {need:.4g} um for this packing")
    return w


def build_mesh2d(packing: Mapping[str, Any], options: Mesh2DOptions) -> None:
    """Build and mesh the pore space of ``packing`` in the current gmsh model (lengths in um).

    gmsh must be initialised; the caller writes the mesh (with ``Mesh.ScalingFactor = 1e-6``
    for metres).
    """
    import gmsh

    geom = PoreGeometry.from_packing(packing)
    check_resolvable(geom, options)
    occ = gmsh.model.occ
    rect = occ.addRectangle(0.0, 0.0, 0.0, geom.width_um, geom.height_um)
    disks = [(2, occ.addDisk(x, y, 0.0, r, r)) for x, y, r in zip(geom.x_um, geom.y_um, geom.r_um)]
    if disks:
        occ.cut([(2, rect)], disks, removeObject=True, removeTool=True)
    occ.synchronize()
    surfaces = gmsh.model.getEntities(2)
    if len(surfaces) != 1:
        raise RuntimeError(f"the pore space has {len(surfaces)} parts; expected one (disks must not touch)")
    groups: dict[int, list[int]] = {t: [] for t in (tags.INLET, tags.OUTLET, tags.SIDE_LEFT, tags.SIDE_RIGHT,
                                                    tags.PARTICLE_WALL)}
    eps = 1e-6 * max(geom.width_um, geom.height_um)
    for _, c in gmsh.model.getBoundary(surfaces, oriented=False):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, c)
        if abs(y0) < eps and abs(y1) < eps:
            groups[tags.OUTLET].append(c)
        elif abs(y0 - geom.height_um) < eps and abs(y1 - geom.height_um) < eps:
            groups[tags.INLET].append(c)
        elif abs(x0) < eps and abs(x1) < eps:
            groups[tags.SIDE_LEFT].append(c)
        elif abs(x0 - geom.width_um) < eps and abs(x1 - geom.width_um) < eps:
            groups[tags.SIDE_RIGHT].append(c)
        else:
            groups[tags.PARTICLE_WALL].append(c)
    for name, (dim, tag) in tags.NAMES_2D.items():
        entities = [s for _, s in surfaces] if dim == 2 else groups[tag]
        gmsh.model.addPhysicalGroup(dim, entities, tag=tag, name=name)

    for key, value in (("General.NumThreads", 1), ("Mesh.RandomSeed", 1), ("Mesh.Algorithm", 6),
                       ("Mesh.LcIntegrationPrecision", 1e-3),
                       ("Mesh.MeshSizeFromPoints", 0), ("Mesh.MeshSizeExtendFromBoundary", 0),
                       ("Mesh.MeshSizeFromCurvature", options.elements_per_circle),
                       ("Mesh.MeshSizeMin", options.h_min_um), ("Mesh.MeshSizeMax", options.h_max_um)):
        gmsh.option.setNumber(key, value)
    gmsh.model.mesh.setSizeCallback(
        lambda dim, tag, x, y, z, lc: min(lc, size_at(geom, options, x, y)))
    gmsh.model.mesh.generate(2)


def write_mesh2d(packing_json: str | os.PathLike, msh_path: str | os.PathLike, options: Mesh2DOptions) -> dict:
    """Mesh the packing of ``packing_json`` and write ``msh_path`` (metres) and ``mesh2d.json`` beside it.

    Runs gmsh in this process only (call it on one rank).  Returns the ``mesh2d.json`` content.
    """
    import gmsh

    from layerlab.io import read_json_input
    src = Path(packing_json)
    packing = read_json_input(src, "packing", "a packing2d.json from pack2d")
    geom = PoreGeometry.from_packing(packing)
    min_throat = check_resolvable(geom, options)   # before any gmsh work
    msh = Path(msh_path)
    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add(msh.stem)
        build_mesh2d(packing, options)
        n_triangles = int(sum(len(t) for t in gmsh.model.mesh.getElementsByType(2)[0:1]))
        n_nodes = len(gmsh.model.mesh.getNodes()[0])
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.option.setNumber("Mesh.Binary", 0)
        gmsh.option.setNumber("Mesh.ScalingFactor", UM_TO_M)
        with atomic_path(msh) as tmp:
            named = tmp.with_name(tmp.name + ".msh")      # gmsh picks the format from the extension
            try:
                gmsh.write(str(named))
                os.replace(named, tmp)
            finally:
                named.unlink(missing_ok=True)
        gmsh.model.remove()
    finally:
        if started:
            gmsh.finalize()
    info = {
        "packing": str(src), "mesh": str(msh), "coordinate_unit": "m", "options": dataclasses.asdict(options),
        "n_triangles": n_triangles, "n_nodes": n_nodes, "min_throat_m": min_throat * UM_TO_M,
        "h_min_m": options.h_min_um * UM_TO_M, "h_max_m": options.h_max_um * UM_TO_M,
        "cells_across_throat": options.cells_across_throat,
        "pore_area_m2": geom.pore_area_um2 * UM_TO_M ** 2, "n_disks": int(len(geom.r_um)),
    }
    write_json_atomic(msh.with_suffix(".json"), info)
    log.info("mesh %s: %d triangles, %d nodes, narrowest throat %.3g um", msh.name, n_triangles, n_nodes,
             min_throat)
    return info
