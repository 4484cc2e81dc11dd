"""Benchmark: resolved 3D half cell against the DFN on the same design at 0.05, 0.5 and 1 C.

Issue 5, "Must show": the resolved and DFN capacities side by side at 0.5 C and 1 C, the DFN fed
the tortuosity factor measured on the resolved geometry, and the difference explained.

Designs (``--designs``; both by default):

* ``single``: the design of ``tests/verification/test_resolved_capacity.py`` (its 0.05 C agreement
  within 2 %): one 4.5 um sphere centred 3.8 um above the current collector (cut by it: a 2.4 um
  contact disk) in a 10 x 10 x 10 um electrode box under a 5 um separator slab;
* ``column``: five such spheres stacked in one overlapping column (centres 3.15 ... 31.95 um,
  spacing 7.2 um, :func:`layerlab.resolved.boxmesh.column_spheres` with overlap 0.2, so one
  connected particle that touches the current collector) in a 10 x 10 x 40 um box: a thicker
  electrode, where the electrolyte has more room to polarise (the top 3.5 um of the box hold no
  particle; the DFN spreads the same solid volume evenly over the 40 um).

Each design is meshed at every ``--h-um`` (single: 2.2, the test's, 1.1, 0.7 and 0.5 um) or
``--column-h-um`` (2.2, 1.1, 0.7 um): the resolved capacity converges from above as h falls.  On
each mesh:

1. **Tortuosity** of the resolved domain's electrolyte: the transport stage's gmsh-mesh route
   (:func:`layerlab.transport.tetmesh.mesh_study`) on the very mesh the resolved run uses (written
   to a temporary ``.msh``), pore phase, through-plane (z), over the electrode box (separator cells
   excluded).  This is the value fed to the DFN: the resolved electrolyte is exactly that P1
   discretisation of that pore space.  The voxel route on the same spheres (0.2 um voxels, pore
   phase, z) is printed beside it as a geometric cross-check (``tau_voxel``).
2. **Resolved** half cell (:class:`~layerlab.resolved.model.ResolvedModel`, MUMPS), rest state at
   4.3 V, constant-current discharge to ``--v-min`` (3.5 V, the test's: just above the OCP minimum
   3.487 V) at each C-rate; 1 C = 210 mA/g x 5 g/cm3 x particle volume (materials.yaml), as
   ``resolve3d`` and ``bench_resolved.py`` define it.
3. **DFN** (:class:`~layerlab.electrochem.dfn.DFNModel`, default discretisation) on the same design,
   as in the test: one layer of the electrode height, active fraction = mesh particle volume /
   box volume, porosity = 1 - that, radius ``R = 3 V / A`` (V, A: particle volume and reacting
   surface of the mesh, so the specific area a = 3 eps_s / R equals the mesh's A / (box volume)),
   same parameters, same separator, same current, same cut-off.  Variants:
   ``dfn_tau_resolved`` (tau from 1.), ``dfn_bruggeman`` (tau = eps^-0.5),
   ``dfn_tau_resolved_R_sphere`` (R = the sphere radius 4.5 um, hence a specific area 6 % (single)
   or 16 % (column) above the mesh's) and,
   on the finest mesh, ``dfn_tau_resolved_refined`` (DFN mesh and radial volumes x2, time
   tolerances / 4: the DFN's own discretisation error).

Prints JSON: per design and mesh the geometry (eps_s, A, R = 3V/A, volume-equivalent radius,
specific areas, the diffusion-length distribution inside the resolved particle vs the DFN sphere),
``tau_mesh``, ``tau_voxel``, ``tau_bruggeman``; per C-rate the capacities (mAh/g and C/m2), the
relative differences DFN / resolved - 1, and (finest mesh) end-of-discharge diagnostics of both:
electrolyte concentration (min, max, at the current collector), particle-surface stoichiometry
(min, mean, max over the reacting surface / over depth), mean stoichiometry and the fraction of the
equilibrium capacity used per depth bin.  Progress goes to stderr.

    .venv/bin/python bench/bench_resolved_vs_dfn.py     # ~6 min of CPU on one core (9.5 min wall, loaded)
    .venv/bin/python bench/bench_resolved_vs_dfn.py --designs single --h-um 2.2 1.1

``summary`` (per design) lists, per C-rate, the capacities and differences on every mesh, coarse to
fine; ``meshes`` holds everything, with the end-of-discharge diagnostics on the finest mesh.
Serial (one rank) by design: the meshes are small (up to ~40k unknowns).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

UM = 1e-6
SEP_M = 5e-6          # separator slab of the test design
RADIUS_M = 4.5e-6     # sphere radius of both designs
WIDTH_M = 10e-6


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def design_spheres(name: str) -> tuple[float, list[tuple[float, float, float, float]]]:
    """(electrode height, spheres (x, y, z, r)) of a named design, in m."""
    from layerlab.resolved.boxmesh import column_spheres

    if name == "single":
        return 10e-6, [(5e-6, 5e-6, 3.8e-6, RADIUS_M)]
    if name == "column":
        h = 40e-6
        return h, column_spheres(WIDTH_M, h, RADIUS_M, overlap=0.2)
    raise SystemExit(f"unknown design {name!r} (single, column)")


# ---- geometry ---------------------------------------------------------------------------------------
def diffusion_lengths(height_m: float, spheres, n_volume: int = 200_000, n_surface: int = 40_000,
                      seed: int = 0) -> dict:
    """Distance from points of the particle to its reacting surface (Monte Carlo, exact geometry).

    The reacting surface is the part of the sphere surfaces inside the electrode box and outside the
    other spheres (the flat contact with the current collector and the box walls do not react).
    Returns the volume-weighted mean, RMS, 90th percentile and maximum distance (um).
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    c = np.array([s[:3] for s in spheres])
    r = np.array([s[3] for s in spheres])
    box_hi = np.array([WIDTH_M, WIDTH_M, height_m])
    # reacting surface: Fibonacci points on each sphere, kept inside the box and outside the others
    k = np.arange(n_surface) + 0.5
    theta = np.arccos(1 - 2 * k / n_surface)
    phi = math.pi * (1 + 5 ** 0.5) * k
    unit = np.column_stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
    surf = []
    for i in range(len(r)):
        p = c[i] + r[i] * unit
        keep = np.all((p >= 0) & (p <= box_hi), axis=1)
        others = np.delete(np.arange(len(r)), i)
        if len(others):
            d = np.linalg.norm(p[:, None, :] - c[None, others, :], axis=2)
            keep &= np.all(d > r[others][None, :], axis=1)
        surf.append(p[keep])
    tree = cKDTree(np.concatenate(surf))
    pts = rng.random((n_volume, 3)) * box_hi
    inside = np.any(np.linalg.norm(pts[:, None, :] - c[None, :, :], axis=2) < r[None, :], axis=1)
    d, _ = tree.query(pts[inside])
    return {"mean_um": float(d.mean() / UM), "rms_um": float(np.sqrt((d ** 2).mean()) / UM),
            "p90_um": float(np.quantile(d, 0.9) / UM), "max_um": float(d.max() / UM)}


