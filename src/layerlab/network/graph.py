"""The particle graph of a packing and its effective electronic conductivity.

Nodes are the particles (potential of the centre plane, see :mod:`layerlab.network.laws`), the current
collector (z = 0) and, for through-plane runs, a virtual ideal electrode at the top plane z = H.  Edges
are the contacts; each edge's resistance is a series of *pieces* (the NMC bulk per particle side, the
interface per contact, the collector contact) that are booked to a layer and a part.

Through-plane (z): collector at 1 V, top electrode at 0 V; the graph Laplacian of the particles connected
to the collector is solved (scipy.sparse, direct).  The dissipation of every piece, ``I_e^2 R_piece``,
partitions the electrode's resistance exactly: ``R = 1 / I = sum_pieces I_e^2 R_piece / I^2``.  A layer's
area-specific resistance is the sum of its pieces (``collector`` booked to the bottom layer), and
``sigma_k = t_k / (A R_k)``; the top electrode's pieces (a measurement device that the cell does not
have: current leaves the solid into the electrolyte) are reported as ``top`` and left out of the
conductivities, so the layer resistances add up to the electrode's: a stack obeys the series law of its
layers by construction, and a stack of separately packed layers is checked against it in the tests.

Lateral (x, y; periodic faces only): a mean potential gradient E along the axis and a periodic
fluctuation psi; ``L psi = -E sum_j G_ij dx_ij`` (one node pinned per cluster), and
``sigma = (sum_e I_e dx_e / V) / E`` (network homogenisation).  Per layer on the layer's own particles.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg

from layerlab.errors import SolverError
from layerlab.network.contacts import Contacts, contact_radii, find_contacts, lens_height, sphere_volumes_m3
from layerlab.network.laws import NetworkParameters, interface_ohm, side_ohm
from layerlab.transport.packing import Packing

log = logging.getLogger("layerlab.network")

PARTS: tuple[str, ...] = ("bulk", "interface", "collector", "top")
"""Parts of the resistance: NMC bulk (spreading and constriction in the particles), interface (r_c at
particle contacts), the collector contacts (their particle side and r_c) and the virtual top electrode."""
DIRECTIONS: tuple[str, ...] = ("x", "y", "z")
CG_RTOL = 1e-12
"""Relative residual of the CG solves (the currents are then exact to ~1e-10)."""
ZERO_OHM_FLOOR = 1e-9
"""Zero edge resistances are raised to this fraction of the median (keeps the Laplacian regular)."""


@dataclass
class Network:
    """Edges (node pairs, conductance) and their resistance pieces."""

    n_spheres: int
    edge_p: np.ndarray
    edge_q: np.ndarray
    edge_dx_m: np.ndarray              # (n_edges, 3) vector p -> q (zeros for terminal edges)
    piece_edge: np.ndarray
    piece_part: np.ndarray             # index into PARTS
    piece_layer: np.ndarray            # layer index
    piece_ohm: np.ndarray
    contact_layer: np.ndarray          # per particle contact
    contact_a_m: np.ndarray            # lens radius
    contact_b_m: np.ndarray            # conducting radius (CBD-enlarged)
    sphere_layer: np.ndarray
    n_collector_contacts: int
    collector_a_m: np.ndarray
    collector_b_m: np.ndarray
    cbd_volume_m3: float
    attrs: dict[str, float] = field(default_factory=dict)

    @property
    def cc_node(self) -> int:
        return self.n_spheres

    @property
    def top_node(self) -> int:
        return self.n_spheres + 1

    def edge_ohm(self) -> np.ndarray:
        return np.bincount(self.piece_edge, weights=self.piece_ohm, minlength=len(self.edge_p))

    def edge_ohm_floored(self) -> np.ndarray:
        """Edge resistances, zeros raised to :data:`ZERO_OHM_FLOOR` times the median (a particle whose
        centre lies below the collector plane, or a contact disk as wide as the particle, has none)."""
        R = self.edge_ohm()
        pos = R[R > 0]
        if len(pos) == 0:
            raise SolverError("network: no edge has a resistance (sigma_bulk_S_m and contact radii > 0?)")
        return np.maximum(R, ZERO_OHM_FLOOR * float(np.median(pos)))


def layer_of_height(packing: Packing, z_m: np.ndarray) -> np.ndarray:
    """Index of the layer slab containing each height (clipped to the first / last layer)."""
    tops = np.array([lay.z_top_m for lay in packing.layers])
    return np.minimum(np.searchsorted(tops, z_m, side="right"), len(tops) - 1)


def build_network(packing: Packing, params: NetworkParameters, cbd_per_active: float,
                  active_share_of_spheres: float = 1.0, sphere_layer: np.ndarray | None = None,
                  contacts: Contacts | None = None) -> Network:
    """Edges and resistance pieces of ``packing``.

    Parameters
    ----------
    cbd_per_active : CBD volume per active-material volume (96:2:2 and the densities)
    active_share_of_spheres : active share of the sphere volume (1 when spheres are the active material,
        the active share of the solid when they carry all solids)
    sphere_layer : layer index of each sphere (default: the slab holding its centre)
    """
    x = np.asarray(packing.centres_m, dtype=float)
    r = np.asarray(packing.radii_m, dtype=float)
    n = len(r)
    c = contacts or find_contacts(packing)
    layer = layer_of_height(packing, x[:, 2]) if sphere_layer is None else np.asarray(sphere_layer, dtype=int)
    cbd = cbd_per_active * active_share_of_spheres * sphere_volumes_m3(packing, c)
    b, bcc = contact_radii(packing, c, params.cbd_rule, cbd, params.bridge_cap)
    s = params.sigma_bulk_S_m
    H = float(packing.box_m[2])
    # top electrode (virtual): spheres crossing z = H
    top = np.flatnonzero(x[:, 2] + r > H)
    top_x = np.maximum(H - x[top, 2], 0.0)
    top_a = np.sqrt(np.maximum(r[top] ** 2 - top_x ** 2, 0.0))
    nc, ncc, nt = len(c.i), len(c.cc), len(top)
    edge_p = np.concatenate([c.i, c.cc, top])
    edge_q = np.concatenate([c.j, np.full(ncc, n), np.full(nt, n + 1)])
    dx = np.vstack([c.vec_m, np.zeros((ncc + nt, 3))])
    lens_layer = layer_of_height(packing, lens_height(c, x))
    e_c = np.arange(nc)
    e_cc = nc + np.arange(ncc)
    e_t = nc + ncc + np.arange(nt)
    P = {name: k for k, name in enumerate(PARTS)}
    pieces = [  # (edge, part, layer, ohm)
        (e_c, P["bulk"], layer[c.i], side_ohm(b, r[c.i], s)),
        (e_c, P["bulk"], layer[c.j], side_ohm(b, r[c.j], s)),
        (e_c, P["interface"], lens_layer, interface_ohm(b, params.r_c_ohm_m2)),
        (e_cc, P["collector"], np.zeros(ncc, int),
         side_ohm(bcc, r[c.cc], s) + interface_ohm(bcc, params.collector_r_c)),
        (e_t, P["top"], layer[top], side_ohm(top_a, r[top], s)),
    ]
    return Network(
        n_spheres=n, edge_p=edge_p, edge_q=edge_q, edge_dx_m=dx,
        piece_edge=np.concatenate([p[0] for p in pieces]),
        piece_part=np.concatenate([np.full(len(p[0]), p[1]) for p in pieces]),
        piece_layer=np.concatenate([np.asarray(p[2], dtype=int) for p in pieces]),
        piece_ohm=np.concatenate([np.asarray(p[3], dtype=float) for p in pieces]),
        contact_layer=lens_layer, contact_a_m=c.a_m, contact_b_m=b, sphere_layer=layer,
        n_collector_contacts=ncc, collector_a_m=c.cc_a_m, collector_b_m=bcc, cbd_volume_m3=float(cbd.sum()))


def _laplacian(n_nodes: int, p: np.ndarray, q: np.ndarray, g: np.ndarray) -> scipy.sparse.csr_matrix:
    w = scipy.sparse.coo_matrix((np.concatenate([g, g]), (np.concatenate([p, q]), np.concatenate([q, p]))),
                                shape=(n_nodes, n_nodes)).tocsr()
    return (scipy.sparse.diags(np.asarray(w.sum(axis=1)).ravel()) - w).tocsr()


def _solve_spd(A: scipy.sparse.spmatrix, rhs: np.ndarray, what: str) -> np.ndarray:
    """Solve the (SPD, reduced) graph Laplacian: Jacobi-preconditioned CG to a residual of 1e-12 of the
    right-hand side (~10x faster than SuperLU on these graphs), SuperLU when CG does not converge."""
    A = A.tocsr()
    diag = A.diagonal()
    if len(rhs) == 0:
        return np.zeros(0)
    M = scipy.sparse.linalg.LinearOperator(A.shape, matvec=lambda v: v / diag, dtype=float)
    sol, info = scipy.sparse.linalg.cg(A, rhs, rtol=CG_RTOL, atol=0.0, M=M, maxiter=20 * A.shape[0] + 100)
    if info != 0:
        log.debug("network %s: CG did not converge (info %d), direct solve", what, info)
        sol = np.atleast_1d(scipy.sparse.linalg.spsolve(A.tocsc(), rhs))
    if not np.all(np.isfinite(sol)):
        raise SolverError(f"network {what}: the graph Laplacian solve gave non-finite potentials")
    res = np.linalg.norm(A @ sol - rhs) / max(np.linalg.norm(rhs), 1e-300)
    if res > 1e-8:
        raise SolverError(f"network {what}: relative residual {res:.2e} > 1e-8")
    return sol


@dataclass(frozen=True)
class ThroughPlane:
    """Through-plane solve: current per unit drop and the resistance of each (layer, part), ohm."""

    current_A: float                       # current for 1 V between collector and top electrode
    resistance_ohm: np.ndarray             # (n_layers, len(PARTS)), from the dissipation partition
    connected_spheres: int                 # spheres in the collector's cluster


def through_plane(net: Network, n_layers: int) -> ThroughPlane:
    """Collector at 1 V, top electrode at 0 V; the dissipation partition per layer and part."""
    n = net.n_spheres
    g = 1.0 / net.edge_ohm_floored()
    N = n + 2
    adj = scipy.sparse.coo_matrix((np.ones(len(g)), (net.edge_p, net.edge_q)), shape=(N, N))
    _, lab = scipy.sparse.csgraph.connected_components(adj, directed=False)
    in_cc = lab == lab[net.cc_node]
    table = np.zeros((n_layers, len(PARTS)))
    if not in_cc[net.top_node]:
        return ThroughPlane(0.0, np.full((n_layers, len(PARTS)), np.inf), int(in_cc[:n].sum()))
    L = _laplacian(N, net.edge_p, net.edge_q, g)
    unknown = np.flatnonzero(in_cc[:n])
    phi = np.zeros(N)
    phi[net.cc_node] = 1.0
    rhs = -(L[unknown][:, [net.cc_node]] @ np.array([1.0]))
    phi[unknown] = _solve_spd(L[unknown][:, unknown], np.asarray(rhs).ravel(), "through-plane")
    keep = in_cc[net.edge_p] & in_cc[net.edge_q]
    i_edge = np.where(keep, g * (phi[net.edge_p] - phi[net.edge_q]), 0.0)
    current = float(i_edge[net.edge_q == net.cc_node].sum() * -1.0)  # into the network from the collector
    diss = i_edge[net.piece_edge] ** 2 * net.piece_ohm
    np.add.at(table, (net.piece_layer, net.piece_part), diss / current ** 2)
    return ThroughPlane(current, table, int(in_cc[:n].sum()))


def lateral(net: Network, axis: int, volume_m3: float, spheres: np.ndarray | None = None) -> float:
    """Effective conductivity along lateral ``axis`` (periodic), over the particles ``spheres`` (all)."""
    n = net.n_spheres
    contact = net.edge_q < n
    p, q, dx = net.edge_p[contact], net.edge_q[contact], net.edge_dx_m[contact, axis]
    R = net.edge_ohm()[contact]
    if spheres is not None:
        mask = np.zeros(n, bool)
        mask[spheres] = True
        k = mask[p] & mask[q]
        p, q, dx, R = p[k], q[k], dx[k], R[k]
    if len(p) == 0:
        return 0.0
    g = 1.0 / np.maximum(R, ZERO_OHM_FLOOR * np.median(R))
    L = _laplacian(n, p, q, g)
    # u = -E x + psi with E = 1: edge drop u_p - u_q = psi_p - psi_q + dx; KCL at p: sum g (psi_p - psi_q + dx) = 0
    rhs = -np.bincount(p, weights=g * dx, minlength=n) + np.bincount(q, weights=g * dx, minlength=n)
    _, lab = scipy.sparse.csgraph.connected_components(L, directed=False)
    pinned = np.unique(lab, return_index=True)[1]
    free = np.setdiff1d(np.arange(n), pinned)
    psi = np.zeros(n)
    if len(free):
        psi[free] = _solve_spd(L[free][:, free], rhs[free], f"lateral {DIRECTIONS[axis]}")
    i_edge = g * (psi[p] - psi[q] + dx)
    return float((i_edge * dx).sum() / volume_m3)
