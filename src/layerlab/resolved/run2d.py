"""2D resolved half cell on a disk packing of the geometry stage (optionally with trapped air).

Same model as the 3D runs (:mod:`layerlab.resolved.model`), on a two-phase section built from
``packing2d.json`` (:mod:`layerlab.resolved.diskmesh`).  Modelling choices of the 2D section:

* Disks never touch, so there is no solid path: the unresolved carbon-binder network is a
  homogenised electronic conductor in the electrode's pores (``binder_conductivity_S_m``, per
  pore area; wet or air-filled), beside the electrolyte.  At the default 10 S/m its ohmic drop
  through a 140 um, 29.6 mg/cm2 electrode, I L tau / (sigma eps) with a 2D tortuosity of ~10, is
  of order 10-20 mV at 1C: close to the ideal network (phi_s nearly uniform), but a field, so
  the model and its solver stay those of the 3D runs.
* The disks are active material throughout (stoichiometry and c_max of the cathode): specific
  capacities (mAh/g) refer to the disks' mass; a packing with ``particle_phase: solid`` has disks
  that also carry the inactive volume, so areal capacities exceed the design's by
  (solid / active) fraction (attribute ``design_active_over_disk_volume``).
* Trapped air (:mod:`layerlab.resolved.airmap`) removes pore cells from the electrolyte and the
  reaction from the disk surface next to them.

2D sections exaggerate electrolyte transport limits: disks give tortuosity factors several
times those of the same packing in 3D (labelled on every map).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from layerlab.electrochem.electrolyte import ocp_range_V, stoichiometry_at_ocp
from layerlab.electrochem.parameters import FARADAY, ParameterSet
from layerlab.fe import MPI
from layerlab.resolved.airmap import AirMap
from layerlab.resolved.diskmesh import DiskLayout, disk_mesh, disk_of_cells
from layerlab.resolved.model import SolverSettings
from layerlab.resolved.outputs import add_section_maps
from layerlab.resolved.run import Protocol, run_resolved
from layerlab.resolved.solver import StepControl

log = logging.getLogger("layerlab.resolved")

CAVEAT = ("2D section: disks give tortuosity factors several times those of the same packing in 3D, "
          "so electrolyte polarisation is exaggerated")


@dataclass(frozen=True)
class Section2DOptions:
    """Mesh, binder and map settings of a 2D run (``config["resolved"]["section2d"]``, lengths in um there)."""

    mesh_size_m: float = 1.0e-6
    mesh_size_min_m: float = 0.25e-6
    binder_conductivity_S_m: float = 10.0
    pixel_m: float = 0.5e-6
    maps: int = 4
    points_per_circle: int = 40

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "Section2DOptions":
        return cls(mesh_size_m=section["mesh_size_um"] * 1e-6, mesh_size_min_m=section["mesh_size_min_um"] * 1e-6,
                   binder_conductivity_S_m=section["binder_conductivity_S_m"],
                   pixel_m=section["map_pixel_um"] * 1e-6, maps=section["maps"],
                   points_per_circle=section["mesh_points_per_circle"])


def theoretical_capacity_C_m2(params: ParameterSet, particle_volume_m3_m2: float, v_max_V: float,
                              v_min_V: float) -> float:
    """Charge to move the particles from the OCP of ``v_max_V`` to that of ``v_min_V`` (s = 1 below the OCP range)."""
    ocp = params.positive.ocp
    s0 = stoichiometry_at_ocp(ocp, v_max_V)
    s1 = stoichiometry_at_ocp(ocp, v_min_V) if v_min_V > ocp_range_V(ocp)[0] else 1.0
    return (s1 - s0) * params.positive.max_concentration_mol_m3 * particle_volume_m3_m2 * FARADAY


def _dry_disks(model, layout: DiskLayout) -> np.ndarray:
    """Disks with no reacting surface (every surface facet next to air or an excluded pocket)."""
    ph = model.ph
    wet_local = np.unique(disk_of_cells(ph.msh, ph.interface[:, 2], layout)) if len(ph.interface) else []
    wet = set().union(*model.comm.allgather(set(int(k) for k in wet_local)))
    return np.array(sorted(set(range(len(layout.x_m))) - wet), dtype=int)


def run_resolved2d(packing: Mapping[str, Any], packing_sha256: str, params: ParameterSet, protocol: Protocol,
                   specific_capacity_A_kg: float, density_kg_m3: float,
                   options: Section2DOptions | None = None, control: StepControl | None = None,
                   settings: SolverSettings | None = None, profile_bins: int = 30,
                   air_map: AirMap | None = None, comm: MPI.Comm = MPI.COMM_WORLD,
                   vtx_folder: str | None = None):
    """Discharge (and charge) a 2D section; returns (dataset with maps and profiles, model)."""
    from layerlab.resolved.raster import Raster

    opt = options or Section2DOptions()
    layout = DiskLayout.from_packing(packing)
    sep_m = params.separator.thickness_m
    data = disk_mesh(layout, sep_m, opt.mesh_size_m, opt.mesh_size_min_m, opt.points_per_circle, comm=comm)
    dry = air_map.dry_cells(data, layout) if air_map is not None else None
    every_s = 3600.0 / protocol.discharge_c_rate / opt.maps
    maps: list[tuple[float, np.ndarray]] = []
    raster: list[Raster] = []

    def on_output(model, t_s: float) -> None:
        if not raster:
            raster.append(Raster(model.u[0], layout.width_m, layout.height_m + sep_m, opt.pixel_m))
        maps.append((t_s, raster[0].sample()))

    ds, model = run_resolved(data, params, protocol, specific_capacity_A_kg, density_kg_m3, control, settings,
                             profile_bins, every_s, vtx_folder, conducting_pores=True,
                             binder_conductivity_S_m=opt.binder_conductivity_S_m, dry_cells=dry,
                             on_output=on_output)
    vol = ds.attrs["particle_volume_m3_m2"]
    q_th = theoretical_capacity_C_m2(params, vol, protocol.v_max_V, protocol.v_min_V)
    ds = add_section_maps(ds, maps, raster[0].x_m, raster[0].y_m, q_th, CAVEAT)
    disk_vol = layout.disk_area_m2 / layout.width_m
    dry_disks = _dry_disks(model, layout)
    design = packing.get("design", {})
    layers = design.get("layers", [])
    active = sum((ly["active_fraction_L"] + ly["active_fraction_S"]) * (ly["z_top_m"] - ly["z_bottom_m"])
                 for ly in layers)
    ds.attrs.update({
        "dimension": 2,
        "caveat": CAVEAT,
        "packing_sha256": packing_sha256,
        "air_map": "none" if air_map is None else f"case {air_map.case}",
        "disks": len(layout.x_m),
        "dry_disks": len(dry_disks),
        "dry_disk_volume_fraction": float(disk_vol[dry_disks].sum() / disk_vol.sum()) if len(dry_disks) else 0.0,
        "theoretical_capacity_C_m2": q_th,
        "discharge_capacity_fraction_of_theoretical": ds.attrs["discharge_capacity_C_m2"] / q_th,
        "binder_conductivity_S_m": opt.binder_conductivity_S_m,
        "separator_thickness_m": sep_m,
        "design_active_over_disk_volume": float(active / vol) if active > 0 else float("nan"),
        "discharge_c_rate": protocol.discharge_c_rate,
    })
    log.info("2D section: %d disks (%d dry), discharge %.2f mAh/g = %.4f of theoretical (%s)",
             len(layout.x_m), len(dry_disks), ds.attrs["discharge_capacity_mAh_g"],
             ds.attrs["discharge_capacity_fraction_of_theoretical"], ds.attrs["discharge_end_reason"])
    return ds, model
