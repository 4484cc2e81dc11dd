"""Two-phase 3D mesh of a sphere packing: electrolyte and particles meshed conformally.

Two routes (``geometry.mesh3d.route``):

* ``levelset`` (default): :mod:`layerlab.geometry.levelset3d`, isosurface stuffing on a Kuhn
  lattice refined near the surface; no CAD Booleans, so it meshes any packing of the ``pack3d``
  stage; laterally periodic-conforming for periodic packings; written through gmsh's API as
  discrete entities (one volume entity per packing sphere for the particle identity);
* ``gmsh``: the OpenCASCADE route below (small boxes; it fails on real packings with hundreds of
  overlapping spheres).

The gmsh route:

The union of the spheres (with their periodic images where the packing is periodic) is fused,
intersected with the electrode box and fragmented with the box (and the separator slab), so
both phases share their interface.  Physical groups are :data:`layerlab.geometry.tags.NAMES_3D`:

* cells: ``electrolyte`` (pores), ``particles``, ``separator`` (only when the packing has one);
* facets: ``current_collector`` (z = 0, both phases), ``top`` (top of the domain),
  ``sides`` (lateral faces), ``electrode_separator`` (pore faces at z = H between electrode and
  separator; particle faces there belong to ``interface``), ``interface`` (particle / electrolyte).

The mesh of a periodic packing is not periodic (the box cuts the images).  Isolated pieces are
found and reported: particle volumes that do not touch the current collector (no electronic
path) and pore volumes that reach neither the top nor the separator (never wetted).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from layerlab.errors import options_from_mapping, require
from layerlab.geometry import tags
from layerlab.geometry.levelset3d import VOLUME_CORRECTIONS

log = logging.getLogger("layerlab.geometry")

FIELD = "geometry.mesh3d"
ROUTES = ("levelset", "gmsh")

ATTEMPTS: tuple[tuple[int, int], ...] = ((6, 8), (6, 0), (5, 8), (1, 12), (6, 16))
"""(2D algorithm, elements per 2 pi of curvature) tried in turn: Frontal-Delaunay with curvature
sizing (resolves the necks between spheres) first, then other settings when gmsh fails."""


@dataclass(frozen=True)
class Mesh3DOptions:
    """Options of the 3D mesher (``config["geometry"]["mesh3d"]``).

    Parameters
    ----------
    enabled : whether the workflow meshes the 3D packings (the builder ignores it)
    route : ``levelset`` (any packing) or ``gmsh`` (OpenCASCADE Booleans; small boxes)
    h_um : target element size, um (levelset: the lattice spacing)
    h_min_um : smallest element size (narrow necks and pores between spheres), um
    element_order : 1 (linear) or 2 (curved) tetrahedra (gmsh route only)
    optimize : run gmsh's tetrahedral optimiser (Netgen off; gmsh route only)
    snap : levelset: snapping threshold, fraction of an edge (Labelle & Shewchuk use 0.2-0.4)
    curvature : levelset: refine cut cells until their longest edge is below ``curvature`` times
        their sphere's radius
    volume_fit : levelset: move interface nodes out by the chordal gap of the flat triangles
    neck_min_radius_um : levelset: necks thinner than this get a carbon-binder collar of this
        radius, and the cells at every contact the mesh would lose are refined (0: off), um
    volume_correction : levelset: ``none``, or ``isovalue``: one radius offset for every sphere, found
        so the mesh's particle volume is the packing's (a lattice coarser than the pores closes
        them; :func:`layerlab.geometry.levelset3d.mesh_packing`)
    """

    enabled: bool = False
    route: str = "levelset"
    h_um: float = 1.5
    h_min_um: float = 0.375
    element_order: int = 1
    optimize: bool = True
    snap: float = 0.2
    curvature: float = 0.4
    volume_fit: bool = True
    neck_min_radius_um: float = 0.5
    volume_correction: str = "none"

    def __post_init__(self) -> None:
        f = FIELD
        require(self.route in ROUTES, f"{f}.route", f"got {self.route!r}", " or ".join(ROUTES))
        for name in ("enabled", "optimize", "volume_fit"):
            v = getattr(self, name)
            require(isinstance(v, bool), f"{f}.{name}", f"got {v!r}", "true or false")
        for name in ("h_um", "h_min_um"):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
                    f"{f}.{name}", f"got {v!r}", "a number > 0")
        require(self.volume_correction in VOLUME_CORRECTIONS, f"{f}.volume_correction",
                f"got {self.volume_correction!r}", " or ".join(VOLUME_CORRECTIONS))
        require(self.h_min_um <= self.h_um, f"{f}.h_min_um", f"got {self.h_min_um!r}",
                f"<= h_um ({self.h_um!r})")
        require(self.element_order in (1, 2), f"{f}.element_order", f"got {self.element_order!r}", "1 or 2")
        require(self.route == "gmsh" or self.element_order == 1, f"{f}.element_order",
                f"got {self.element_order!r} with route levelset", "1 (straight tetrahedra)")
        for name, lo, hi in (("snap", 0.05, 0.25), ("curvature", 0.1, 2.0), ("neck_min_radius_um", 0.0, 2.0)):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi,
                    f"{f}.{name}", f"got {v!r}", f"a number in [{lo}, {hi}]")

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "Mesh3DOptions":
        """Options from the full config (``config["geometry"]["mesh3d"]``) or ``{}``."""
        return options_from_mapping(cls, ((config or {}).get("geometry") or {}).get("mesh3d"), FIELD)


def sphere_images(packing: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Centres and radii of the spheres plus the periodic images that reach into the box."""
    xyz = np.column_stack([packing["sphere_x_m"], packing["sphere_y_m"], packing["sphere_z_m"]]).astype(float)
    r = np.asarray(packing["sphere_radius_m"], dtype=float)
    if not packing["periodic"] or len(r) == 0:
        return xyz, r
    Lx, Ly = float(packing["box_m"][0]), float(packing["box_m"][1])
    out_c, out_r = [], []
    for sx in (-1, 0, 1):
        for sy in (-1, 0, 1):
            c = xyz + [sx * Lx, sy * Ly, 0.0]
            keep = ((c[:, 0] + r > 0) & (c[:, 0] - r < Lx) & (c[:, 1] + r > 0) & (c[:, 1] - r < Ly))
            out_c.append(c[keep]), out_r.append(r[keep])
    return np.vstack(out_c), np.concatenate(out_r)