def sphere_lengths(R: float) -> dict:
    """The same statistics for a DFN sphere of radius R (distance to the surface, uniform volume)."""
    # P(d <= x) = 1 - (1 - x/R)^3:  mean R/4, <d^2> = R^2/10, p90 = R (1 - 0.1^(1/3))
    return {"mean_um": R / 4 / UM, "rms_um": R / math.sqrt(10) / UM, "p90_um": R * (1 - 0.1 ** (1 / 3)) / UM,
            "max_um": R / UM}


def measured_tortuosity(msh_path: str, height_m: float, spheres, voxel_m: float) -> dict:
    """tau_z of the pore phase: mesh route on the resolved mesh, voxel route on the same spheres."""
    from layerlab.fe import MPI
    from layerlab.transport.packing import Packing, SlabLayer
    from layerlab.transport.study import ELECTRODE, voxel_study
    from layerlab.transport.tetmesh import mesh_study

    t0 = time.perf_counter()
    res = mesh_study(MPI.COMM_SELF, msh_path, directions=("z",)).results[(ELECTRODE, "pore")]["z"]
    t_mesh = time.perf_counter() - t0
    packing = Packing((WIDTH_M, WIDTH_M, height_m), (False, False, False), np.array([s[:3] for s in spheres]),
                      np.array([s[3] for s in spheres]), ("L",) * len(spheres),
                      (SlabLayer("L", 0.0, height_m),))
    t0 = time.perf_counter()
    vox = voxel_study(MPI.COMM_SELF, packing, voxel_m, ("z",)).results[(ELECTRODE, "pore")]["z"]
    return {"tau_mesh": res.tortuosity_factor, "porosity_mesh": res.phase_fraction,
            "isolated_pore_fraction_mesh": res.isolated_fraction, "mesh_route_s": round(t_mesh, 2),
            "tau_voxel": vox.tortuosity_factor, "porosity_voxel": vox.phase_fraction,
            "voxel_um": voxel_m / UM, "voxel_route_s": round(time.perf_counter() - t0, 2)}


