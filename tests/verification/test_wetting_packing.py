"""A small real packing (geometry-stage packer and mesher) fills to breakthrough with bounded phi.

20 um wide, a 30 um electrode of one L and seven S disks (L-Dry-S, porosity 0.65, 1 um gaps),
meshed at ``h_max = eps = 1 um``.  Asserts what failed before the fixes of issue 3 (continued):

- the electrolyte is taken up at the inlet flux ``U x width`` until breakthrough (within 6 %; with a
  mesh four times coarser than the interface the front pinned under the inlet and the inflow vanished:
  10 % of the expected uptake after 0.6 s);
- the phase field stays within [-1.2, 1.2] although menisci snap through 1 um throats;
- the outlet gets wet (1 % VOF breakthrough) after the reservoir gap has filled and no later than
  the piston estimate ``(gap + porosity x thickness + outlet) / U`` plus 10 %; the electrode ends
  more than 90 % saturated.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from layerlab.cases import parse_case
from layerlab.config import load_config
from layerlab.fe import MPI
from layerlab.geometry.mesh2d import Mesh2DOptions, write_mesh2d
from layerlab.geometry.packing2d import Packing2DOptions, pack2d
from layerlab.io import write_json_atomic
from layerlab.wetting.case import run_case

U = 1e-4


@pytest.mark.slow
def test_small_packing_fills_to_breakthrough_with_bounded_phi(mpi_tmp_path, repo_root, record_property) -> None:
    comm = MPI.COMM_WORLD
    folder = mpi_tmp_path / "geom"
    case = parse_case("L-Dry-S_load5_por0.65_ls0.5_seed0")
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        config = load_config(repo_root / "config" / "config.yaml")
        options = Packing2DOptions(width_um=20.0, outlet_um=3.0, reservoir_um=3.0, min_gap_um=1.0,
                                   max_radius_adjust=0.3)
        packing = pack2d(case.design(config), options, case.seed, case=case.name)
        assert set(packing["disk_population"]) == {"L", "S"}
        write_json_atomic(folder / "packing2d.json", packing)
        write_mesh2d(folder / "packing2d.json", folder / "mesh2d.msh",
                     Mesh2DOptions(h_max_um=1.0, h_min_um=0.25, cells_across_throat=2, elements_per_circle=24))
    comm.Barrier()
    packing = json.loads((folder / "packing2d.json").read_text())
    width = packing["width_m"]
    yb, yt = packing["electrode_y_range_m"]
    height = packing["domain_height_m"]
    section = {"interface_width_m": 1e-6, "end_time_s": 0.4, "dt_max_s": 1e-3, "record_interval_s": 2e-3,
               "checkpoint_interval_s": 1.0, "steady_window_s": 0.02, "steady_tol": 1e-3,
               "initial_front_below_inlet_m": 1e-6}
    out = mpi_tmp_path / "runs" / "case.nc"
    metrics = run_case(section, case.name, folder / "mesh2d.msh", folder / "packing2d.json", out)
    electrode_area = (yt - yb) * width
    pore_area_electrode = None
    if comm.rank == 0:
        ds = xr.open_dataset(out, engine="h5netcdf")
        pore_area_electrode = float(ds.attrs["electrode_pore_area_m2"])
        phi = ds.phi_final.values
        assert np.all(np.isfinite(phi)) and np.abs(phi).max() < 1.2, np.abs(phi).max()
        t, area = ds.filling_time.values, ds.electrolyte_area.values
        tb = metrics["breakthrough_time"]
        assert np.isfinite(tb)
        sel = (t > 0.03) & (t < 0.9 * tb)     # after the initial profile has relaxed to the inlet value
        rate = np.polyfit(t[sel], area[sel], 1)[0]
        # 1-5 % above U x width while menisci snap through throats (measured; the regular cylinder
        # array keeps 1e-4): outflowing air slightly below phi = -1 counts as electrolyte gained
        record_property("inflow_rate_relative_error", rate / (U * width) - 1)
        assert rate == pytest.approx(U * width, rel=0.06)
        porosity = pore_area_electrode / electrode_area
        gap = height - yt - 1e-6
        piston = (gap + porosity * (yt - yb) + yb) / U
        record_property("breakthrough_over_piston", tb / piston)
        assert gap / U < tb < 1.1 * piston, (tb, piston)
        assert metrics["saturation_final"] > 0.9
    comm.Barrier()
