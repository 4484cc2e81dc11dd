"""Two-phase tetrahedral mesh of a sphere packing by a level-set route (no CAD Booleans).

The gmsh/OpenCASCADE route fuses hundreds of overlapping spheres and fails on real packings
(near-tangent spheres: "PLC Error", volumes left without elements).  This route never builds a
boundary representation; it follows isosurface stuffing (F. Labelle and J. R. Shewchuk,
"Isosurface stuffing: fast tetrahedral meshes with good dihedral angles", ACM Trans. Graph. 26(3)
57, SIGGRAPH 2007, doi:10.1145/1276377.1276448) on a Kuhn (Freudenthal) lattice:

1. a structured background grid of cubes of edge ~``h`` over the electrode box and the separator
   slab (lattice planes at z = 0, the electrode top z = H and the cell top), each cube split into
   the six Kuhn tetrahedra (a translation-invariant, hence conforming, triangulation);
2. the sign of every lattice vertex of the electrode slab: inside the union of the spheres (with
   their periodic images) or not.  An edge whose ends differ is *cut*; its cut point is found by
   bisection on the exact membership test (to 2^-32 of the edge) and so lies on a sphere;
3. *snapping*: a vertex closer to a cut point on one of its edges than ``snap * edge length``
   moves onto that cut point (the nearest one) and becomes a surface vertex (sign 0).  A vertex on
   a plane of the box (collector, electrode top, cell top, lateral faces) moves only along edges in
   that plane, so every box face stays planar;
4. the tetrahedra still cut are split along the remaining cut points: a tetrahedron with one
   vertex apart becomes a tetrahedron and a prism (or a pyramid when a vertex is on the surface),
   two against two become two prisms.  Prisms and pyramids are split into tetrahedra with the
   quad-face diagonals through the vertex of smallest global index (Dompierre et al., "How to
   subdivide pyramids, prisms and hexahedra into tetrahedra", IMR 1999), so neighbours agree;
5. phases by sign (a tetrahedron with only surface vertices: membership of its centroid),
   separator slab cells are ``separator``.

Lateral periodicity (periodic packings): the whole construction runs on the periodic lattice
(vertex indices modulo the lateral cell counts, unwrapped per tetrahedron), so the mesh faces at
x = 0 and x = Lx (y = 0 and y = Ly) carry the same triangles, node for node.  The resolved model
treats the lateral faces as zero-flux walls (a mirror condition); the matching faces leave a
periodic constraint open for a solver that supports one.

Tags are those of :mod:`layerlab.geometry.tags` (the gmsh route's): cells ``electrolyte``,
``particles``, ``separator``; facets ``current_collector``, ``top`` (Li foil side),
``sides``, ``electrode_separator`` and ``interface``.  Particle identity: every particle cell
knows the packing sphere it belongs to (the sphere of smallest power distance at its centroid,
which splits two overlapping spheres exactly at the plane of their intersection circle) and its
connected solid component (cells joined through shared faces).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layerlab.geometry import tags as T

log = logging.getLogger("layerlab.geometry")

BISECTION_STEPS = 32
"""Bisection steps for a cut point: its position is exact to 2^-32 of the edge (~2e-16 m)."""

# the six Kuhn tetrahedra of the unit cube: paths 0 -> e_a -> e_a + e_b -> (1, 1, 1)
_KUHN = []
for _perm in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
    _c = [np.zeros(3, dtype=int)]
    for _ax in _perm:
        _n = _c[-1].copy()
        _n[_ax] = 1
        _c.append(_n)
    _KUHN.append(np.array(_c))
_KUHN = np.array(_KUHN)          # (6, 4, 3) corner offsets


@dataclass
class TetMesh:
    """A tagged two-phase tetrahedral mesh (SI units), positively oriented cells."""

    points_m: np.ndarray                   # (n, 3)
    cells: np.ndarray                      # (m, 4) int64
    cell_tags: np.ndarray                  # (m,) ELECTROLYTE / PARTICLES / SEPARATOR
    facets: np.ndarray                     # (k, 3) int64: tagged facets
    facet_tags: np.ndarray                 # (k,)
    cell_sphere: np.ndarray                # (m,) packing sphere index of particle cells, -1 elsewhere
    cell_component: np.ndarray             # (m,) connected solid component of particle cells, -1 elsewhere
    info: dict[str, Any] = field(default_factory=dict)
    contacts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    """(n, 2) sphere pairs whose particle cells share a face, sorted; ``(-1, i)``: sphere ``i`` on the
    current collector."""


class SphereUnion:
    """Membership and power-nearest sphere for a union of spheres (periodic images explicit).

    A 4D lift turns ``min_i |x - c_i|^2 - r_i^2`` into one nearest-neighbour query:
    ``|x - c|^2 - r^2 = |(x, 0) - (c, sqrt(R^2 - r^2))|^2 - R^2`` with ``R`` the largest radius.
    """

    def __init__(self, centres_m: np.ndarray, radii_m: np.ndarray, owner: np.ndarray) -> None:
        self.centres = np.asarray(centres_m, dtype=float).reshape(-1, 3)
        self.radii = np.asarray(radii_m, dtype=float)
        self.owner = np.asarray(owner, dtype=np.int64)
        self.empty = len(self.radii) == 0
        if not self.empty:
            self.R = float(self.radii.max())
            w = np.sqrt(np.maximum(self.R ** 2 - self.radii ** 2, 0.0))
            self.tree = cKDTree(np.column_stack([self.centres, w]))

    def nearest(self, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(inside the union, index of the packing sphere of smallest power distance) per point."""
        pts = np.asarray(points_m, dtype=float).reshape(-1, 3)
        if self.empty:
            return np.zeros(len(pts), dtype=bool), np.full(len(pts), -1, dtype=np.int64)
        d, i = self.tree.query(np.column_stack([pts, np.zeros(len(pts))]), k=1)
        return d * d - self.R ** 2 < 0.0, self.owner[i]

    def inside(self, points_m: np.ndarray) -> np.ndarray:
        ins = self.nearest(points_m)[0]
        if self.collars is not None and len(ins):
            ins |= self.collars.inside(np.asarray(points_m, dtype=float).reshape(-1, 3))
        return ins

    collars: "NeckCollars | None" = None

    def nearest_image(self, points_m: np.ndarray) -> np.ndarray:
        """Index (into the spheres with images) of the smallest power distance per point."""
        pts = np.asarray(points_m, dtype=float).reshape(-1, 3)
        return self.tree.query(np.column_stack([pts, np.zeros(len(pts))]), k=1)[1]


def union_of_packing(packing: Mapping[str, Any], dr_m: float = 0.0) -> SphereUnion:
    """The spheres of a ``packing3d.json`` mapping with the periodic images that reach the box
    (every radius changed by ``dr_m``: the isovalue offset of :func:`mesh_packing`)."""
    xyz = np.column_stack([packing["sphere_x_m"], packing["sphere_y_m"], packing["sphere_z_m"]]).astype(float)
    r = np.asarray(packing["sphere_radius_m"], dtype=float) + dr_m
    idx = np.arange(len(r))
    if not packing["periodic"] or len(r) == 0:
        return SphereUnion(xyz, r, idx)
    Lx, Ly = float(packing["box_m"][0]), float(packing["box_m"][1])
    cs, rs, ids = [], [], []
    for sx in (-1, 0, 1):
        for sy in (-1, 0, 1):
            c = xyz + [sx * Lx, sy * Ly, 0.0]
            keep = (c[:, 0] + r > 0) & (c[:, 0] - r < Lx) & (c[:, 1] + r > 0) & (c[:, 1] - r < Ly)
            cs.append(c[keep]), rs.append(r[keep]), ids.append(idx[keep])
    return SphereUnion(np.vstack(cs), np.concatenate(rs), np.concatenate(ids))


@dataclass
class Necks:
    """Contact necks of a packing: the lens circles of overlapping spheres and the collector disks.

    ``centre_m`` (n, 3) and unit ``normal`` (n, 3) of each circle, its radius ``a_m`` (the lens
    radius of :mod:`layerlab.network.contacts`), the radii of the two bodies (``inf`` for the
    collector plane) and ``pair`` (n, 2): their packing sphere indices, sorted (``-1``: the collector).
    """

    centre_m: np.ndarray
    normal: np.ndarray
    a_m: np.ndarray
    r1_m: np.ndarray
    r2_m: np.ndarray
    pair: np.ndarray

    def subset(self, sel: np.ndarray) -> "Necks":
        return Necks(self.centre_m[sel], self.normal[sel], self.a_m[sel], self.r1_m[sel], self.r2_m[sel],
                     self.pair[sel])

    def __len__(self) -> int:
        return len(self.a_m)