# ---- resolved ---------------------------------------------------------------------------------------
def surface_dofs(model) -> np.ndarray:
    """Stoichiometry dofs on the reacting particle surface (boundary of the solid submesh, less the
    current-collector contact and the box walls)."""
    from layerlab.fe import fem, mesh

    sub = model.ph.solid
    tdim = sub.topology.dim
    sub.topology.create_connectivity(tdim - 1, tdim)
    facets = mesh.exterior_facet_indices(sub.topology)
    mid = mesh.compute_midpoints(sub, tdim - 1, facets)
    tol = 1e-3 * UM
    on_wall = ((mid[:, 2] < tol) | (mid[:, 0] < tol) | (mid[:, 1] < tol)
               | (mid[:, 0] > WIDTH_M - tol) | (mid[:, 1] > WIDTH_M - tol))
    return fem.locate_dofs_topological(model.Vs, tdim - 1, facets[~on_wall])


def run_resolved(phases, params, c_rate: float, one_c_per_vol: float, v_min: float, s0: float,
                 edges: np.ndarray, diagnostics: bool) -> dict:
    from layerlab.resolved.model import ResolvedModel
    from layerlab.resolved.solver import Runner, StepControl

    t0 = time.perf_counter()
    model = ResolvedModel(phases, params)
    model.set_rest_state(s0)
    vol = model.particle_volume_m3_m2()
    current = c_rate * one_c_per_vol * vol
    control = StepControl(dt_initial_s=1.0 / c_rate, dt_max_s=3600.0 if c_rate < 0.2 else 300.0, dv_max_V=0.03)
    tr = Runner(model, control).run_cc(current, v_min_V=v_min)
    out = {"capacity_C_m2": tr.capacity_C_m2, "end_reason": tr.end_reason, "steps": len(tr.t_s) - 1,
           "current_A_m2": current, "seconds": round(time.perf_counter() - t0, 2)}
    if diagnostics:
        ce, _, s, _ = model.u
        prof = model.profiles(edges)
        sd = surface_dofs(model)
        s_surf = s.x.array[sd]
        out["end"] = {
            "voltage_V": tr.voltage_V[-1],
            "c_e_min_mol_m3": float(ce.x.array.min()), "c_e_max_mol_m3": float(ce.x.array.max()),
            "c_e_bin_at_collector_mol_m3": float(prof["c_e"][0]),
            "c_e_by_depth_mol_m3": [round(float(v), 2) for v in prof["c_e"]],
            "surface_stoichiometry_min": float(s_surf.min()), "surface_stoichiometry_mean": float(s_surf.mean()),
            "surface_stoichiometry_max": float(s_surf.max()),
            "stoichiometry_min": float(s.x.array.min()), "stoichiometry_max": float(s.x.array.max()),
            "mean_stoichiometry": tr.mean_stoichiometry[-1],
            "stoichiometry_by_depth": [round(float(v), 4) for v in prof["stoichiometry"]],
        }
    return out


