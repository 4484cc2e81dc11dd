"""One resolved run: mesh phases -> model -> (discharge, optional charge) -> dataset."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from layerlab.electrochem.electrolyte import stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, ParameterSet
from layerlab.fe import MPI
from layerlab.resolved.domains import build_phases
from layerlab.resolved.model import ResolvedModel, SolverSettings
from layerlab.resolved.solver import Runner, StepControl

log = logging.getLogger("layerlab.resolved")


@dataclass(frozen=True)
class Protocol:
    discharge_c_rate: float = 0.05
    charge_c_rate: float = 0.0
    v_min_V: float = 2.7
    v_max_V: float = 4.3


def run_resolved(mesh_data, params: ParameterSet, protocol: Protocol, specific_capacity_A_kg: float,
                 density_kg_m3: float, control: StepControl | None = None,
                 settings: SolverSettings | None = None, profile_bins: int = 30,
                 profile_every_s: float = 1800.0, vtx_folder: str | None = None,
                 conducting_pores: bool = False, binder_conductivity_S_m: float | None = None,
                 dry_cells: np.ndarray | None = None,
                 on_output: Callable[[ResolvedModel, float], None] | None = None,
                 packing: dict | None = None):
    """Run the protocol on a two-phase mesh; returns (xarray dataset, model).

    ``conducting_pores``, ``binder_conductivity_S_m``, ``dry_cells``: see
    :func:`layerlab.resolved.domains.build_phases` (the 2D runs); ``on_output(model, t_s)`` is
    called at every profile output; ``packing`` (the mesh's ``packing3d.json``): the end state of
    charge of every sphere is added (:mod:`layerlab.resolved.particles`).
    """
    from layerlab.resolved.outputs import VTXOutput, to_dataset

    phases = build_phases(mesh_data, conducting_pores=conducting_pores, dry_cells=dry_cells)
    model = ResolvedModel(phases, params, settings, binder_conductivity_S_m=binder_conductivity_S_m)
    s0 = stoichiometry_at_ocp(params.positive.ocp, protocol.v_max_V)
    model.set_rest_state(s0)
    msh = phases.msh
    zdim = phases.gdim - 1
    zmax = msh.comm.allreduce(float(msh.geometry.x[:, zdim].max(initial=0.0)), op=MPI.MAX)
    edges = np.linspace(0.0, zmax, profile_bins + 1)
    vol = model.particle_volume_m3_m2()
    one_c = specific_capacity_A_kg * density_kg_m3 * vol
    vtx = VTXOutput(model, vtx_folder) if vtx_folder else None
    def output(t_s: float) -> None:
        if vtx:
            vtx.write(t_s)
        if on_output:
            on_output(model, t_s)

    runner = Runner(model, control, edges, profile_every_s, output)
    traces, labels = [], []
    traces.append(runner.run_cc(protocol.discharge_c_rate * one_c, v_min_V=protocol.v_min_V,
                                label=f"discharge {protocol.discharge_c_rate:g}C"))
    labels.append("discharge")
    if protocol.charge_c_rate > 0:
        traces.append(runner.run_cc(-protocol.charge_c_rate * one_c, v_max_V=protocol.v_max_V,
                                    label=f"charge {protocol.charge_c_rate:g}C"))
        labels.append("charge")
    if vtx:
        vtx.close()
    li = [tr.li_electrolyte_mol_m2[-1] + tr.li_particles_mol_m2[-1] for tr in traces]
    li0 = traces[0].li_electrolyte_mol_m2[0] + traces[0].li_particles_mol_m2[0]
    q = runner.charge_C_m2
    mass = density_kg_m3 * vol
    summary = {
        "discharge_capacity_C_m2": traces[0].capacity_C_m2,
        "discharge_capacity_mAh_g": traces[0].capacity_C_m2 / 3.6 / (mass * 1e3),
        "discharge_end_reason": traces[0].end_reason,
        "one_c_A_m2": one_c,
        "active_mass_kg_m2": mass,
        "particle_volume_m3_m2": vol,
        "particle_surface_m2_m2": model.surface_area_m2_m2(),
        "initial_stoichiometry": s0,
        "particle_max_concentration_mol_m3": params.positive.max_concentration_mol_m3,
        "lithium_balance_error_rel": (li[-1] - li0 - q / FARADAY) / li0,
        "particle_components": phases.components,
        "excluded_particle_components": phases.excluded_components,
        "excluded_particle_volume_fraction": phases.excluded_volume_fraction,
        "air_filled_pore_cells": phases.dry_cells,
        "air_filled_pore_fraction": phases.dry_pore_fraction,
        "mpi_ranks": msh.comm.size,
        "cells": msh.topology.index_map(msh.topology.dim).size_global,
        "unknowns": sum(f.function_space.dofmap.index_map.size_global for f in model.u),
    }
    particles = None
    if packing is not None:
        from layerlab.resolved.particles import ParticleIntegrals
        particles = ParticleIntegrals(model, packing).state()
    ds = to_dataset(traces, labels, edges, summary, phases.gdim, particles)
    return ds, model

