"""The particle network: series laws, film limit, scale laws, carbon-binder rules, bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.errors import InputError
from layerlab.network.contacts import _gap, contact_radii, find_contacts, sphere_volumes_m3
from layerlab.network.laws import NetworkParameters, side_ohm
from layerlab.network.study import network_study
from layerlab.transport.packing import Packing, SlabLayer
from layerlab.transport.synthetic import overlapping_spheres

R_S, R_L = 2.25e-6, 5.65e-6


def _chain(n: int, r: float, indent: float, cc_indent: float) -> Packing:
    """n equal spheres stacked along z (walled box), neighbours indenting by ``indent * r``."""
    s = 2.0 * r - indent * r
    z = r - cc_indent * r + s * np.arange(n)
    H = float(z[-1] + 0.5 * r)
    box = (4.0 * r, 4.0 * r, H)
    centres = np.column_stack([np.full(n, 2.0 * r), np.full(n, 2.0 * r), z])
    return Packing(box, (False, False, False), centres, np.full(n, r), ("S",) * n, (SlabLayer("c", 0.0, H),))


@pytest.mark.parametrize("r_c", [0.0, 3e-4])
def test_chain_of_particles_is_the_series_of_its_contacts(r_c):
    """N particles in a chain: the graph's collector-to-top resistance (top electrode excluded) equals
    the sum of the collector contact and N - 1 particle contacts, each from the contact law (1e-9)."""
    n, r, sigma = 7, R_S, 0.05
    p = _chain(n, r, indent=0.2, cc_indent=0.1)
    prm = NetworkParameters(sigma_bulk_S_m=sigma, r_c_ohm_m2=r_c, cbd_rule="none")
    st = network_study(p, prm, 0.0, directions=("z",))
    a = math.sqrt(r * r - (r - 0.1 * r) ** 2)          # lens: plane halfway, x = r - indent r / 2
    a_cc = math.sqrt(r * r - (0.9 * r) ** 2)
    side = lambda b: float(side_ohm(np.array([b]), np.array([r]), sigma)[0])  # noqa: E731
    R_contact = 2.0 * side(a) + r_c / (math.pi * a * a)
    R_cc = side(a_cc) + r_c / (math.pi * a_cc * a_cc)
    area = p.box_m[0] * p.box_m[1]
    R_graph = sum(v for k, v in st.resistance_ohm_m2["electrode"].items() if k != "top") / area
    assert R_graph == pytest.approx(R_cc + (n - 1) * R_contact, rel=1e-9)
    assert st.conductivity_S_m["electrode"]["z"] == pytest.approx(p.box_m[2] / (area * R_graph), rel=1e-12)
    assert st.n_contacts["electrode"] == n - 1


def test_film_dominated_limit():
    """r_c dominant (interface 1e4 x the NMC sides): a two-particle contact's resistance -> r_c / (pi a^2).

    Tolerance 1e-3: the two particle sides are 1e-4 of the interface term here.
    """
    r, sigma, r_c = R_S, 1.0, 1.0
    p = _chain(2, r, indent=0.3, cc_indent=0.1)
    prm = NetworkParameters(sigma_bulk_S_m=sigma, r_c_ohm_m2=r_c, collector_r_c_ohm_m2=0.0, cbd_rule="none")
    st = network_study(p, prm, 0.0, directions=("z",))
    a = math.sqrt(r * r - (r - 0.15 * r) ** 2)
    area = p.box_m[0] * p.box_m[1]
    assert st.resistance_ohm_m2["electrode"]["interface"] / area == pytest.approx(r_c / (math.pi * a * a), rel=1e-9)
    total = sum(v for k, v in st.resistance_ohm_m2["electrode"].items() if k not in ("top", "collector")) / area
    assert total == pytest.approx(r_c / (math.pi * a * a), rel=1e-3)


def _scaled(p: Packing, f: float) -> Packing:
    lay = tuple(SlabLayer(x.name, x.z_bottom_m * f, x.z_top_m * f) for x in p.layers)
    return Packing(tuple(b * f for b in p.box_m), p.periodic, p.centres_m * f, p.radii_m * f, p.population, lay)


@pytest.mark.parametrize("rule", ["none", "neck", "film"])
def test_scale_laws(rule):
    """Geometrically similar packings (the S packing scaled by d_L / d_S = 2.51):
    r_c = 0: sigma independent of d (1e-9, exact similarity; constriction is scale invariant);
    r_c dominant (1 ohm m2 against sigma = 0.1 S/m: interface >= 300 x the NMC sides): sigma
    proportional to d within 3 % (the NMC part, which does not scale, is < 0.5 %)."""
    p = overlapping_spheres((30e-6, 30e-6, 30e-6), 0.45, {"S": R_S}, {"S": 1.0}, seed=3)
    f = R_L / R_S
    q = _scaled(p, f)
    for r_c, expected in ((0.0, 1.0), (1.0, f)):
        prm = NetworkParameters(sigma_bulk_S_m=0.1, r_c_ohm_m2=r_c, cbd_rule=rule)
        sp = network_study(p, prm, 0.05).conductivity_S_m["electrode"]
        sq = network_study(q, prm, 0.05).conductivity_S_m["electrode"]
        for d in ("x", "y", "z"):
            tol = 1e-9 if r_c == 0.0 else 0.03
            assert sq[d] / sp[d] == pytest.approx(expected, rel=tol), (rule, r_c, d)


def test_fixed_resistance_per_area_is_not_constriction():
    """Sanity of the two regimes: with the NMC alone, sigma does not depend on r_c (= 0) and falls when
    r_c is added; the electrode and lateral values stay positive and finite."""
    p = overlapping_spheres((30e-6, 30e-6, 30e-6), 0.45, {"S": R_S}, {"S": 1.0}, seed=4)
    s0 = network_study(p, NetworkParameters(r_c_ohm_m2=0.0), 0.05).conductivity_S_m["electrode"]
    s1 = network_study(p, NetworkParameters(r_c_ohm_m2=1e-4), 0.05).conductivity_S_m["electrode"]
    for d in "xyz":
        assert 0.0 < s1[d] < s0[d] < 0.1


def _trim(p: Packing, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    keep = (p.centres_m[:, 2] >= lo) & (p.centres_m[:, 2] < hi)
    return p.centres_m[keep], p.radii_m[keep]


@pytest.mark.parametrize("seed", [0, 1])
def test_layered_stack_obeys_series_law_of_its_layers(seed):
    """An S layer (30 um) under an L layer (45 um), packed separately (centres inside each slab) and then
    stacked: the stack's through-plane conductivity is within 5 % of the series law of the two layers'
    separate values, and each layer's share of the stack (dissipation partition) within 10 % of its
    separate value.

    Tolerances: the junction replaces the separate runs' top electrode and collector zones (about one
    particle diameter each) by a random contact zone; measured departures 0.4-2.8 % (total), <= 7 %
    (per layer) over these seeds and r_c = 0 / 1e-4 ohm m2.  A missing layer, a double-counted piece or
    a parallel instead of a series combination misses by > 20 %.
    """
    ta, tb, lx = 30e-6, 45e-6, 40e-6
    A = overlapping_spheres((lx, lx, ta), 0.4, {"S": R_S}, {"S": 1.0}, seed=seed)
    B = overlapping_spheres((lx, lx, tb), 0.4, {"L": R_L}, {"L": 1.0}, seed=seed + 10)
    ca, ra = _trim(A, -1.0, ta)
    cb, rb = _trim(B, 0.0, 1.0)
    A2 = Packing((lx, lx, ta), (True, True, False), ca, ra, ("S",) * len(ra), (SlabLayer("S", 0.0, ta),))
    B2 = Packing((lx, lx, tb), (True, True, False), cb, rb, ("L",) * len(rb), (SlabLayer("L", 0.0, tb),))
    stack = Packing((lx, lx, ta + tb), (True, True, False), np.vstack([ca, cb + [0.0, 0.0, ta]]),
                    np.concatenate([ra, rb]), ("S",) * len(ra) + ("L",) * len(rb),
                    (SlabLayer("S", 0.0, ta), SlabLayer("L", ta, ta + tb)))
    layer = np.concatenate([np.zeros(len(ra), int), np.ones(len(rb), int)])
    for r_c in (0.0, 1e-4):
        prm = NetworkParameters(sigma_bulk_S_m=0.1, r_c_ohm_m2=r_c, cbd_rule="none")
        sa = network_study(A2, prm, 0.05, directions=("z",)).conductivity_S_m["electrode"]["z"]
        sb = network_study(B2, prm, 0.05, directions=("z",)).conductivity_S_m["electrode"]["z"]
        st = network_study(stack, prm, 0.05, sphere_layer=layer, directions=("z",)).conductivity_S_m
        series = (ta + tb) / (ta / sa + tb / sb)
        assert st["electrode"]["z"] == pytest.approx(series, rel=0.05)
        assert st["S"]["z"] == pytest.approx(sa, rel=0.10)
        assert st["L"]["z"] == pytest.approx(sb, rel=0.10)
        # the partition is exact: layer resistances add up to the electrode's
        assert (ta + tb) / st["electrode"]["z"] == pytest.approx(ta / st["S"]["z"] + tb / st["L"]["z"], rel=1e-9)


def test_neck_rule_places_the_cbd_volume():
    """Neck rule: the bridges' gap volumes (quadrature of the gap between the surfaces, independent of
    the analytic formula used to place them) add up to the CBD volume (0.5 %, quadrature error) where a bridge is not capped at the
    particle radius, and
    every bridge is at least the lens; film rule: the gap at the bridge radius is the two coats."""
    p = overlapping_spheres((30e-6, 30e-6, 30e-6), 0.45, {"S": R_S}, {"S": 1.0}, seed=5)
    c = find_contacts(p)
    cbd = 0.05 * sphere_volumes_m3(p, c)
    b, bcc = contact_radii(p, c, "neck", cbd, bridge_cap=0.99)
    r = p.radii_m
    assert np.all(b >= c.a_m * (1 - 1e-12)) and np.all(bcc >= c.cc_a_m * (1 - 1e-12))
    share = cbd / np.bincount(np.concatenate([c.i, c.j, c.cc]), minlength=len(r)).clip(1)
    target = np.concatenate([share[c.i] + share[c.j], share[c.cc]])
    b_all = np.concatenate([b, bcc])
    cap = 0.99 * np.concatenate([np.minimum(r[c.i], r[c.j]), r[c.cc]])
    placed = []
    for a, bb, d, r1, r2 in zip(np.concatenate([c.a_m, c.cc_a_m]), b_all,
                                np.concatenate([c.dist_m, c.cc_x_m]), np.concatenate([r[c.i], r[c.cc]]),
                                np.concatenate([r[c.j], np.full(len(c.cc), np.inf)])):
        rho = np.linspace(a, bb, 2001)
        g = _gap(rho, d, np.full_like(rho, r1), np.full_like(rho, r2))
        placed.append(np.trapezoid(2.0 * np.pi * rho * g, rho))
    placed = np.array(placed)
    free = ~np.isclose(b_all, cap)
    assert free.sum() > 0.8 * len(free)          # most bridges hold their whole share
    assert placed[free] == pytest.approx(target[free], rel=5e-3)
    bf, _ = contact_radii(p, c, "film", cbd, bridge_cap=0.99)
    assert np.all(bf >= c.a_m * (1 - 1e-12))


@pytest.mark.parametrize("kw, field", [
    ({"r_c_ohm_m2": -1.0}, "network.parameters.r_c_ohm_m2"),
    ({"r_c_ohm_m2": math.nan}, "network.parameters.r_c_ohm_m2"),
    ({"r_c_ohm_m2": math.inf}, "network.parameters.r_c_ohm_m2"),
    ({"cbd_rule": "glue"}, "network.parameters.cbd_rule"),
    ({"sigma_bulk_S_m": 0.0}, "network.parameters.sigma_bulk_S_m"),
])
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(InputError) as err:
        NetworkParameters(**kw)
    assert err.value.field == field
    assert "\n" not in str(err.value)