# ---- DFN --------------------------------------------------------------------------------------------
def run_dfn(params, height_m: float, eps_s: float, radius_m: float, tau: float | None, current: float,
            v_min: float, s0: float, edges: np.ndarray, diagnostics: bool, refined: bool = False) -> dict:
    from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.electrochem.integrator import Integrator, Segment
    from layerlab.fe import MPI

    t0 = time.perf_counter()
    cell = HalfCell(params, CathodeSpec(layers=(LayerSpec("L", height_m, 1 - eps_s, {"L": eps_s}, tortuosity=tau),),
                                        radius_m={"L": radius_m}))
    disc = Discretisation().refined(2) if refined else Discretisation()
    dfn = DFNModel(cell, disc, comm=MPI.COMM_SELF)
    dfn.set_initial_state(s0)
    tr = Integrator(dfn, record_profiles=False).run(Segment("current", current, 100 * 3600.0, v_min_V=v_min))
    out = {"capacity_C_m2": tr.charge_C_m2[-1] - tr.charge_C_m2[0], "end_reason": tr.end_reason,
           "steps": tr.steps, "seconds": round(time.perf_counter() - t0, 2)}
    if diagnostics:
        p = dfn.nodal_profiles()
        inside = p["present_L"]
        z = p["z"]
        centres = 0.5 * (edges[1:] + edges[:-1])
        out["end"] = {
            "voltage_V": tr.voltage_V[-1],
            "c_e_min_mol_m3": float(p["c_e"].min()), "c_e_max_mol_m3": float(p["c_e"].max()),
            "c_e_at_collector_mol_m3": float(p["c_e"][0]),
            "c_e_by_depth_mol_m3": [round(float(v), 2) for v in np.interp(centres, z, p["c_e"])],
            "surface_stoichiometry_min": float(p["sto_surf_L"][inside].min()),
            "surface_stoichiometry_max": float(p["sto_surf_L"][inside].max()),
            "mean_stoichiometry_min": float(p["sto_avg_L"][inside].min()),
            "mean_stoichiometry_max": float(p["sto_avg_L"][inside].max()),
            "stoichiometry_by_depth": [round(float(v), 4) for v in
                                       np.interp(centres, z[inside], p["sto_avg_L"][inside])],
        }
    dfn.close()
    return out