def _build_levelset(packing: Mapping[str, Any], opt: Mesh3DOptions, msh_path: str | Path | None) -> dict[str, Any]:
    from layerlab.geometry import levelset3d

    um = 1e-6
    mesh = levelset3d.mesh_packing(packing, opt.h_um * um, opt.h_min_um * um, snap=opt.snap,
                                   curvature=opt.curvature, volume_fit=opt.volume_fit,
                                   neck_min_radius_m=opt.neck_min_radius_um * um,
                                   volume_correction=opt.volume_correction)
    if msh_path is not None:
        levelset3d.write_msh(mesh, str(msh_path))
    out = levelset3d.summary(mesh, packing)
    out["options"] = dataclasses.asdict(opt)
    return out


def build_mesh3d(packing: Mapping[str, Any], options: Mesh3DOptions | None = None,
                 msh_path: str | Path | None = None) -> dict[str, Any]:
    """Build the two-phase mesh (call on one rank), optionally write it; return its summary.

    ``options.route`` picks the level-set route (:mod:`layerlab.geometry.levelset3d`) or gmsh's.

    The summary holds tetrahedra per phase, CAD and mesh volumes per phase, the interface area,
    and the isolated pieces (see module docstring).  Lengths in the mesh are metres.
    """
    opt = options or Mesh3DOptions()
    if opt.route == "levelset":
        return _build_levelset(packing, opt, msh_path)
    import gmsh

    Lx, Ly, H = (float(v) for v in packing["box_m"])
    sep = float(packing.get("separator_thickness_m", 0.0))
    centres, radii = sphere_images(packing)
    scale = 1e6                        # build in um (OCC tolerances), write in m
    owns = not gmsh.isInitialized()
    try:
        failures: list[str] = []
        for algo2d, curvature in ATTEMPTS:   # boolean sphere unions defeat some settings: try the next
            if owns:                         # a fresh gmsh: a failed generate() leaves it unusable
                if gmsh.isInitialized():
                    gmsh.finalize()
                gmsh.initialize(interruptible=False)
            gmsh.option.setNumber("General.Terminal", 0)
            gmsh.option.setNumber("General.NumThreads", 1)
            gmsh.option.setNumber("Geometry.OCCParallel", 0)
            vols = _geometry(gmsh, (Lx, Ly, H, sep), centres, radii, scale)
            gmsh.option.setNumber("Mesh.MeshSizeMax", opt.h_um)
            gmsh.option.setNumber("Mesh.MeshSizeMin", opt.h_min_um)
            gmsh.option.setNumber("Mesh.Optimize", 1 if opt.optimize else 0)
            gmsh.option.setNumber("Mesh.ElementOrder", opt.element_order)
            gmsh.option.setNumber("Mesh.Algorithm", algo2d)
            gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", curvature)
            try:
                gmsh.model.mesh.generate(3)
                summary = _summary(gmsh, scale, *vols)
                break
            except Exception as err:  # gmsh raises bare Exceptions
                failures.append(f"algorithm {algo2d}, curvature {curvature}: {err}")
                log.warning("mesh3d attempt failed (%s)", failures[-1])
                gmsh.model.remove()
        else:
            raise RuntimeError("gmsh could not mesh the packing: " + "; ".join(failures))
        summary["mesh_attempts_failed"] = failures
        summary["n_spheres_with_images"] = int(len(radii))
        summary["options"] = dataclasses.asdict(opt)
        if msh_path is not None:
            gmsh.option.setNumber("Mesh.ScalingFactor", 1.0 / scale)
            gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
            gmsh.write(str(msh_path))
            gmsh.option.setNumber("Mesh.ScalingFactor", 1.0)
        gmsh.model.remove()
        return summary
    finally:
        if owns and gmsh.isInitialized():
            gmsh.finalize()


