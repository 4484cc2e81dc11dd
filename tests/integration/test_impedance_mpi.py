"""Impedance on 2 MPI ranks equals 1 rank; the ``impedance`` command end to end."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from layerlab.electrochem.cell import CathodeSpec, HalfCell, LayerSpec
from layerlab.electrochem.dfn import DFNModel, Discretisation
from layerlab.electrochem.impedance import LinearisedDFN
from layerlab.electrochem.parameters import load_parameters
from layerlab.fe import MPI

FREQS = np.logspace(-6, 8, 15)
CASE = "L-Dry-S_load22_por0.45_ls0.5"


def _spectrum(comm: MPI.Comm) -> np.ndarray:
    layers = (LayerSpec("L", 40e-6, 0.35, {"L": 0.5}, inactive_fraction=0.1),
              LayerSpec("S", 30e-6, 0.45, {"S": 0.45}, inactive_fraction=0.1))
    cell = HalfCell(load_parameters(None), CathodeSpec(layers, {"L": 5.65e-6, "S": 2.25e-6}))
    model = DFNModel(cell, Discretisation(cells_separator=6, cells_cathode=16, radial_volumes=8), comm=comm)
    return LinearisedDFN(model, 0.6, 0.2, 0.2).spectrum(FREQS)


@pytest.mark.mpi
def test_spectrum_independent_of_rank_count() -> None:
    Z_world = _spectrum(MPI.COMM_WORLD)
    Z_self = _spectrum(MPI.COMM_SELF)
    assert np.all(np.abs(Z_world - Z_self) <= 1e-8 * np.abs(Z_self))


def _config(tmp_path) -> str:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["impedance"] = {"frequency_min_hz": 1e-4, "frequency_max_hz": 1e6, "points_per_decade": 4,
                        "radial_volumes": 8, "state_of_charge": 0.4}
    path = tmp_path / "cfg.yaml"
    if MPI.COMM_WORLD.rank == 0:
        path.write_text(yaml.safe_dump(cfg))
    MPI.COMM_WORLD.barrier()
    return str(path)


def _check_and_compare(out, cfg_path: str) -> None:
    xr = pytest.importorskip("xarray")
    from layerlab.config import load_config
    from layerlab.electrochem.commands import prepare
    from layerlab.electrochem.impedance import rest_stoichiometry
    cfg = load_config(cfg_path)
    cell, disc, test = prepare(cfg, CASE)
    model = DFNModel(cell, Discretisation(**{**disc.__dict__, "radial_volumes": 8}), comm=MPI.COMM_SELF)
    sto = rest_stoichiometry(model, 0.4, test.v_max_V)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs and "long_name" in var.attrs, name
        assert ds.attrs["case"] == CASE and ds.attrs["state_of_charge"] == 0.4
        assert ds.attrs["stoichiometry"] == pytest.approx(sto, rel=1e-14)
        f = ds["frequency"].values
        assert len(f) == 41 and ds["frequency"].attrs["units"] == "Hz"
        Z = ds["impedance_real"].values + 1j * ds["impedance_imag"].values
        Z_ref = LinearisedDFN(model, sto).spectrum(f)
        assert np.all(np.abs(Z - Z_ref) <= 1e-8 * np.abs(Z_ref))
        assert np.all(Z.real > 0) and np.all(Z.imag < 0)       # capacitive everywhere
        sigma = float(ds["warburg_coefficient"])
        D = float(ds["apparent_diffusivity"])
        assert (np.isnan(sigma) and np.isnan(D)) or (sigma > 0 and D > 0)


def test_impedance_command_writes_the_spectrum(tmp_path) -> None:
    from layerlab.cli import main
    cfg_path = _config(tmp_path)
    out = tmp_path / f"{CASE}.nc"
    assert main(["impedance", "--config", cfg_path, "--case", CASE, "--out", str(out)]) == 0
    _check_and_compare(out, cfg_path)


@pytest.mark.mpi
def test_impedance_command_on_two_ranks_matches_one_rank(mpi_tmp_path) -> None:
    from layerlab.cli import main
    cfg_path = _config(mpi_tmp_path)
    out = mpi_tmp_path / f"{CASE}.nc"
    assert main(["impedance", "--config", cfg_path, "--case", CASE, "--out", str(out)]) == 0
    if MPI.COMM_WORLD.rank == 0:
        _check_and_compare(out, cfg_path)
    MPI.COMM_WORLD.barrier()