# ---- one design on one mesh --------------------------------------------------------------------------
def study_mesh(name: str, h_m: float, rates: list[float], v_min: float, voxel_m: float, diagnostics: bool,
               workdir: str) -> dict:
    from layerlab.design import load_materials
    from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
    from layerlab.electrochem.parameters import FARADAY, load_parameters
    from layerlab.fe import MPI
    from layerlab.resolved.boxmesh import sphere_box_mesh
    from layerlab.resolved.domains import build_phases
    from layerlab.resolved.model import ResolvedModel

    height, spheres = design_spheres(name)
    t0 = time.perf_counter()
    msh_path = str(Path(workdir) / f"{name}_h{h_m / UM:g}.msh")
    data = sphere_box_mesh(WIDTH_M, height, spheres, separator_m=SEP_M, h_m=h_m, comm=MPI.COMM_SELF,
                           msh_path=msh_path)
    params = load_parameters().replace("separator", thickness_m=SEP_M)
    materials = load_materials()
    phases = build_phases(data)
    probe = ResolvedModel(phases, params)
    vol, area = probe.particle_volume_m3_m2(), probe.surface_area_m2_m2()
    unknowns = sum(f.function_space.dofmap.index_map.size_global for f in probe.u)
    eps_s = vol / height
    R = 3 * vol / area
    n_part = len(spheres)
    geometry = {
        "spheres": n_part, "sphere_radius_um": RADIUS_M / UM, "height_um": height / UM, "width_um": WIDTH_M / UM,
        "separator_um": SEP_M / UM, "h_um": h_m / UM,
        "cells": data.mesh.topology.index_map(3).size_global, "unknowns": unknowns,
        "particle_components": phases.components, "excluded_components": phases.excluded_components,
        "active_fraction_eps_s": eps_s, "porosity": 1 - eps_s,
        "specific_area_resolved_1_m": area / height,
        "dfn_radius_3V_over_A_um": R / UM,
        "specific_area_dfn_1_m": 3 * eps_s / R,
        "specific_area_dfn_R_sphere_1_m": 3 * eps_s / RADIUS_M,
        "volume_equivalent_radius_um": (3 * vol * WIDTH_M ** 2 / (4 * math.pi * n_part)) ** (1 / 3) / UM,
    }
    log(f"[{name} h={h_m / UM:g} um] {geometry['cells']} cells, {unknowns} unknowns, eps_s {eps_s:.4f}, "
        f"R=3V/A {R / UM:.3f} um ({time.perf_counter() - t0:.1f} s)")
    tau = measured_tortuosity(msh_path, height, spheres, voxel_m)
    tau_b = (1 - eps_s) ** (1 - params.positive.bruggeman_electrolyte)
    log(f"[{name} h={h_m / UM:g} um] tau mesh {tau['tau_mesh']:.4f}, voxel {tau['tau_voxel']:.4f}, "
        f"Bruggeman {tau_b:.4f}")
    s0 = stoichiometry_at_ocp(params.positive.ocp, 4.3)
    s_cut = stoichiometry_at_ocp(params.positive.ocp, v_min)
    one_c_per_vol = materials.specific_capacity_1C_A_kg * materials.density_active_kg_m3   # A/m3 of particle
    mass = materials.density_active_kg_m3 * vol                                               # kg/m2
    q_eq = (s_cut - s0) * params.positive.max_concentration_mol_m3 * vol * FARADAY
    nb = max(5, int(round(height / (5 * UM))))          # depth bins: 2 um (single), 5 um (column)
    edges = np.linspace(0.0, height, nb + 1)

    def mah_g(q: float) -> float:
        return q / 3.6 / (mass * 1e3)

    def utilisation(sto: list[float]) -> list[float]:
        return [round((v - s0) / (s_cut - s0), 4) for v in sto]

    out_rates = {}
    for c in rates:
        res = run_resolved(phases, params, c, one_c_per_vol, v_min, s0, edges, diagnostics)
        I = res["current_A_m2"]
        variants = {
            "dfn_tau_resolved": run_dfn(params, height, eps_s, R, tau["tau_mesh"], I, v_min, s0, edges, diagnostics),
            "dfn_bruggeman": run_dfn(params, height, eps_s, R, None, I, v_min, s0, edges, diagnostics),
            "dfn_tau_resolved_R_sphere": run_dfn(params, height, eps_s, RADIUS_M, tau["tau_mesh"], I, v_min, s0,
                                                 edges, False),
        }
        if diagnostics:
            variants["dfn_tau_resolved_refined"] = run_dfn(params, height, eps_s, R, tau["tau_mesh"], I, v_min, s0,
                                                           edges, False, refined=True)
        row = {"current_A_m2": I, "resolved_mAh_g": mah_g(res["capacity_C_m2"])}
        for k, v in variants.items():
            row[f"{k}_mAh_g"] = mah_g(v["capacity_C_m2"])
        for k, v in variants.items():
            row[f"rel_diff_{k}_vs_resolved"] = v["capacity_C_m2"] / res["capacity_C_m2"] - 1
        row["rel_diff_dfn_bruggeman_vs_dfn_tau_resolved"] = (variants["dfn_bruggeman"]["capacity_C_m2"]
                                                             / variants["dfn_tau_resolved"]["capacity_C_m2"] - 1)
        row["resolved_fraction_of_equilibrium_capacity"] = res["capacity_C_m2"] / q_eq
        row["resolved"] = res
        for k, v in variants.items():
            row[k] = v
        if diagnostics:
            res["end"]["utilisation_by_depth"] = utilisation(res["end"]["stoichiometry_by_depth"])
            for k in ("dfn_tau_resolved", "dfn_bruggeman"):
                variants[k]["end"]["utilisation_by_depth"] = utilisation(variants[k]["end"]["stoichiometry_by_depth"])
        log(f"[{name} h={h_m / UM:g} um] {c:g} C: resolved {row['resolved_mAh_g']:.2f}, DFN(tau) "
            f"{row['dfn_tau_resolved_mAh_g']:.2f}, DFN(Brugg.) {row['dfn_bruggeman_mAh_g']:.2f}, DFN(R sphere) "
            f"{row['dfn_tau_resolved_R_sphere_mAh_g']:.2f} mAh/g ({res['seconds']:.1f} s resolved)")
        out_rates[f"{c:g}C"] = row
    out = {"geometry": geometry, "tortuosity": {**tau, "tau_bruggeman": tau_b},
           "equilibrium_capacity_to_cutoff_mAh_g": mah_g(q_eq), "initial_stoichiometry": s0,
           "cutoff_stoichiometry_at_ocp": s_cut, "rates": out_rates}
    if diagnostics:
        out["depth_bin_edges_um"] = [round(float(e / UM), 3) for e in edges]
        out["diffusion_length_resolved_particle"] = diffusion_lengths(height, spheres)
        out["diffusion_length_dfn_sphere_R_3V_over_A"] = sphere_lengths(R)
        out["diffusion_length_dfn_sphere_R_sphere"] = sphere_lengths(RADIUS_M)
    return out