def _geometry(gmsh: Any, dims: tuple[float, float, float, float], centres: np.ndarray, radii: np.ndarray,
              scale: float) -> tuple[list[int], list[int], list[int], dict[str, list[int]]]:
    """Build the fragmented OCC model with physical groups; volumes per phase and facet groups."""
    Lx, Ly, H, sep = (v * scale for v in dims)
    gmsh.model.add("layerlab_mesh3d")
    occ = gmsh.model.occ
    box = occ.addBox(0, 0, 0, Lx, Ly, H)
    objects = [(3, box)]
    if sep > 0:
        objects.append((3, occ.addBox(0, 0, H, Lx, Ly, sep)))
    union: list[tuple[int, int]] = []
    if len(radii):
        balls = [(3, occ.addSphere(*(c * scale), r * scale)) for c, r in zip(centres, radii)]
        union = occ.fuse(balls[:1], balls[1:])[0] if len(balls) > 1 else balls
    # one fragment of everything keeps all shared faces conformal; pieces outside are dropped
    _, children = occ.fragment(objects, union)
    in_box = {t for d, t in children[0] if d == 3}
    in_sep = {t for d, t in children[1] if d == 3} if sep > 0 else set()
    in_union = {t for m in children[len(objects):] for d, t in m if d == 3}
    outside = sorted(in_union - in_box - in_sep)
    if outside:
        occ.remove([(3, t) for t in outside], recursive=True)
    occ.synchronize()
    solid = sorted(in_box & in_union)
    pore = sorted(in_box - in_union)
    sepv = sorted(in_sep)    # sphere caps above the electrode are separator (electrolyte)
    groups = _classify_surfaces(gmsh, Lx, Ly, H, sep, solid, pore, sepv)
    for name, vols in (("electrolyte", pore), ("particles", solid), ("separator", sepv)):
        if vols:
            dim, tag = tags.NAMES_3D[name]
            gmsh.model.addPhysicalGroup(dim, vols, tag, name=name)
    for name, surfs in groups.items():
        if surfs:
            dim, tag = tags.NAMES_3D[name]
            gmsh.model.addPhysicalGroup(dim, surfs, tag, name=name)
    return solid, pore, sepv, groups