def packing_necks(union: SphereUnion, dr_m: float = 0.0) -> Necks:
    """Every overlap lens between two spheres of ``union`` (periodic images included) and every
    indentation of a sphere into the collector plane z = 0.

    ``dr_m``: the contacts stay those of ``union``, their lenses are those of the spheres with every
    radius changed by ``dr_m`` (a pair that no longer overlaps: radius 0, centre mid-gap on the
    axis; a sphere lifted off the collector: radius 0 below its centre)."""
    c, r = union.centres, union.radii
    if union.empty:
        z = np.zeros((0, 3))
        return Necks(z, z, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, 2), dtype=np.int64))
    pairs = cKDTree(c).query_pairs(2.0 * union.R, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.linalg.norm(c[j] - c[i], axis=1)
    keep = (d < r[i] + r[j]) & (d > np.abs(r[i] - r[j])) & (union.owner[i] != union.owner[j])
    i, j, d = i[keep], j[keep], d[keep]
    rs = r + dr_m
    n = (c[j] - c[i]) / d[:, None]
    xi = np.where(d < rs[i] + rs[j], (d ** 2 + rs[i] ** 2 - rs[j] ** 2) / (2.0 * d), 0.5 * (d + rs[i] - rs[j]))
    a = np.sqrt(np.maximum(rs[i] ** 2 - xi ** 2, 0.0))
    cc = c[:, 2] < r
    a_cc = np.sqrt(np.maximum(rs[cc] ** 2 - c[cc, 2] ** 2, 0.0))
    centre_cc = c[cc] * [1.0, 1.0, 0.0]
    return Necks(np.vstack([c[i] + xi[:, None] * n, centre_cc]),
                 np.vstack([n, np.tile([0.0, 0.0, 1.0], (int(cc.sum()), 1))]),
                 np.concatenate([a, a_cc]), np.concatenate([rs[i], rs[cc]]),
                 np.concatenate([rs[j], np.full(int(cc.sum()), np.inf)]),
                 np.vstack([np.sort(np.column_stack([union.owner[i], union.owner[j]]), axis=1),
                            np.column_stack([np.full(int(cc.sum()), -1), union.owner[cc]])]).astype(np.int64))


class NeckCollars:
    """Carbon-binder collars that widen the necks thinner than a minimum radius.

    The collar of a neck of lens radius ``a < b_min`` is the short cylinder ``{|s| <= b_min,
    rho <= b_min}`` (``s`` along the contact normal from the lens centre, ``rho`` from the contact
    axis): inside the two spheres but for the gap around the lens, which it fills out to ``b_min``.
    This is the network stage's ``neck`` carbon-binder bridge (:mod:`layerlab.network.contacts`)
    with a fixed radius; its volume, ``V = int_a^b 2 pi rho g(rho) d rho`` with the surfaces' gap
    ``g``, is counted as solid (reported by :meth:`volume_m3`).
    """

    def __init__(self, necks: Necks, b_min_m: float) -> None:
        sel = necks.a_m < b_min_m
        self.centre, self.normal = necks.centre_m[sel], necks.normal[sel]
        self.a, self.r1, self.r2 = necks.a_m[sel], necks.r1_m[sel], necks.r2_m[sel]
        self.b = float(b_min_m)
        self.tree = cKDTree(self.centre) if len(self.a) else None

    def __len__(self) -> int:
        return len(self.a)

    def inside(self, points_m: np.ndarray) -> np.ndarray:
        out = np.zeros(len(points_m), dtype=bool)
        if self.tree is None:
            return out
        k = min(4, len(self.a))
        dist, idx = self.tree.query(points_m, k=k, distance_upper_bound=math.sqrt(2.0) * self.b * (1 + 1e-9))
        dist, idx = dist.reshape(len(points_m), k), idx.reshape(len(points_m), k)
        for col in range(k):
            ok = np.isfinite(dist[:, col])
            if not ok.any():
                continue
            q = np.flatnonzero(ok)
            e = idx[q, col]
            v = points_m[q] - self.centre[e]
            s = np.einsum("ij,ij->i", v, self.normal[e])
            rho2 = (v ** 2).sum(1) - s ** 2
            out[q] |= (np.abs(s) <= self.b) & (rho2 <= self.b ** 2)
        return out

    def volume_m3(self, n: int = 64) -> float:
        """Solid added by the collars (the gap volume between the surfaces from ``a`` to ``b_min``)."""
        if not len(self.a):
            return 0.0
        t = (np.arange(n) + 0.5) / n
        rho = self.a[:, None] + (self.b - self.a)[:, None] * t[None, :]
        gap = (np.sqrt(np.maximum(self.r1[:, None] ** 2 - self.a[:, None] ** 2, 0.0))
               - np.sqrt(np.maximum(self.r1[:, None] ** 2 - rho ** 2, 0.0)))
        far = np.isfinite(self.r2)[:, None]
        r2 = np.where(far, self.r2[:, None], 1.0)
        gap = gap + np.where(far, np.sqrt(np.maximum(r2 ** 2 - self.a[:, None] ** 2, 0.0))
                             - np.sqrt(np.maximum(r2 ** 2 - rho ** 2, 0.0)), 0.0)
        gap = np.minimum(gap, np.where(far, 2.0, 1.0) * self.b)
        return float((2.0 * math.pi * rho * gap).sum(1).dot((self.b - self.a) / n))


def mean_ratio(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Mean-ratio quality ``12 (3 V)^(2/3) / sum(l^2)`` per tetrahedron: 1 regular, 0 flat, < 0 inverted."""
    p = points[cells]
    vol = signed_volumes(points, cells)
    l2 = sum(((p[:, a] - p[:, b]) ** 2).sum(axis=1) for a, b in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)))
    return 12.0 * np.sign(vol) * np.cbrt(3.0 * np.abs(vol)) ** 2 / l2


def signed_volumes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    p = points[cells]
    return np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0]) / 6.0


# ---------------------------------------------------------------------------------------------
# The construction.  Tet-vertex "records" are (vertex id, x shift, y shift): ids index the
# periodic (reduced) vertex set, shifts say which periodic copy a tetrahedron uses.
# ---------------------------------------------------------------------------------------------
def levelset_mesh(union: SphereUnion, box_m: tuple[float, float, float], separator_m: float, h_m: float,
                  periodic: bool, snap: float = 0.2, volume_fit: bool = True, h_min_m: float | None = None,
                  curvature: float = 0.4, necks: Necks | None = None, neck_edge: float = 0.7) -> TetMesh:
    """Mesh the box ``[0, Lx] x [0, Ly] x [0, H]`` (solid = union of spheres) and a separator slab.

    Parameters
    ----------
    union : the spheres (with periodic images when ``periodic``)
    box_m : electrode box (Lx, Ly, H), m
    separator_m : thickness of the electrolyte slab above the electrode (0: none), m
    h_m : target lattice spacing, m (the cube edge; cells along x and y >= 3)
    periodic : build a laterally periodic-conforming mesh
    snap : snapping threshold as a fraction of the edge length (> 0)
    volume_fit : move the interface nodes outwards by the chordal gap (see :func:`_chordal_fit`)
    h_min_m : smallest edge of the refinement near the surface (see :func:`_refine`); ``None``: none
    curvature : refine cut cells until their longest edge is below ``curvature`` times the radius
        of their sphere
    necks : contact necks to resolve (see :func:`_refine`); ``None``: none
    neck_edge : refine the cells at a neck until their longest edge is below ``neck_edge`` times
        its radius (widened to the union's collar radius where it has collars)
    """
    h_min_m = h_m if h_min_m is None else h_min_m
    Lx, Ly, H = (float(v) for v in box_m)
    nx, ny = max(3, math.ceil(Lx / h_m - 1e-9)), max(3, math.ceil(Ly / h_m - 1e-9))
    nzE = max(1, math.ceil(H / h_m - 1e-9))
    nzS = math.ceil(separator_m / h_m - 1e-9) if separator_m > 0 else 0
    xs, ys = np.linspace(0.0, Lx, nx + 1), np.linspace(0.0, Ly, ny + 1)
    zs = np.linspace(0.0, H, nzE + 1)
    if nzS:
        zs = np.concatenate([zs, np.linspace(H, H + separator_m, nzS + 1)[1:]])
    nz = nzE + nzS
    NI, NJ, NK = (nx, ny, nz + 1) if periodic else (nx + 1, ny + 1, nz + 1)
    # reduced vertices: canonical positions and plane masks
    I, J, K = np.meshgrid(np.arange(NI), np.arange(NJ), np.arange(NK), indexing="ij")
    I, J, K = I.transpose(2, 1, 0).ravel(), J.transpose(2, 1, 0).ravel(), K.transpose(2, 1, 0).ravel()
    vid = I + NI * (J + NJ * K)
    assert np.array_equal(vid, np.arange(len(vid)))
    pos = np.column_stack([xs[I], ys[J], zs[K]])
    top_k = nz
    mask = ((K == 0) * 1 | (K == nzE) * 2 | (K == top_k) * 4)
    if not periodic:
        mask = mask | (I == 0) * 8 | (I == nx) * 16 | (J == 0) * 32 | (J == ny) * 64
    else:
        mask = mask | (I == 0) * 8 | (J == 0) * 32      # x = 0 is also x = Lx
    nv = len(vid)
    # lattice tetrahedra as records
    ci, cj, ck = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    ci, cj, ck = ci.ravel(), cj.ravel(), ck.ravel()
    ui = ci[:, None, None] + _KUHN[None, :, :, 0]        # (cubes, 6, 4)
    uj = cj[:, None, None] + _KUHN[None, :, :, 1]
    uk = ck[:, None, None] + _KUHN[None, :, :, 2]
    if periodic:
        sx, sy = ui // nx, uj // ny
        ri, rj = ui - sx * nx, uj - sy * ny
    else:
        sx, sy, ri, rj = np.zeros_like(ui), np.zeros_like(uj), ui, uj
    tid = (ri + NI * (rj + NJ * uk)).reshape(-1, 4).astype(np.int64)
    tsx, tsy = sx.reshape(-1, 4), sy.reshape(-1, 4)
    shift = np.array([Lx, Ly, 0.0]) if periodic else np.zeros(3)
    tag = np.full(len(tid), 3, dtype=np.int8)    # Kuhn simplices in path order: refinement edge x0-x3
    n_lattice = len(tid)
    neck_c, neck_r = _neck_targets(necks, union, H, neck_edge)
    if h_min_m < h_m or len(neck_r):
        tid, tsx, tsy, pos, mask = _refine(tid, tsx, tsy, tag, pos, mask, shift, union, H, h_min_m,
                                           curvature, neck_c, neck_r)
    nv = len(pos)

    def unwrapped(ids, sxs, sys_):
        return pos[ids] + np.stack([sxs * shift[0], sys_ * shift[1], np.zeros_like(sxs, dtype=float)], axis=-1)

    electrode = unwrapped(tid, tsx, tsy)[:, :, 2].mean(axis=1) < H
    # --- signs: -1 inside the union, +1 outside, 0 above the electrode (separator slab) -------
    sign = np.zeros(nv, dtype=np.int8)
    in_el = pos[:, 2] <= H
    sign[in_el] = np.where(union.inside(pos[in_el]), -1, 1)
    # --- cut edges (reduced ids; nx, ny >= 3 make (min id, max id) unique) -------------------
    et = tid[electrode]
    esx, esy = tsx[electrode], tsy[electrode]
    pairs = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)])
    a, b = et[:, pairs[:, 0]].ravel(), et[:, pairs[:, 1]].ravel()
    cut = sign[a] != sign[b]
    a, b = a[cut], b[cut]
    da = unwrapped(a, esx[:, pairs[:, 0]].ravel()[cut], esy[:, pairs[:, 0]].ravel()[cut])
    db = unwrapped(b, esx[:, pairs[:, 1]].ravel()[cut], esy[:, pairs[:, 1]].ravel()[cut])
    u, v = np.minimum(a, b), np.maximum(a, b)
    dvec = np.where((a == u)[:, None], db - da, da - db)           # from u to v (unwrapped)
    code = u * nv + v
    code, first = np.unique(code, return_index=True)
    u, v, dvec = u[first], v[first], dvec[first]
    # bisection from the inside end (s = parameter from u towards v)
    u_in = sign[u] < 0
    lo = np.where(u_in, 0.0, 1.0)          # inside end
    hi = 1.0 - lo
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        ins = union.inside(pos[u] + mid[:, None] * dvec)
        lo = np.where(ins, mid, lo)
        hi = np.where(ins, hi, mid)
    s = 0.5 * (lo + hi)
    length = np.linalg.norm(dvec, axis=1)
    # --- snapping -------------------------------------------------------------------------------
    n_snapped = n_pinned = 0
    if snap > 0 and len(s):
        cand_v = np.concatenate([u, v])
        cand_d = np.concatenate([s * length, (1.0 - s) * length])
        near = np.concatenate([s < snap, 1.0 - s < snap])
        free = np.concatenate([(mask[u] & ~mask[v]) == 0, (mask[v] & ~mask[u]) == 0])
        cand_disp = np.concatenate([s[:, None] * dvec, (s - 1.0)[:, None] * dvec])
        cand_e = np.concatenate([np.arange(len(s)), np.arange(len(s))])
        sel = np.flatnonzero(near & free)
        order = np.lexsort((cand_e[sel], cand_d[sel], cand_v[sel]))
        sel = sel[order]
        _, firsts = np.unique(cand_v[sel], return_index=True)
        sel = sel[firsts]
        sv = cand_v[sel]
        # a vertex near the surface only along edges that leave its box plane cannot move: it is
        # declared a surface vertex where it stands (the surface moves by < snap * edge instead)
        pinned = np.setdiff1d(cand_v[near & ~free], sv)
        pos[sv] += cand_disp[sel]
        sign[sv] = 0
        sign[pinned] = 0
        n_snapped, n_pinned = len(sv), len(pinned)
    keep = sign[u] * sign[v] < 0
    code, u, v, s, dvec = code[keep], u[keep], v[keep], s[keep], dvec[keep]
    cut_pos = pos[u] + s[:, None] * dvec
    all_pos = np.vstack([pos, cut_pos])
    # --- split ----------------------------------------------------------------------------------
    # separator-slab cells are split too (their faces on z = H must match the electrode's); every
    # piece above z = H is separator whatever its sign
    t_sign = sign[tid]
    out_ids, out_sx, out_sy, out_phase = [], [], [], []
    npos = (t_sign > 0).sum(1)
    nneg = (t_sign < 0).sum(1)
    uncut = ~((npos > 0) & (nneg > 0))
    ph = np.where(nneg > 0, T.PARTICLES, T.ELECTROLYTE)
    zero_only = uncut & electrode & (npos == 0) & (nneg == 0)
    if zero_only.any():
        cen = unwrapped(tid[zero_only], tsx[zero_only], tsy[zero_only]).mean(axis=1)
        ph[zero_only] = np.where(union.inside(cen), T.PARTICLES, T.ELECTROLYTE)
    out_ids.append(tid[uncut]), out_sx.append(tsx[uncut]), out_sy.append(tsy[uncut]), out_phase.append(ph[uncut])
    cidx = np.flatnonzero(~uncut)
    if len(cidx):
        pieces = _split_cut(tid[cidx], tsx[cidx], tsy[cidx], t_sign[cidx], code, nv)
        for ids_, sx_, sy_, phase_ in pieces:
            out_ids.append(ids_), out_sx.append(sx_), out_sy.append(sy_), out_phase.append(phase_)
    rid = np.vstack(out_ids)
    rsx, rsy = np.vstack(out_sx), np.vstack(out_sy)
    phase = np.concatenate(out_phase).astype(np.int32)
    # --- unfold the periodic records into vertices ------------------------------------------
    rec = (rid * 3 + (rsx + 1)) * 3 + (rsy + 1)
    urec, inv = np.unique(rec.ravel(), return_inverse=True)
    cells = inv.reshape(-1, 4).astype(np.int64)
    pid, psy = urec // 3, urec % 3 - 1
    pid, psx = pid // 3, pid % 3 - 1       # reduced id (periodic copies share it) and shifts
    points = all_pos[pid] + np.column_stack([psx * shift[0], psy * shift[1], np.zeros(len(pid))])
    phase[points[cells][:, :, 2].mean(axis=1) > H] = T.SEPARATOR
    vol = signed_volumes(points, cells)
    neg = vol < 0
    cells[neg] = cells[neg][:, [1, 0, 2, 3]]
    return _finish(points, cells, phase, union, (Lx, Ly, H, H + separator_m), periodic, pid, volume_fit,
                   {"lattice": [nx, ny, nz], "lattice_spacing_m": [Lx / nx, Ly / ny, H / nzE],
                    "n_lattice_tets": int(n_lattice), "h_min_m": float(h_min_m), "curvature": curvature,
                    "n_cut_edges": int(len(code)), "n_snapped_vertices": int(n_snapped),
                    "n_pinned_vertices": int(n_pinned), "snap": snap, "n_necks_refined": int(len(neck_r))})


_EDGES = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)])


def _neck_targets(necks: Necks | None, union: SphereUnion, H: float, neck_edge: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the electrode's necks and the longest edge allowed at each (``neck_edge`` times
    its radius, the collar radius where it is widened)."""
    if necks is None or not len(necks):
        return np.zeros((0, 3)), np.zeros(0)
    b = necks.a_m
    if union.collars is not None:
        b = np.maximum(b, union.collars.b)
    inside = necks.centre_m[:, 2] < H
    return necks.centre_m[inside], neck_edge * b[inside]


def _refine(tid, tsx, tsy, tag, pos, mask, shift, union, H, h_min_m, curvature, neck_c=None, neck_e=None,
            max_rounds=40):
    """Conforming bisection refinement of the electrode cells near the surface (Maubach's rule).

    Newest-vertex bisection in Maubach's form (J. M. Maubach, "Local bisection refinement for
    N-simplicial grids generated by reflection", SIAM J. Sci. Comput. 16 (1995) 210): a simplex
    ``(x0, x1, x2, x3)`` with tag ``k`` is cut at the midpoint ``z`` of ``x0 x_k`` into
    ``(x0..x_{k-1}, z, x_{k+1}..x3)`` and ``(x1..x_k, z, x_{k+1}..x3)``, both with tag ``k - 1`` (3
    after 1).  The Kuhn lattice with tag 3 is a valid start; its descendants fall in a few
    similarity classes (bounded quality).  Conformity: every cell with a bisected edge is bisected
    in turn until none is left (the closure).

    A cell of the electrode is marked while its longest edge exceeds ``h_min_m`` and either
    (a) a midpoint of one of its edges or its centroid lies on the other side of the surface than
    the edge's ends / the cell's vertices (a pore or a neck thinner than the cell: the linear
    surface would miss it), or (b) it is cut by the surface and its longest edge exceeds
    ``curvature`` times the radius of the nearest sphere (chordal error), or (c) it lies within
    its longest edge of a neck centre ``neck_c`` and that edge exceeds the neck's ``neck_e``
    (whatever ``h_min_m``): a cell straddling a lens of radius ``a`` with edges below ~``a`` has
    its vertices in the solid, so the solid path through the neck survives (a cell whose vertices
    are all in the solid is left as it is).
    """
    neck_tree = cKDTree(neck_c) if neck_c is not None and len(neck_c) else None
    st = _Bisection(tid, tsx, tsy, tag, pos, mask, shift)
    vin_all = union.inside(pos)
    for _ in range(max_rounds):
        if len(vin_all) < len(st.pos):
            vin_all = np.concatenate([vin_all, union.inside(st.pos[len(vin_all):])])
        rows = np.flatnonzero(st.fresh)
        x = st.unwrapped(rows)
        cen = x.mean(axis=1)
        L2 = np.stack([((x[:, a] - x[:, b]) ** 2).sum(1) for a, b in _EDGES], axis=1)
        longest = np.sqrt(L2.max(axis=1))
        at_neck = np.zeros(len(rows), dtype=bool)
        if neck_tree is not None:
            el = np.flatnonzero(cen[:, 2] < H)
            near = neck_tree.query_ball_point(cen[el], longest[el] * (1 + 1e-9))
            lens = np.fromiter((len(q) for q in near), dtype=np.int64, count=len(el))
            if lens.sum():
                cell = np.repeat(el, lens)
                neck = np.concatenate([np.asarray(q, dtype=np.int64) for q in near if len(q)])
                coarse = longest[cell] > neck_e[neck]
                at_neck[np.unique(cell[coarse])] = True
            # a cell whose vertices are all in the solid already carries the path through the neck
            at_neck[el] &= ~vin_all[st.tid[rows[el]]].all(axis=1)
        ok = (cen[:, 2] < H) & (longest > h_min_m * (1 + 1e-9))
        neck_rows = rows[at_neck & ~ok]
        cand, xc, cen, longest = rows[ok], x[ok], cen[ok], longest[ok]
        at_neck = at_neck[ok]
        if not len(cand) and not len(neck_rows):
            break
        if not len(cand):
            st.fresh[:] = False
            st.bisect(neck_rows)
            st.close()
            continue
        vin = vin_all[st.tid[cand]]
        mids = np.stack([0.5 * (xc[:, a] + xc[:, b]) for a, b in _EDGES], axis=1)
        min_ = union.inside(mids.reshape(-1, 3)).reshape(-1, 6)
        va, vb = vin[:, _EDGES[:, 0]], vin[:, _EDGES[:, 1]]
        hidden = ((va == vb) & (min_ != va)).any(axis=1)
        all_same = (vin == vin[:, :1]).all(axis=1)
        hidden |= all_same & (union.inside(cen) != vin[:, 0])
        r = union.radii[union.nearest_image(cen)] if not union.empty else np.full(len(cand), np.inf)
        curved = ~all_same & (longest > curvature * r)
        marked = np.concatenate([cand[hidden | curved | at_neck], neck_rows])
        st.fresh[:] = False
        if not len(marked):
            break
        st.bisect(marked)
        st.close()
    return st.tid, st.tsx, st.tsy, st.pos, st.mask


class _Bisection:
    """Cells as records (reduced id, x shift, y shift) with Maubach tags; midpoints by edge."""

    def __init__(self, tid, tsx, tsy, tag, pos, mask, shift):
        self.tid, self.tsx, self.tsy, self.tag = tid, tsx, tsy, tag
        self.pos, self.mask, self.shift = pos, mask, shift
        self.codes = np.zeros(0, dtype=np.int64)     # sorted edge codes of bisected edges
        self.mids = np.zeros(0, dtype=np.int64)      # their midpoint ids
        self.last = np.zeros(0, dtype=np.int64)      # sorted codes bisected by the last call
        self.fresh = np.ones(len(tid), dtype=bool)   # cells made since the flag was cleared

    BIG = np.int64(1) << 31

    def unwrapped(self, rows=slice(None)):
        t, sx, sy = self.tid[rows], self.tsx[rows], self.tsy[rows]
        return self.pos[t] + np.stack([sx * self.shift[0], sy * self.shift[1], np.zeros(t.shape)], axis=-1)

    def _lookup(self, code):
        i = np.searchsorted(self.codes, code)
        i = np.minimum(i, max(len(self.codes) - 1, 0))
        found = (self.codes[i] == code) if len(self.codes) else np.zeros(len(code), dtype=bool)
        return found, (self.mids[i] if len(self.mids) else np.zeros(len(code), dtype=np.int64))

    def bisect(self, rows):
        rows = np.asarray(rows)
        k = self.tag[rows].astype(np.int64)
        r = np.arange(len(rows))
        a, b = self.tid[rows, 0], self.tid[rows, k]
        u = np.minimum(a, b)
        ucol = np.where(a == u, 0, k)
        code = u * self.BIG + np.maximum(a, b)
        self.last = np.unique(code)
        found, mid = self._lookup(code)
        new = ~found
        if new.any():
            x = self.unwrapped(rows[new])
            rn = np.arange(int(new.sum()))
            kn, ucn = k[new], ucol[new]
            xu, xo = x[rn, ucn], x[rn, np.where(ucn == 0, kn, 0)]
            ucode, first, inv = np.unique(code[new], return_index=True, return_inverse=True)
            uu = u[new][first]
            p_new = self.pos[uu] + 0.5 * (xo[first] - xu[first])
            m_new = self.mask[uu] & self.mask[np.maximum(a, b)[new][first]]
            ids = len(self.pos) + np.arange(len(ucode))
            self.pos = np.vstack([self.pos, p_new])
            self.mask = np.concatenate([self.mask, m_new])
            mid[new] = ids[inv.ravel()]
            order = np.argsort(np.concatenate([self.codes, ucode]), kind="stable")
            self.codes = np.concatenate([self.codes, ucode])[order]
            self.mids = np.concatenate([self.mids, ids])[order]
        T, SX, SY = self.tid[rows], self.tsx[rows], self.tsy[rows]
        zsx, zsy = SX[r, ucol], SY[r, ucol]
        kids_t, kids_x, kids_y, kids_tag = [], [], [], []
        for kk in (1, 2, 3):
            s = k == kk
            if not s.any():
                continue
            c1 = list(range(kk)) + [-1] + list(range(kk + 1, 4))
            c2 = list(range(1, kk + 1)) + [-1] + list(range(kk + 1, 4))
            for cols in (c1, c2):
                for arr, src, zval in ((kids_t, T, mid), (kids_x, SX, zsx), (kids_y, SY, zsy)):
                    arr.append(np.column_stack([zval[s] if c < 0 else src[s, c] for c in cols]))
                kids_tag.append(np.full(int(s.sum()), kk - 1 if kk > 1 else 3, dtype=np.int8))
        keep = np.ones(len(self.tid), dtype=bool)
        keep[rows] = False
        self.tid = np.vstack([self.tid[keep]] + kids_t)
        self.tsx = np.vstack([self.tsx[keep]] + kids_x)
        self.tsy = np.vstack([self.tsy[keep]] + kids_y)
        self.tag = np.concatenate([self.tag[keep]] + kids_tag)
        n_kids = len(self.tid) - int(keep.sum())
        self.fresh = np.concatenate([self.fresh[keep], np.ones(n_kids, dtype=bool)])
        self.kids = np.arange(len(self.tid) - n_kids, len(self.tid))

    @staticmethod
    def _contains(code, sorted_codes):
        if not len(sorted_codes):
            return np.zeros(code.shape, dtype=bool)
        i = np.minimum(np.searchsorted(sorted_codes, code), len(sorted_codes) - 1)
        return sorted_codes[i] == code

    def _edge_codes(self, rows=slice(None)):
        t = self.tid[rows]
        a, b = t[:, _EDGES[:, 0]], t[:, _EDGES[:, 1]]
        return np.minimum(a, b) * self.BIG + np.maximum(a, b)

    def close(self, max_rounds=500):
        """Bisect every cell with a bisected edge until the mesh is conforming.

        Only two kinds of cells can hang after a bisection: those holding an edge it just cut,
        and its children (which inherit their parent's other edges).
        """
        for _ in range(max_rounds):
            hanging = self._contains(self._edge_codes(), self.last).any(axis=1)
            hanging[self.kids] |= self._contains(self._edge_codes(self.kids), self.codes).any(axis=1)
            if not hanging.any():
                return
            self.bisect(np.flatnonzero(hanging))
        raise RuntimeError("levelset mesh: the bisection closure did not terminate")


def _split_cut(tid, tsx, tsy, sgn, code, nv):
    """Split the cut tetrahedra; returns [(ids, sx, sy, phase)] pieces (records as in the caller)."""
    out = []
    m = len(tid)
    npos, nneg = (sgn > 0).sum(1), (sgn < 0).sum(1)
    nzero = 4 - npos - nneg
    for lone_sign in (-1, 1):
        other = -lone_sign
        lone_phase = T.PARTICLES if lone_sign < 0 else T.ELECTROLYTE
        other_phase = T.ELECTROLYTE if lone_sign < 0 else T.PARTICLES
        n_lone = nneg if lone_sign < 0 else npos
        n_oth = npos if lone_sign < 0 else nneg
        # one vertex apart, none on the surface: tet + prism
        sel = np.flatnonzero((n_lone == 1) & (n_oth == 3))
        if len(sel):
            o = np.argsort(sgn[sel] * other, axis=1, kind="stable")    # lone first
            sub = _Sub(tid[sel], tsx[sel], tsy[sel], o)
            A = sub.v(0)
            P = [sub.cut(0, k, code, nv) for k in (1, 2, 3)]
            out.append(_stack([A, *P], lone_phase))
            out.extend(_prism([sub.v(1), sub.v(2), sub.v(3)], P, other_phase))
        # one vertex apart, one on the surface: tet + pyramid
        sel = np.flatnonzero((n_lone == 1) & (n_oth == 2) & (nzero == 1))
        if len(sel):
            key = np.where(sgn[sel] == lone_sign, 0, np.where(sgn[sel] == 0, 1, 2))
            o = np.argsort(key, axis=1, kind="stable")                # lone, zero, other, other
            sub = _Sub(tid[sel], tsx[sel], tsy[sel], o)
            A, Z, B1, B2 = sub.v(0), sub.v(1), sub.v(2), sub.v(3)
            P1, P2 = sub.cut(0, 2, code, nv), sub.cut(0, 3, code, nv)
            out.append(_stack([A, Z, P1, P2], lone_phase))
            out.extend(_pyramid([B1, B2, P2, P1], Z, other_phase))
        if lone_sign < 0:
            # one against one, two on the surface: two tets
            sel = np.flatnonzero((n_lone == 1) & (n_oth == 1) & (nzero == 2))
            if len(sel):
                key = np.where(sgn[sel] < 0, 0, np.where(sgn[sel] > 0, 1, 2))
                o = np.argsort(key, axis=1, kind="stable")            # neg, pos, zero, zero
                sub = _Sub(tid[sel], tsx[sel], tsy[sel], o)
                P = sub.cut(0, 1, code, nv)
                out.append(_stack([sub.v(0), P, sub.v(2), sub.v(3)], T.PARTICLES))
                out.append(_stack([sub.v(1), P, sub.v(2), sub.v(3)], T.ELECTROLYTE))
            # two against two: two prisms
            sel = np.flatnonzero((nneg == 2) & (npos == 2))
            if len(sel):
                o = np.argsort(sgn[sel], axis=1, kind="stable")       # neg, neg, pos, pos
                sub = _Sub(tid[sel], tsx[sel], tsy[sel], o)
                A1, A2, B1, B2 = sub.v(0), sub.v(1), sub.v(2), sub.v(3)
                P11, P12 = sub.cut(0, 2, code, nv), sub.cut(0, 3, code, nv)
                P21, P22 = sub.cut(1, 2, code, nv), sub.cut(1, 3, code, nv)
                out.extend(_prism([A1, P11, P12], [A2, P21, P22], T.PARTICLES))
                out.extend(_prism([B1, P11, P21], [B2, P12, P22], T.ELECTROLYTE))
    assert sum(len(p[0]) for p in out) >= m
    return out


class _Sub:
    """Tet-vertex records of selected tetrahedra, columns reordered by ``order``."""

    def __init__(self, tid, tsx, tsy, order):
        r = np.arange(len(tid))[:, None]
        self.id, self.sx, self.sy = tid[r, order], tsx[r, order], tsy[r, order]

    def v(self, k):
        return self.id[:, k], self.sx[:, k], self.sy[:, k]

    def cut(self, p, q, code, nv):
        a, b = self.id[:, p], self.id[:, q]
        uu, vv = np.minimum(a, b), np.maximum(a, b)
        c = uu * nv + vv
        e = np.searchsorted(code, c)
        if not np.all(code[np.minimum(e, len(code) - 1)] == c):
            raise RuntimeError("levelset mesh: a cut edge of a tetrahedron has no cut point")
        ucol = np.where(a == uu, p, q)
        r = np.arange(len(a))
        return nv + e, self.sx[r, ucol], self.sy[r, ucol]


def _stack(recs, phase):
    ids = np.column_stack([r[0] for r in recs])
    return ids, np.column_stack([r[1] for r in recs]), np.column_stack([r[2] for r in recs]), \
        np.full(len(ids), phase)


def _pyramid(quad, apex, phase):
    """Pyramid (quad q0 q1 q2 q3 cyclic, apex) -> 2 tets, diagonal through the quad's smallest id."""
    q = np.column_stack([r[0] for r in quad])
    first = np.argmin(q, axis=1) % 2 == 0           # smallest at q0 or q2: diagonal q0-q2
    t1a, t2a = [quad[0], quad[1], quad[2], apex], [quad[0], quad[2], quad[3], apex]
    t1b, t2b = [quad[1], quad[2], quad[3], apex], [quad[1], quad[3], quad[0], apex]
    out = []
    for ta, tb in ((t1a, t1b), (t2a, t2b)):
        recs = [tuple(np.where(first, ra[k], rb[k]) for k in range(3)) for ra, rb in zip(ta, tb)]
        out.append(_stack(recs, phase))
    return out


# prism symmetries: permutations of (0..5) (bottom 0 1 2, top 3 4 5 above them) that map vertex k to 0
_PRISM_ROT = {0: (0, 1, 2, 3, 4, 5), 1: (1, 2, 0, 4, 5, 3), 2: (2, 0, 1, 5, 3, 4),
              3: (3, 5, 4, 0, 2, 1), 4: (4, 3, 5, 1, 0, 2), 5: (5, 4, 3, 2, 1, 0)}


def _prism(bottom, top, phase):
    """Prism (bottom triangle, top triangle, top[k] above bottom[k]) -> 3 tets (Dompierre et al.)."""
    recs = list(bottom) + list(top)
    ids = np.column_stack([r[0] for r in recs])
    n = len(ids)
    kmin = np.argmin(ids, axis=1)
    perm = np.array([_PRISM_ROT[k] for k in range(6)])[kmin]     # (n, 6)
    r = np.arange(n)[:, None]
    V = [tuple(np.column_stack([rr[c] for rr in recs])[r[:, 0], perm[:, j]] for c in range(3)) for j in range(6)]
    vid = [v[0] for v in V]
    case1 = np.minimum(vid[1], vid[5]) < np.minimum(vid[2], vid[4])
    A = [[0, 1, 2, 5], [0, 1, 5, 4], [0, 4, 5, 3]]
    B = [[0, 1, 2, 4], [0, 4, 2, 5], [0, 4, 5, 3]]
    out = []
    for ta, tb in zip(A, B):
        rec = [tuple(np.where(case1, V[ja][c], V[jb][c]) for c in range(3)) for ja, jb in zip(ta, tb)]
        out.append(_stack(rec, phase))
    return out


def _finish(points, cells, phase, union, bounds, periodic, pid, volume_fit, info) -> TetMesh:
    """Facet tags, particle identity and components, quality and volume summary."""
    Lx, Ly, H, top = bounds
    faces = np.concatenate([cells[:, [1, 2, 3]], cells[:, [0, 2, 3]], cells[:, [0, 1, 3]], cells[:, [0, 1, 2]]])
    owner = np.tile(np.arange(len(cells)), 4)
    fs = np.sort(faces, axis=1)
    n = np.int64(len(points))
    if n < (1 << 21):          # one int64 per face: much faster than unique rows
        key = (fs[:, 0] * n + fs[:, 1]) * n + fs[:, 2]
        _, first, inv, count = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    else:
        _, first, inv, count = np.unique(fs, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    nf = len(first)
    c1 = np.full(nf, -1, dtype=np.int64)
    c2 = np.full(nf, -1, dtype=np.int64)
    order = np.argsort(inv, kind="stable")
    srt = inv[order]
    starts = np.searchsorted(srt, np.arange(nf))
    c1 = owner[order[starts]]
    has2 = count == 2
    c2[has2] = owner[order[starts[has2] + 1]]
    if np.any(count > 2):
        raise RuntimeError("levelset mesh: a face is shared by more than two cells (non-conforming)")
    fverts = fs[first]
    fz = points[fverts][:, :, 2]
    fx = points[fverts][:, :, 0]
    fy = points[fverts][:, :, 1]
    ftag = np.zeros(nf, dtype=np.int32)
    bnd = ~has2
    ftag[bnd & np.all(fz == 0.0, axis=1)] = T.CURRENT_COLLECTOR
    ftag[bnd & np.all(fz == top, axis=1)] = T.TOP
    lateral = (np.all(fx == 0.0, axis=1) | np.all(fx == Lx, axis=1) | np.all(fy == 0.0, axis=1)
               | np.all(fy == Ly, axis=1))
    ftag[bnd & (ftag == 0) & lateral] = T.SIDES
    if np.any(bnd & (ftag == 0)):
        raise RuntimeError("levelset mesh: a boundary face lies on no face of the box (a hole in the mesh)")
    p1, p2 = phase[c1], np.where(has2, phase[np.maximum(c2, 0)], 0)
    solid1, solid2 = p1 == T.PARTICLES, p2 == T.PARTICLES
    ftag[has2 & (solid1 != solid2)] = T.INTERFACE
    es = has2 & (((p1 == T.ELECTROLYTE) & (p2 == T.SEPARATOR)) | ((p1 == T.SEPARATOR) & (p2 == T.ELECTROLYTE)))
    ftag[es] = T.ELECTRODE_SEPARATOR
    info["volume_fit_max_m"] = 0.0
    if volume_fit and np.any(ftag == T.INTERFACE):
        info["volume_fit_max_m"] = _chordal_fit(points, cells, fverts[ftag == T.INTERFACE], union, pid, bounds)
    # particle identity and connected solid components
    m = len(cells)
    cell_sphere = np.full(m, -1, dtype=np.int64)
    solid = np.flatnonzero(phase == T.PARTICLES)
    cen = points[cells[solid]].mean(axis=1)
    cell_sphere[solid] = union.nearest(cen)[1]
    link = has2 & solid1 & solid2
    g = coo_matrix((np.ones(int(link.sum())), (c1[link], c2[link])), shape=(m, m))
    _, lab = connected_components(g, directed=False)
    cell_component = np.full(m, -1, dtype=np.int64)
    if len(solid):
        _, comp = np.unique(lab[solid], return_inverse=True)
        cell_component[solid] = comp
    q = mean_ratio(points, cells)
    vol = signed_volumes(points, cells)
    tagged = ftag > 0
    tri = points[fverts]
    farea = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    # components touching the collector (electronic path) and pores reaching the separator / top
    cc_cells = c1[ftag == T.CURRENT_COLLECTOR]
    n_comp = int(cell_component.max() + 1) if len(solid) else 0
    comp_cc = np.zeros(n_comp, dtype=bool)
    comp_cc[np.unique(cell_component[cc_cells][cell_component[cc_cells] >= 0])] = True
    comp_vol = np.bincount(cell_component[solid], weights=vol[solid], minlength=n_comp)
    info.update({
        "route": "levelset",
        "periodic_conforming": bool(periodic),
        "n_nodes": int(len(points)),
        "n_tets_electrolyte": int(np.count_nonzero(phase == T.ELECTROLYTE)),
        "n_tets_particles": int(np.count_nonzero(phase == T.PARTICLES)),
        "n_tets_separator": int(np.count_nonzero(phase == T.SEPARATOR)),
        "mesh_volume_electrolyte_m3": float(vol[phase == T.ELECTROLYTE].sum()),
        "mesh_volume_particles_m3": float(vol[phase == T.PARTICLES].sum()),
        "mesh_volume_separator_m3": float(vol[phase == T.SEPARATOR].sum()),
        "interface_area_m2": float(farea[ftag == T.INTERFACE].sum()),
        "n_particle_components": n_comp,
        "isolated_particle_components": int(np.count_nonzero(~comp_cc)),
        "isolated_particle_volume_m3": float(comp_vol[~comp_cc].sum()),
        "min_mean_ratio": float(q.min()),
        "n_tets_mean_ratio_below_0.05": int(np.count_nonzero(q < 0.05)),
        "min_volume_over_h3": float(vol.min() / (info["lattice_spacing_m"][0] ** 3)),
    })
    box_total = Lx * Ly * top
    total = float(vol.sum())
    if abs(total - box_total) > 1e-9 * box_total or vol.min() <= 0.0:
        raise RuntimeError(f"levelset mesh: cells tile {total:.9g} m3 of the {box_total:.9g} m3 box "
                           f"(smallest cell {vol.min():.3g} m3): the mesh is invalid")
    touch = has2 & solid1 & solid2 & (cell_sphere[c1] != cell_sphere[np.maximum(c2, 0)])
    on_cc = cell_sphere[cc_cells]
    contacts = np.unique(np.vstack([np.sort(np.column_stack([cell_sphere[c1[touch]], cell_sphere[c2[touch]]]), axis=1),
                                    np.column_stack([np.full(len(on_cc), -1), on_cc])[on_cc >= 0]]), axis=0)
    return TetMesh(points_m=points, cells=cells, cell_tags=phase, facets=fverts[tagged], facet_tags=ftag[tagged],
                   cell_sphere=cell_sphere, cell_component=cell_component, info=info, contacts=contacts)


def _chordal_fit(points: np.ndarray, cells: np.ndarray, tris: np.ndarray, union: SphereUnion, pid: np.ndarray,
                 bounds: tuple[float, float, float, float]) -> float:
    """Move the interface nodes outwards so the flat triangles lose no volume to the spheres (in place).

    A flat triangle with its vertices on a sphere of radius ``r`` lies inside it by the mean gap
    ``g_T = (r^2 - |x_g - c|^2 - sum_i |x_i - x_g|^2 / 12) / (2 r)`` (``x_g`` its centroid; the mean
    of ``|x - c|^2`` over a triangle, to first order in ``g / r``): the polyhedral particles miss
    ~3 g / r of their volume (6 % for S particles at h = 1 um).  Every interface node moves along its
    sphere's normal by the area-weighted mean of ``g_T`` over its triangles, which restores
    ``sum_T A_T g_T`` of volume to second order.  Triangles not on one sphere (necks, the flat
    cut at the electrode top) count with ``g_T = 0``; nodes on a box plane move within it.  Periodic
    copies of a node (same ``pid``) move alike.  A move that would leave a cell with less than half
    its volume is undone for that cell's nodes.  Returns the largest move, m.
    """
    Lx, Ly, H, top = bounds
    x = points[tris]                                        # (n, 3, 3)
    ids = np.unique(tris)
    img = np.full(len(points), -1, dtype=np.int64)
    img[ids] = union.nearest_image(points[ids])
    c, r = union.centres[img[tris]], union.radii[img[tris]]
    on_sphere = np.abs(np.linalg.norm(x - c, axis=2) - r) < 1e-6 * r
    same = (img[tris[:, 0]] == img[tris[:, 1]]) & (img[tris[:, 0]] == img[tris[:, 2]]) & on_sphere.all(axis=1)
    flat_top = np.all(x[:, :, 2] == H, axis=1)
    g = x.mean(axis=1)
    c0, r0 = c[:, 0], r[:, 0]
    gap = (r0 ** 2 - ((g - c0) ** 2).sum(1) - ((x - g[:, None]) ** 2).sum((1, 2)) / 12.0) / (2.0 * r0)
    gap = np.where(same & ~flat_top, np.maximum(gap, 0.0), 0.0)
    area = 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    nred = int(pid.max()) + 1
    num = np.bincount(pid[tris.ravel()], weights=np.repeat(area * gap, 3), minlength=nred)
    den = np.bincount(pid[tris.ravel()], weights=np.repeat(area, 3), minlength=nred)
    delta = np.zeros(len(points))
    delta[ids] = num[pid[ids]] / np.maximum(den[pid[ids]], 1e-300)
    normal = np.zeros_like(points)
    cc = union.centres[img[ids]]
    normal[ids] = (points[ids] - cc) / np.linalg.norm(points[ids] - cc, axis=1)[:, None]
    p = points
    for axis, planes in ((0, (0.0, Lx)), (1, (0.0, Ly)), (2, (0.0, H, top))):
        fixed = np.isin(p[:, axis], planes)
        normal[fixed, axis] = 0.0
    move = delta[:, None] * normal
    vol0 = signed_volumes(points, cells)
    for _ in range(5):
        vol = signed_volumes(points + move, cells)
        bad = vol < 0.5 * vol0
        if not bad.any():
            break
        move[np.isin(pid, pid[cells[bad]])] = 0.0       # periodic copies alike
    else:
        move[:] = 0.0
    points += move
    return float(np.linalg.norm(move, axis=1).max(initial=0.0))


# ---------------------------------------------------------------------------------------------
# Packing -> mesh -> .msh (the geometry stage's route)
# ---------------------------------------------------------------------------------------------
NECK_MIN_RADIUS_M = 0.5e-6
"""Default collar radius of thin necks, a stated floor (a fifth of an S radius; the network stage's
``neck`` rule sizes its bridges from the carbon-binder volume instead): the refinement at a neck
stops at edges of ~0.35 um, and the collars add ~1e-5 of the solid volume (README)."""

PARTICLE_ENTITY_OFFSET = 100
"""gmsh volume entity of the particle cells of packing sphere ``i``: ``PARTICLE_ENTITY_OFFSET + i``."""


def packing_solid_volume_m3(packing: Mapping[str, Any]) -> tuple[float, float]:
    """Solid volume of the electrode box from the packing's quasi-Monte-Carlo layer fractions, and its
    standard error (m3)."""
    Lx, Ly, _ = (float(v) for v in packing["box_m"])
    v = sum(row["achieved_solid_fraction"] * (row["z_top_m"] - row["z_bottom_m"]) for row in packing["layers"])
    se = math.sqrt(sum((row["achieved_solid_fraction_stderr"] * (row["z_top_m"] - row["z_bottom_m"])) ** 2
                       for row in packing["layers"]))
    return v * Lx * Ly, se * Lx * Ly


MAX_NECK_PASSES = 4
"""Meshing passes of :func:`mesh_packing`: each refines at the necks the last pass lost."""


def _mesh_with_retry(union, packing, h_m, h_min_m, snap, curvature, volume_fit, necks):
    failures = []
    for s in (snap, 0.5 * snap):
        try:
            mesh = levelset_mesh(union, tuple(packing["box_m"]), float(packing.get("separator_thickness_m", 0.0)),
                                 h_m, bool(packing["periodic"]), snap=s, volume_fit=volume_fit,
                                 h_min_m=h_min_m, curvature=curvature, necks=necks)
            return mesh, failures
        except RuntimeError as err:
            failures.append(f"snap {s:g}: {err}")
            log.warning("levelset mesh attempt failed (%s)", failures[-1])
    raise RuntimeError("; ".join(failures))


def _pair_code(pairs: np.ndarray) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return (pairs[:, 0] + 1) * (np.int64(1) << 32) + pairs[:, 1]


def _lost_contacts(packing_pairs: np.ndarray, mesh_pairs: np.ndarray) -> np.ndarray:
    """The packing's contacts (sphere pairs, ``-1`` the collector) with no solid face in the mesh."""
    want = np.unique(np.asarray(packing_pairs, dtype=np.int64).reshape(-1, 2), axis=0)
    return want[~np.isin(_pair_code(want), _pair_code(mesh_pairs))]


def _connected_fractions(mesh: TetMesh, packing: Mapping[str, Any]) -> None:
    """Particle volume with an electronic path to the collector: in the mesh (cells of the solid
    components touching it) against the packing's overlap graph (cells of the spheres it connects);
    into ``mesh.info``."""
    solid = mesh.cell_tags == T.PARTICLES
    vol = signed_volumes(mesh.points_m, mesh.cells)[solid]
    total = float(vol.sum())
    comp, sph = mesh.cell_component[solid], mesh.cell_sphere[solid]
    cc_faces = mesh.facets[mesh.facet_tags == T.CURRENT_COLLECTOR]
    on_cc = np.zeros(len(mesh.cells), dtype=bool)
    if len(cc_faces):
        fkey = np.sort(cc_faces, axis=1)
        ckey = np.sort(mesh.cells, axis=1)
        n = np.int64(len(mesh.points_m))
        code = lambda t: (t[:, 0] * n + t[:, 1]) * n + t[:, 2]     # noqa: E731
        want = np.sort(code(fkey))
        for drop in range(4):
            tri = np.delete(ckey, drop, axis=1)
            on_cc |= np.isin(code(tri), want)
    touching = np.unique(mesh.cell_component[on_cc & (mesh.cell_tags == T.PARTICLES)])
    mesh.info["particle_volume_connected_fraction_mesh"] = float(vol[np.isin(comp, touching)].sum() / total)
    linked = np.asarray(packing.get("sphere_connected_to_cc", []), dtype=bool)
    if len(linked):
        mesh.info["particle_volume_connected_fraction_packing"] = float(vol[linked[np.maximum(sph, 0)]].sum() / total)


VOLUME_CORRECTIONS = ("none", "isovalue")
"""``volume_correction`` of :func:`mesh_packing`."""

VOLUME_RTOL = 1e-3
"""Particle volume tolerance of the isovalue offset (relative to the packing's quasi-Monte-Carlo one):
the electrode pores then err by at most 3e-3 at 25 % porosity."""

MAX_OFFSET_ITERATIONS = 8
"""Meshes of the isovalue offset's root solve (secant on the offset, Newton's first step)."""


def _mesh_keeping_contacts(packing, dr_m, necks_at, refine, h_m, h_min_m, snap, curvature, volume_fit,
                           neck_min_radius_m):
    """One level-set mesh of the packing with every radius changed by ``dr_m`` that keeps its contacts:
    collars at the thin necks and up to :data:`MAX_NECK_PASSES` passes refining at the lost ones
    (``refine``: the necks refined from the first pass on; updated in place)."""
    union = union_of_packing(packing, dr_m)
    necks = necks_at(dr_m)
    if neck_min_radius_m > 0:
        union.collars = NeckCollars(necks, neck_min_radius_m)
    passes = 0
    while True:
        mesh, failures = _mesh_with_retry(union, packing, h_m, h_min_m, snap, curvature, volume_fit,
                                          necks.subset(refine))
        passes += 1
        lost = _lost_contacts(necks.pair, mesh.contacts)
        if neck_min_radius_m <= 0:
            break
        again = np.isin(_pair_code(necks.pair), _pair_code(lost)) & ~refine
        if not again.any() or passes >= MAX_NECK_PASSES:
            break
        refine |= again
    info = mesh.info
    info["neck_refinement_passes"] = passes
    info["n_necks_refined"] = int(refine.sum())
    info["contacts_lost"] = lost.tolist()
    info["attempts_failed"] = failures
    info["n_necks"] = len(necks)
    info["n_neck_collars"] = len(union.collars) if union.collars is not None else 0
    info["neck_collar_volume_m3"] = union.collars.volume_m3() if union.collars is not None else 0.0
    return mesh


def _next_offset(history, slope_guess):
    """The next radius offset of the root solve of ``error(dr) = 0`` (error increasing in dr, with jumps
    where lattice vertices change sign): regula falsi on the tightest bracket (bisection when the same
    end moved twice in a row), else a secant on the last two offsets (the ``slope_guess`` where it is not
    positive); ``None`` once the bracket is narrower than 1e-12 m (a jump wider than the tolerance)."""
    d = np.array([h[0] for h in history])
    e = np.array([h[1] for h in history])
    lo, hi = e < 0, e > 0
    if lo.any() and hi.any():
        a = np.flatnonzero(lo)[np.argmax(d[lo])]
        b = np.flatnonzero(hi)[np.argmin(d[hi])]
        if d[b] - d[a] < 1e-12:
            return None
        if len(d) >= 3 and (e[-1] > 0) == (e[-2] > 0):     # the same end moved twice: bisect
            return float(0.5 * (d[a] + d[b]))
        return float(d[a] - e[a] * (d[b] - d[a]) / (e[b] - e[a]))
    slope = (e[-1] - e[-2]) / (d[-1] - d[-2]) if len(d) >= 2 and d[-1] != d[-2] else 0.0
    if not slope > 0.0:
        slope = slope_guess
    return float(d[-1] - e[-1] / slope)


def mesh_packing(packing: Mapping[str, Any], h_m: float, h_min_m: float, snap: float = 0.2,
                 curvature: float = 0.4, volume_fit: bool = True,
                 neck_min_radius_m: float = NECK_MIN_RADIUS_M, volume_correction: str = "none",
                 volume_rtol: float = VOLUME_RTOL) -> TetMesh:
    """The level-set mesh of a ``packing3d.json`` mapping (the electrode box and its separator slab).

    Every contact of the packing (sphere overlaps and collector indentations) is kept: necks
    thinner than ``neck_min_radius_m`` get a carbon-binder collar of that radius
    (:class:`NeckCollars`, volume reported as ``neck_collar_volume_m3``), and the cells at every
    neck are refined below its radius (:func:`_refine`); 0 switches both off.

    ``volume_correction``: ``none`` meshes the spheres as they are.  ``isovalue`` offsets the level
    set: every sphere radius changes by one ``dr`` (a uniform normal displacement of the surface), found
    by a 1-D root solve (:func:`_next_offset`; Newton's first step with the union's area as the slope) so
    the mesh's particle volume is the packing's quasi-Monte-Carlo one to ``volume_rtol``.  On a lattice
    coarser than the pores (the preview's 3 um) the mesh closes thin pores and loses the small
    particles' caps; the offset trades that volume error for a surface moved by ``dr`` (reported as
    ``isovalue_offset_m``, with the uncorrected volume error and interface area).  The contacts stay
    the packing's: a neck the offset thins or opens gets its collar (:func:`packing_necks` with
    ``dr_m``), so the offset never cuts an electronic path.

    A mesh that fails its own checks (tiling of the box, positive cells) is rebuilt with half the
    snapping threshold before giving up (``RuntimeError`` naming the attempts).
    """
    if volume_correction not in VOLUME_CORRECTIONS:
        raise ValueError(f"volume_correction {volume_correction!r}: one of {VOLUME_CORRECTIONS}")
    original = union_of_packing(packing)
    necks = packing_necks(original)
    refine = np.zeros(len(necks), dtype=bool)
    solid_m3, se_m3 = packing_solid_volume_m3(packing)
    args = (h_m, h_min_m, snap, curvature, volume_fit, neck_min_radius_m)

    def necks_at(dr_m: float) -> Necks:
        return packing_necks(original, dr_m)
    mesh = _mesh_keeping_contacts(packing, 0.0, necks_at, refine, *args)
    err0 = mesh.info["mesh_volume_particles_m3"] / solid_m3 - 1.0
    uncorrected = {"volume_particles_rel_error_uncorrected": err0,
                   "interface_area_uncorrected_m2": mesh.info["interface_area_m2"]}
    history = [(0.0, err0, mesh)]
    best = 0
    if volume_correction == "isovalue":
        # the union's area is the first slope: the mesh's misses its closed pores, which the offset opens
        uncorrected["union_interface_area_m2"] = union_interface_area_m2(packing)
        slope0 = max(uncorrected["union_interface_area_m2"], mesh.info["interface_area_m2"]) / solid_m3
        dr = -err0 / slope0
        for _ in range(MAX_OFFSET_ITERATIONS):
            if abs(history[-1][1]) <= volume_rtol:
                break
            m = _mesh_keeping_contacts(packing, dr, necks_at, refine, *args)
            history.append((dr, m.info["mesh_volume_particles_m3"] / solid_m3 - 1.0, m))
            dr = _next_offset(history, slope0)
            if dr is None:
                break
        best = min(range(len(history)), key=lambda k: abs(history[k][1]))
        mesh = history[best][2]
        if abs(history[best][1]) > volume_rtol:
            log.warning("levelset mesh: the isovalue offset left the particle volume %.2g off (tolerance %.2g)",
                        history[best][1], volume_rtol)
    info = mesh.info
    info.update(uncorrected)
    info["volume_correction"] = volume_correction
    info["isovalue_offset_m"] = float(history[best][0])
    info["isovalue_iterations"] = len(history) - 1
    info["isovalue_history"] = [[float(d), float(e)] for d, e, _ in history]
    info["n_packing_contacts"] = int(len(np.unique(_pair_code(necks.pair))))
    lost = np.asarray(info["contacts_lost"], dtype=np.int64).reshape(-1, 2)
    # spheres closer than a cell may merge: pores thinner than the cells close
    info["contacts_extra"] = _lost_contacts(mesh.contacts, necks.pair).tolist()
    if len(lost):
        log.warning("levelset mesh: %d packing contacts have no solid face in the mesh: %s", len(lost),
                    lost[:10].tolist())
    _connected_fractions(mesh, packing)
    got = info["particle_volume_connected_fraction_mesh"]
    want = info.get("particle_volume_connected_fraction_packing", got)
    if got < want - 1e-3:
        log.warning("levelset mesh: %.1f %% of the particle volume reaches the collector, %.1f %% in the packing%s",
                    100 * got, 100 * want, " (periodic: the mesh's lateral faces are walls, which cut the "
                    "contacts across them; pack with periodic: false)" if packing["periodic"] else "")
    info["neck_min_radius_m"] = float(neck_min_radius_m)
    info["qmc_volume_particles_m3"] = solid_m3
    info["qmc_volume_particles_stderr_m3"] = se_m3
    info["volume_particles_rel_error"] = info["mesh_volume_particles_m3"] / solid_m3 - 1.0
    Lx, Ly, H = (float(v) for v in packing["box_m"])
    info["volume_electrolyte_rel_error"] = info["mesh_volume_electrolyte_m3"] / (Lx * Ly * H - solid_m3) - 1.0
    return mesh


def union_interface_area_m2(packing: Mapping[str, Any], n_per_sphere: int = 1024) -> float:
    """Area of the union of the packing's spheres inside the electrode box (its pore-solid interface),
    by quadrature: a Fibonacci lattice of ``n_per_sphere`` points on each sphere (equal areas), each
    counted when it lies in the box and outside every other sphere (two overlapping S spheres: within
    0.2 % of the analytic area; a check of the mesh's interface area)."""
    union = union_of_packing(packing)
    if union.empty:
        return 0.0
    k = np.arange(n_per_sphere) + 0.5
    zeta = 1.0 - 2.0 * k / n_per_sphere
    phi = math.pi * (3.0 - math.sqrt(5.0)) * k
    rho = np.sqrt(1.0 - zeta ** 2)
    unit = np.column_stack([rho * np.cos(phi), rho * np.sin(phi), zeta])
    Lx, Ly, H = (float(v) for v in packing["box_m"])
    total = 0.0
    for s0 in range(0, len(union.radii), 256):
        c, r = union.centres[s0:s0 + 256], union.radii[s0:s0 + 256]
        pts = (c[:, None, :] + (r * (1.0 + 1e-9))[:, None, None] * unit[None]).reshape(-1, 3)
        keep = ((pts[:, 0] > 0) & (pts[:, 0] < Lx) & (pts[:, 1] > 0) & (pts[:, 1] < Ly) & (pts[:, 2] > 0)
                & (pts[:, 2] < H))
        keep[keep] &= ~union.nearest(pts[keep])[0]
        total += float((keep.reshape(len(r), -1).sum(1) * 4.0 * math.pi * r ** 2).sum()) / n_per_sphere
    return total


def write_msh(mesh: TetMesh, path: str, scale_to_m: float = 1.0) -> None:
    """Write the mesh as gmsh 4.1 ``.msh`` through gmsh's API (discrete entities, physical groups).

    Physical groups and tags are those of :data:`layerlab.geometry.tags.NAMES_3D`.  Volume
    entities: 1 electrolyte, 3 separator, ``PARTICLE_ENTITY_OFFSET + i`` the particle cells of
    packing sphere ``i`` (all in the ``particles`` group); one surface entity per facet group.
    """
    import gmsh

    owns = not gmsh.isInitialized()
    if owns:
        gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("layerlab_levelset")
        ntag = np.arange(1, len(mesh.points_m) + 1, dtype=np.uint64)
        gmsh.model.addDiscreteEntity(3, 1)
        gmsh.model.mesh.addNodes(3, 1, ntag, (mesh.points_m * scale_to_m).ravel())
        etag = 1
        groups: dict[int, list[int]] = {}
        blocks: list[tuple[int, int, np.ndarray]] = []
        for tag in (T.ELECTROLYTE, T.SEPARATOR):
            sel = mesh.cells[mesh.cell_tags == tag]
            if len(sel):
                blocks.append((3, tag, sel))
                groups.setdefault(tag, []).append(tag)
        solid = mesh.cell_tags == T.PARTICLES
        for sph in np.unique(mesh.cell_sphere[solid]):
            ent = PARTICLE_ENTITY_OFFSET + int(sph)
            blocks.append((3, ent, mesh.cells[solid & (mesh.cell_sphere == sph)]))
            groups.setdefault(T.PARTICLES, []).append(ent)
        for tag in np.unique(mesh.facet_tags):
            blocks.append((2, int(tag), mesh.facets[mesh.facet_tags == tag]))
            groups.setdefault(int(tag), []).append(int(tag))
        for dim, ent, conn in blocks:
            if not (dim == 3 and ent == 1):
                gmsh.model.addDiscreteEntity(dim, ent)
            etype = 4 if dim == 3 else 2
            n = len(conn)
            gmsh.model.mesh.addElementsByType(ent, etype, np.arange(etag, etag + n, dtype=np.uint64),
                                              (conn + 1).astype(np.uint64).ravel())
            etag += n
        names = {v: k for k, (_, v) in T.NAMES_3D.items()}
        for tag, ents in groups.items():
            dim = T.NAMES_3D[names[tag]][0]
            gmsh.model.addPhysicalGroup(dim, ents, tag, name=names[tag])
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.option.setNumber("Mesh.Binary", 1)
        gmsh.write(str(path))
        gmsh.model.remove()
    finally:
        if owns and gmsh.isInitialized():
            gmsh.finalize()


def summary(mesh: TetMesh, packing: Mapping[str, Any]) -> dict[str, Any]:
    """JSON summary: counts, volumes against the packing, quality, and the particle identity table."""
    out = {k: v for k, v in mesh.info.items()}
    solid = mesh.cell_tags == T.PARTICLES
    vol = signed_volumes(mesh.points_m, mesh.cells)
    sph, comp = mesh.cell_sphere[solid], mesh.cell_component[solid]
    spheres, idx = np.unique(sph, return_inverse=True)
    volumes = np.bincount(idx, weights=vol[solid], minlength=len(spheres))
    pairs = np.unique(np.column_stack([idx, comp]), axis=0)
    out["particles"] = [{"sphere": int(s), "gmsh_entity": PARTICLE_ENTITY_OFFSET + int(s),
                         "volume_m3": float(volumes[k]),
                         "components": pairs[pairs[:, 0] == k, 1].tolist()} for k, s in enumerate(spheres)]
    out["n_spheres"] = len(packing["sphere_radius_m"])
    out["n_spheres_in_mesh"] = int(len(spheres))
    return out