def _summary(meshes: list[dict]) -> dict:
    """Per C-rate, over the meshes (coarse to fine): capacities and relative differences."""
    keys = ("resolved_mAh_g", "dfn_tau_resolved_mAh_g", "dfn_bruggeman_mAh_g", "dfn_tau_resolved_R_sphere_mAh_g",
            "rel_diff_dfn_tau_resolved_vs_resolved", "rel_diff_dfn_bruggeman_vs_resolved",
            "rel_diff_dfn_tau_resolved_R_sphere_vs_resolved", "rel_diff_dfn_bruggeman_vs_dfn_tau_resolved")
    out = {"h_um": [m["geometry"]["h_um"] for m in meshes],
           "tau_mesh": [m["tortuosity"]["tau_mesh"] for m in meshes],
           "tau_bruggeman": [m["tortuosity"]["tau_bruggeman"] for m in meshes],
           "dfn_radius_3V_over_A_um": [m["geometry"]["dfn_radius_3V_over_A_um"] for m in meshes]}
    for rate in meshes[0]["rates"]:
        out[rate] = {k: [m["rates"][rate][k] for m in meshes] for k in keys}
    return out


def _rounded(obj, digits: int = 6):
    """Floats to ``digits`` significant figures (the JSON stays readable)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v, digits) for v in obj]
    return obj


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", nargs="+", default=["single", "column"], choices=("single", "column"))
    ap.add_argument("--h-um", type=float, nargs="+", default=[2.2, 1.1, 0.7, 0.5],
                    help="mesh sizes; full diagnostics on the finest (last after sorting)")
    ap.add_argument("--column-h-um", type=float, nargs="+", default=[2.2, 1.1, 0.7],
                    help="mesh sizes of the column design")
    ap.add_argument("--c-rates", type=float, nargs="+", default=[0.05, 0.5, 1.0])
    ap.add_argument("--v-min", type=float, default=3.5)
    ap.add_argument("--voxel-um", type=float, default=0.2)
    a = ap.parse_args()
    import logging
    logging.getLogger("layerlab").setLevel(logging.WARNING)
    t_start = time.perf_counter()
    out = {"benchmark": "resolved_vs_dfn", "c_rates": a.c_rates, "v_min_V": a.v_min, "v_max_V": 4.3,
           "load_avg_1min_start": round(os.getloadavg()[0], 2), "designs": {}}
    with tempfile.TemporaryDirectory(prefix="layerlab_rvd_") as work:
        for name in a.designs:
            hs = sorted(a.h_um if name == "single" else a.column_h_um, reverse=True)
            meshes = []
            for i, h in enumerate(hs):
                meshes.append(study_mesh(name, h * UM, a.c_rates, a.v_min, a.voxel_um * UM,
                                         diagnostics=(i == len(hs) - 1), workdir=work))
            out["designs"][name] = {"summary": _summary(meshes), "meshes": meshes}
    out["total_s"] = round(time.perf_counter() - t_start, 1)
    out["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(_rounded(out), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