def _classify_surfaces(gmsh: Any, Lx: float, Ly: float, H: float, sep: float, solid: list[int],
                       pore: list[int], sepv: list[int]) -> dict[str, list[int]]:
    """Surface tags per facet group, from adjacency and bounding boxes (um units)."""
    tol = 1e-6 * max(Lx, Ly, H)
    top_z = H + sep
    owner: dict[int, list[int]] = {}
    for v in solid + pore + sepv:
        for _, s in gmsh.model.getBoundary([(3, v)], oriented=False):
            owner.setdefault(abs(s), []).append(v)
    out: dict[str, list[int]] = {k: [] for k in ("current_collector", "top", "sides", "electrode_separator",
                                                 "interface")}
    solid_set, pore_set, sep_set = set(solid), set(pore), set(sepv)
    for s, vols in sorted(owner.items()):
        x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(2, s)
        if z1 < tol:
            out["current_collector"].append(s)
        elif z0 > top_z - tol:
            out["top"].append(s)
        elif x1 < tol or x0 > Lx - tol or y1 < tol or y0 > Ly - tol:
            out["sides"].append(s)
        elif len(vols) == 2 and (set(vols) & solid_set) and (set(vols) & (pore_set | sep_set)):
            out["interface"].append(s)
        elif len(vols) == 2 and (set(vols) & pore_set) and (set(vols) & sep_set):
            out["electrode_separator"].append(s)
    return out


def _summary(gmsh: Any, scale: float, solid: list[int], pore: list[int], sepv: list[int],
             groups: dict[str, list[int]]) -> dict[str, Any]:
    occ = gmsh.model.occ
    m3, m2 = scale ** -3, scale ** -2

    def touching(vols: list[int], surfaces: set[int]) -> list[int]:
        return [v for v in vols
                if {abs(s) for _, s in gmsh.model.getBoundary([(3, v)], oriented=False)} & surfaces]

    cc = set(groups["current_collector"])
    wet = set(groups["top"]) | set(groups["electrode_separator"])
    solid_on_cc = touching(solid, cc)
    pore_open = touching(pore, wet)
    out: dict[str, Any] = {}
    for name, vols in (("electrolyte", pore), ("particles", solid), ("separator", sepv)):
        n_tets = 0
        for v in vols:
            types, elems, _ = gmsh.model.mesh.getElements(3, v)
            n_tets += sum(len(e) for e in elems)
        out[f"n_tets_{name}"] = n_tets
        out[f"volume_{name}_m3"] = sum(occ.getMass(3, v) for v in vols) * m3
        out[f"n_volumes_{name}"] = len(vols)
    out["interface_area_m2"] = sum(occ.getMass(2, s) for s in groups["interface"]) * m2
    out["isolated_particle_volumes"] = [v for v in solid if v not in solid_on_cc]
    out["isolated_particle_volume_m3"] = sum(occ.getMass(3, v) for v in out["isolated_particle_volumes"]) * m3
    out["isolated_pore_volumes"] = [v for v in pore if v not in pore_open]
    out["isolated_pore_volume_m3"] = sum(occ.getMass(3, v) for v in out["isolated_pore_volumes"]) * m3
    tags_, coords, _ = gmsh.model.mesh.getNodes()
    xyz = np.zeros((int(tags_.max()) + 1, 3))
    xyz[tags_] = coords.reshape(-1, 3)
    for name, vols in (("electrolyte", pore), ("particles", solid), ("separator", sepv)):
        total = 0.0
        for v in vols:
            types, _, nodes = gmsh.model.mesh.getElements(3, v)
            if not sum(len(n) for n in nodes):
                raise RuntimeError(f"gmsh left volume {v} ({name}) without elements: try another h_um")
            for etype, nd in zip(types, nodes):
                t = np.asarray(nd).reshape(-1, gmsh.model.mesh.getElementProperties(etype)[3])[:, :4]
                a, b, c, d = (xyz[t[:, k]] for k in range(4))   # straight-sided volume
                total += float(np.abs(np.einsum("ij,ij->i", np.cross(b - a, c - a), d - a)).sum()) / 6.0
        out[f"mesh_volume_{name}_m3"] = total * m3
    mesh_total = sum(out[f"mesh_volume_{n}_m3"] for n in ("electrolyte", "particles", "separator"))
    cad_total = sum(out[f"volume_{n}_m3"] for n in ("electrolyte", "particles", "separator"))
    if abs(mesh_total - cad_total) > 1e-3 * cad_total:   # holes or overlaps, not chordal error
        raise RuntimeError(f"mesh volume {mesh_total:.6g} m3 differs from the domain's {cad_total:.6g} m3: "
                           "the mesh is invalid")
    out["n_nodes"] = int(len(tags_))
    return out
