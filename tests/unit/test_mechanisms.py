"""Switchable DFN mechanisms: off = today's input exactly; on = the documented change of the input."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import yaml

from layerlab.cases import parse_case
from layerlab.cfnames import DISTANCE
from layerlab.config import validate_config
from layerlab.electrochem.cell import HalfCell, cathode_from_design
from layerlab.electrochem.commands import mechanism_attrs, prepare_case
from layerlab.electrochem.mechanisms import MECHANISMS, check_names, wet_cathode
from layerlab.electrochem.parameters import load_parameters
from layerlab.errors import InputError

CASES = ("L-Dry-S_load22_por0.55_ls0.5", "S-L_load29.6_por0.45_ls0.5", "Mix-Dry-Mix_load29.6_por0.25_ls0.5",
         "L-S_load22_por0.55_ls0.3")


@pytest.fixture(scope="module")
def base_cfg() -> dict:
    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg.pop("mechanisms", None)
    return validate_config(cfg)


def _with(cfg: dict, active: list[str], **settings) -> dict:
    c = copy.deepcopy(cfg)
    c["mechanisms"]["active"] = active
    for name, s in settings.items():
        c["mechanisms"][name].update(s)
    return validate_config(c)


@pytest.mark.parametrize("case", CASES)
def test_all_off_is_the_plain_design(base_cfg: dict, case: str) -> None:
    """No mechanism active: exactly the cell built from the design and the parameter file."""
    p = prepare_case(base_cfg, case)
    expected = HalfCell(load_parameters(), cathode_from_design(parse_case(case).design(base_cfg)))
    assert p.cell == expected
    assert p.mechanisms == {} and mechanism_attrs(p.mechanisms) == {"mechanisms": "none"}
    # settings of inactive mechanisms change nothing either
    c = _with(base_cfg, [], electronic={"conductivity_S_m": 1e-3}, intermixing={"band_width_um": 30.0},
              transport={"exponent": 3.0}, nmc83={"diffusivity_m2_s": 1e-13})
    assert prepare_case(c, case).cell == expected


def test_unknown_or_repeated_mechanism_is_named(base_cfg: dict) -> None:
    c = copy.deepcopy(base_cfg)
    c["mechanisms"]["active"] = ["electronic", "gravity"]
    with pytest.raises(InputError) as err:
        validate_config(c)
    assert err.value.field == "mechanisms.active[1]"
    with pytest.raises(InputError) as err:
        prepare_case(c, CASES[0])        # the same check without the schema
    assert err.value.field == "mechanisms.active[1]"
    with pytest.raises(InputError, match=r"mechanisms.active\[1\]"):
        check_names(["wetting", "wetting"], "mechanisms.active")
    assert set(MECHANISMS) == {"transport", "electronic", "wetting", "intermixing", "contact_resistance", "nmc83"}


def test_transport_bruggeman_and_values(base_cfg: dict) -> None:
    case = "L-S_load22_por0.45_ls0.5"
    p = prepare_case(_with(base_cfg, ["transport"], transport={"exponent": 1.85, "cbd_factor": 1.5}), case)
    for lay in p.cell.cathode.layers:
        assert lay.tortuosity == pytest.approx(1.5 * 0.45 ** (1 - 1.85), rel=1e-14)
    c = _with(base_cfg, ["transport"], transport={"model": "values", "tortuosity": {"L": 2.0, "S": 3.0, "band": 4.0}})
    taus = {lay.name: lay.tortuosity for lay in prepare_case(c, case).cell.cathode.layers}
    assert taus == {"L": 2.0, "S": 3.0, "band": 4.0}
    c = _with(base_cfg, ["transport"], transport={"model": "values", "tortuosity": {"L": 2.0}})
    with pytest.raises(InputError) as err:
        prepare_case(c, case)
    assert err.value.field == "mechanisms.transport.tortuosity.S"
    c["electrochem"]["tortuosity"] = {"all": 2.0}
    with pytest.raises(InputError, match="mechanisms.transport"):
        prepare_case(_with(c, ["transport"]), case)


def test_transport_from_stage_runs(base_cfg: dict, tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    taus = {1.0: 1.7, 0.0: 2.2, 0.5: 1.9}
    for ls, tau in taus.items():
        for seed, d in ((0, -0.1), (1, 0.1)):   # mean over seeds
            ds = xr.Dataset({"tortuosity_factor": (("layer", "direction"), [[9.0, 9.0, tau + d]])},
                            coords={"layer": ["mix"], "direction": ["x", "y", "z"]})
            ds.to_netcdf(tmp_path / f"Mix_load22_por0.35_ls{ls:g}_seed{seed}.nc", engine="h5netcdf")
    c = _with(base_cfg, ["transport"], transport={"model": "stage", "runs_dir": str(tmp_path), "seeds": [0, 1]})
    p = prepare_case(c, "S-L_load29.6_por0.35_ls0.5")
    got = {lay.name: lay.tortuosity for lay in p.cell.cathode.layers}
    assert got == pytest.approx({"S": 2.2, "band": 1.9, "L": 1.7}, rel=1e-12)
    with pytest.raises(InputError) as err:
        prepare_case(c, "S-L_load29.6_por0.45_ls0.5")      # no runs at this porosity
    assert err.value.field == "mechanisms.transport.runs_dir"


def test_electronic_value_and_percolation(base_cfg: dict) -> None:
    case = "L-Dry-S_load22_por0.25_ls0.5"
    p = prepare_case(_with(base_cfg, ["electronic"], electronic={"conductivity_S_m": 0.004}), case)
    assert p.cell.params.positive.electronic_conductivity_S_m == 0.004
    assert p.cell.params.replace("positive", electronic_conductivity_S_m=0.18) == load_parameters()
    perc = {"carbon_conductivity_S_m": 100.0, "threshold_volume_fraction": 0.01, "exponent": 2.0}
    p = prepare_case(_with(base_cfg, ["electronic"], electronic={"model": "percolation", "percolation": perc}), case)
    # carbon volume fraction of a 96:2:2 electrode at 25 % porosity (densities of materials.yaml)
    phi = 0.75 * (0.02 / 1950.0) / (0.96 / 5000.0 + 0.02 / 1950.0 + 0.02 / 1780.0)
    assert p.cell.params.positive.electronic_conductivity_S_m == pytest.approx(100 * ((phi - 0.01) / 0.99) ** 2)
    perc["threshold_volume_fraction"] = 0.2
    with pytest.raises(InputError) as err:
        prepare_case(_with(base_cfg, ["electronic"], electronic={"model": "percolation", "percolation": perc}), case)
    assert err.value.field == "mechanisms.electronic.percolation.threshold_volume_fraction"


def test_parameter_mechanisms_nmc83_and_contact(base_cfg: dict) -> None:
    case = CASES[0]
    p = prepare_case(_with(base_cfg, ["nmc83", "contact_resistance"], nmc83={"diffusivity_m2_s": 2e-15},
                           contact_resistance={"resistance_ohm_m2": 2e-3}), case)
    pos = p.cell.params.positive
    assert pos.diffusivity_m2_s == 2e-15
    assert pos.exchange_current_coefficient == load_parameters().positive.exchange_current_coefficient
    assert pos.contact_resistance_ohm_m2 == 2e-3
    assert set(p.mechanisms) == {"nmc83", "contact_resistance"}
    with pytest.raises(InputError) as err:
        prepare_case(_with(base_cfg, ["nmc83"]), case)      # neither value set
    assert err.value.field == "mechanisms.nmc83"


def test_intermixing_sets_the_band_width(base_cfg: dict) -> None:
    off = prepare_case(base_cfg, "L-S_load29.6_por0.55_ls0.5").cell.cathode
    on = prepare_case(_with(base_cfg, ["intermixing"], intermixing={"band_width_um": 30.0}),
                      "L-S_load29.6_por0.55_ls0.5").cell.cathode
    band = {lay.name: lay.thickness_m for lay in on.layers}["band"]
    assert band == pytest.approx(30e-6) and {lay.name: lay.thickness_m for lay in off.layers}["band"] == pytest.approx(10e-6)
    assert on.thickness_m == pytest.approx(off.thickness_m, rel=1e-14)
    # active volume of each population is conserved (the band takes equal thickness from both layers)
    for pop in ("L", "S"):
        vol = [sum(lay.thickness_m * lay.active_fraction[pop] for lay in c.layers) for c in (on, off)]
        assert vol[0] == pytest.approx(vol[1], rel=1e-12)
    dried = prepare_case(_with(base_cfg, ["intermixing"]), "L-Dry-S_load29.6_por0.55_ls0.5").cell.cathode
    assert dried == prepare_case(base_cfg, "L-Dry-S_load29.6_por0.55_ls0.5").cell.cathode


# ---- wetting -------------------------------------------------------------------------------------
def _wetting_file(path, case: str, air, thickness_m: float = 140e-6, dim: str = DISTANCE) -> None:
    """A wetting run's air profile (``dim="depth"``: as written before :mod:`layerlab.cfnames`)."""
    xr = pytest.importorskip("xarray")
    n = len(air)
    depth = (np.arange(n) + 0.5) * thickness_m / n
    ds = xr.Dataset({"air_fraction_profile": (dim, np.asarray(air, float),
                                              {"units": "1", "long_name": "air fraction of the pore area"})},
                    coords={dim: (dim, depth, {"units": "m"})}, attrs={"case": case})
    ds.to_netcdf(path, engine="h5netcdf")


def _wet_cfg(cfg: dict, runs, **settings) -> dict:
    return _with(cfg, ["wetting"], wetting={"runs_dir": str(runs), **settings})


def test_wetting_zero_air_changes_nothing(base_cfg: dict, tmp_path) -> None:
    case = "L-S_load29.6_por0.55_ls0.5"
    _wetting_file(tmp_path / f"{case}_seed0.nc", f"{case}_seed0", np.zeros(20))
    p = prepare_case(_wet_cfg(base_cfg, tmp_path), case)
    assert p.cell == prepare_case(base_cfg, case).cell
    assert "wetting" in p.mechanisms


@pytest.mark.parametrize("case", ["L-Dry-S_load29.6_por0.55_ls0.5", "L-S_load22_por0.45_ls0.3"])
def test_wetting_constant_air_removes_that_share(base_cfg: dict, tmp_path, case: str) -> None:
    """Air fraction a everywhere: electrolyte volume, active material, electrolyte lithium and
    capacity all scale by (1 - a); thickness, solids and 1C stay."""
    a = 0.2
    for seed, val, dim in ((0, 0.1, DISTANCE), (1, 0.3, "depth")):      # mean over seeds = 0.2; seed 1 an old run
        _wetting_file(tmp_path / f"{case}_seed{seed}.nc", f"{case}_seed{seed}", np.full(20, val), dim=dim)
    dry = prepare_case(base_cfg, case).cell
    wet = prepare_case(_wet_cfg(base_cfg, tmp_path, bins=5), case).cell
    assert wet.cathode.thickness_m == pytest.approx(dry.cathode.thickness_m, rel=1e-14)
    assert [lay.name for lay in wet.cathode.layers] == [lay.name for lay in dry.cathode.layers]  # no split needed
    pore = [sum(lay.thickness_m * lay.porosity for lay in c.cathode.layers) for c in (wet, dry)]
    assert pore[0] == pytest.approx((1 - a) * pore[1], rel=1e-12)
    for pop in ("L", "S"):
        act = [sum(lay.thickness_m * lay.active_fraction[pop] for lay in c.cathode.layers) for c in (wet, dry)]
        assert act[0] == pytest.approx((1 - a) * act[1], rel=1e-12)
    inact = [sum(lay.thickness_m * lay.inactive_fraction for lay in c.cathode.layers) for c in (wet, dry)]
    assert inact[0] == pytest.approx(inact[1], rel=1e-12)
    assert wet.theoretical_capacity_C_m2(0.3, 0.9) == pytest.approx((1 - a) * dry.theoretical_capacity_C_m2(0.3, 0.9))
    assert wet.cathode.capacity_1C_A_m2 == dry.cathode.capacity_1C_A_m2
    assert wet.cathode.active_mass_kg_m2 == dry.cathode.active_mass_kg_m2


def test_wetting_profile_splits_layers_by_depth(tmp_path) -> None:
    """Air only in the top half: the bottom (L) layer is untouched, the top (S) layer loses a."""
    from layerlab.design import ElectrodeDesign
    cath = cathode_from_design(ElectrodeDesign("L-Dry-S", 29.6, 0.55, 0.5))
    wet = wet_cathode(cath, np.linspace(0, 1, 5), np.array([0.0, 0.0, 0.3, 0.1]))
    assert [lay.name for lay in wet.layers] == ["L", "S@0", "S@1"]
    assert wet.layers[0] == cath.layers[0]
    assert wet.layers[1].porosity == pytest.approx(0.55 * 0.7) and wet.layers[2].porosity == pytest.approx(0.55 * 0.9)
    assert wet.layers[1].thickness_m == pytest.approx(0.25 * cath.thickness_m)
    assert wet.thickness_m == pytest.approx(cath.thickness_m, rel=1e-14)
    # a bin edge inside a layer of a different split: L-Dry-S at L:S 3:7 -> boundary at 0.3 H
    cath = cathode_from_design(ElectrodeDesign("L-Dry-S", 29.6, 0.55, 0.3))
    wet = wet_cathode(cath, np.linspace(0, 1, 3), np.array([0.1, 0.2]))
    assert [lay.name for lay in wet.layers] == ["L", "S@0", "S@1"]
    assert [lay.thickness_m / cath.thickness_m for lay in wet.layers] == pytest.approx([0.3, 0.2, 0.5])
    assert [lay.porosity for lay in wet.layers] == pytest.approx([0.55 * 0.9, 0.55 * 0.9, 0.55 * 0.8])


def test_wetting_lithium_inventory_scales(base_cfg: dict, tmp_path) -> None:
    """The DFN's own lithium inventory (electrolyte + particles) scales by (1 - a) with constant air."""
    from layerlab.electrochem.dfn import DFNModel, Discretisation
    from layerlab.fe import MPI
    case, a = "Mix-Dry-Mix_load22_por0.45_ls0.5", 0.25
    _wetting_file(tmp_path / f"{case}_seed0.nc", f"{case}_seed0", np.full(10, a))
    disc = Discretisation(cells_separator=2, cells_cathode=6, radial_volumes=4)
    inv = []
    for cfg in (base_cfg, _wet_cfg(base_cfg, tmp_path)):
        cell = prepare_case(cfg, case).cell
        sep = dataclasses.replace(cell.params.separator, thickness_m=1e-9)   # separator electrolyte aside
        m = DFNModel(dataclasses.replace(cell, params=dataclasses.replace(cell.params, separator=sep)), disc,
                     comm=MPI.COMM_SELF)
        inv.append(m.lithium_inventory())
    assert inv[1] == pytest.approx((1 - a) * inv[0], rel=1e-6)


def test_wetting_bad_inputs_are_named(base_cfg: dict, tmp_path) -> None:
    case = "Mix-Dry-Mix_load29.6_por0.55_ls0.5"
    with pytest.raises(InputError) as err:                     # no run at all
        prepare_case(_wet_cfg(base_cfg, tmp_path), case)
    assert err.value.field == "mechanisms.wetting.runs_dir" and case in err.value.problem
    # a file under this case's name that holds another design
    _wetting_file(tmp_path / f"{case}_seed0.nc", "Mix_load22_por0.55_ls0.5_seed0", np.zeros(4))
    with pytest.raises(InputError) as err:
        prepare_case(_wet_cfg(base_cfg, tmp_path), case)
    assert err.value.field == "mechanisms.wetting.runs_dir" and "Mix_load22_por0.55_ls0.5" in err.value.problem
    # substitution: the Mix run stands for Mix-Dry-Mix (same geometry, no drying step)
    _wetting_file(tmp_path / "Mix_load29.6_por0.55_ls0.5_seed0.nc", "Mix_load29.6_por0.55_ls0.5_seed0",
                  [0.0, 0.0, 0.1, 0.4])
    p = prepare_case(_wet_cfg(base_cfg, tmp_path, bins=4, substitute={"architecture": {"Mix-Dry-Mix": "Mix"}}), case)
    assert [lay.porosity for lay in p.cell.cathode.layers] == pytest.approx([0.55, 0.55 * 0.9, 0.55 * 0.6])
    assert "Mix_load29.6_por0.55_ls0.5" in p.mechanisms["wetting"]


def test_stage_inputs_name_the_runs_a_case_reads(base_cfg: dict) -> None:
    from layerlab.electrochem.mechanisms import stage_inputs
    case = parse_case("S-L_load29.6_por0.35_ls0.5")
    assert stage_inputs(base_cfg, case) == []
    c = _with(base_cfg, ["transport", "wetting"], transport={"model": "stage"},
              wetting={"substitute": {"porosity": 0.55}})
    assert stage_inputs(c, case) == sorted([f"results/runs/transport/Mix_load22_por0.35_ls{ls}_seed0.nc"
                                            for ls in (0, 0.5, 1)]
                                           + ["results/runs/wetting/S-L_load29.6_por0.55_ls0.5_seed0.nc"])


def _network_runs(folder, por: float, sigmas: dict[float, tuple[float, float]], seeds=(0, 1)) -> None:
    """Network-stage files: per L share, sigma_z at r_c = 0 and 1e-4 (x, y differ so direction matters)."""
    xr = pytest.importorskip("xarray")
    for ls, (s0, s1) in sigmas.items():
        for seed, f in zip(seeds, (0.9, 1.1)):   # mean over seeds
            z = np.array([s0, s1]) * f
            ds = xr.Dataset({"electronic_conductivity_electrode": (("r_c", "direction"),
                                                                   np.column_stack([z * 7, z * 7, z]))},
                            coords={"r_c": [0.0, 1e-4], "direction": ["x", "y", "z"]})
            ds.to_netcdf(folder / f"Mix_load22_por{por:g}_ls{ls:g}_seed{seed}.nc", engine="h5netcdf")


def test_electronic_from_network_stage(base_cfg: dict, tmp_path) -> None:
    """model stage: L, S and the band (mixed 1:1 reference) get their reference packings' conductivity at
    r_c, mean over seeds, resistivity linear in r_c between the stage's values; nothing else changes."""
    sig = {1.0: (0.05, 0.01), 0.0: (0.05, 0.004), 0.5: (0.05, 0.006)}
    _network_runs(tmp_path, 0.35, sig)
    r_c = 4e-5
    c = _with(base_cfg, ["electronic"], electronic={"model": "stage", "runs_dir": str(tmp_path), "seeds": [0, 1],
                                                     "r_c_ohm_m2": r_c})
    p = prepare_case(c, "S-L_load29.6_por0.35_ls0.5")
    got = {lay.name: lay.electronic_conductivity_S_m for lay in p.cell.cathode.layers}

    def expect(ls: float) -> float:   # mean over the two seeds (x 0.9, x 1.1) of the interpolated value
        s0, s1 = sig[ls]
        return float(np.mean([1.0 / ((1 - r_c / 1e-4) / (s0 * f) + (r_c / 1e-4) / (s1 * f)) for f in (0.9, 1.1)]))

    assert got == pytest.approx({"S": expect(0.0), "band": expect(0.5), "L": expect(1.0)}, rel=1e-12)
    plain = prepare_case(base_cfg, "S-L_load29.6_por0.35_ls0.5")
    assert p.cell.params == plain.cell.params             # the uniform sigma of the parameter set is untouched
    assert [dataclasses.replace(lay, electronic_conductivity_S_m=None) for lay in p.cell.cathode.layers] \
        == list(plain.cell.cathode.layers)
    assert "network stage" in p.mechanisms["electronic"]
    # L-Dry-S: L next to the collector is the better conductor here
    q = prepare_case(c, "L-Dry-S_load22_por0.35_ls0.5")
    assert [lay.name for lay in q.cell.cathode.layers] == ["L", "S"]
    assert q.cell.cathode.layers[0].electronic_conductivity_S_m > q.cell.cathode.layers[1].electronic_conductivity_S_m


@pytest.mark.parametrize("settings, case, field", [
    ({"r_c_ohm_m2": 2e-4}, "S-L_load29.6_por0.35_ls0.5", "mechanisms.electronic.r_c_ohm_m2"),  # beyond the grid
    ({}, "S-L_load29.6_por0.45_ls0.5", "mechanisms.electronic.runs_dir"),                     # no runs there
])
def test_electronic_stage_bad_input(base_cfg: dict, tmp_path, settings, case, field) -> None:
    _network_runs(tmp_path, 0.35, {1.0: (0.05, 0.01), 0.0: (0.05, 0.004), 0.5: (0.05, 0.006)})
    c = _with(base_cfg, ["electronic"], electronic={"model": "stage", "runs_dir": str(tmp_path), "seeds": [0, 1],
                                                     **settings})
    with pytest.raises(InputError) as err:
        prepare_case(c, case)
    assert err.value.field == field


def test_electronic_stage_negative_rc_is_refused_by_the_schema(base_cfg: dict) -> None:
    with pytest.raises(InputError) as err:
        _with(base_cfg, ["electronic"], electronic={"model": "stage", "r_c_ohm_m2": -1e-5})
    assert "mechanisms.electronic.r_c_ohm_m2" in err.value.field


def test_stage_inputs_name_the_network_runs(base_cfg: dict) -> None:
    from layerlab.electrochem.mechanisms import stage_inputs
    c = _with(base_cfg, ["electronic"], electronic={"model": "stage"})
    assert stage_inputs(c, parse_case("S-L_load29.6_por0.35_ls0.5")) == sorted(
        f"results/runs/network/Mix_load22_por0.35_ls{ls}_seed0.nc" for ls in (0, 0.5, 1))
    assert stage_inputs(c, parse_case("Mix_load22_por0.25_ls0.7")) == [
        "results/runs/network/Mix_load22_por0.25_ls0.7_seed0.nc"]
    assert stage_inputs(_with(base_cfg, ["electronic"]), parse_case("S-L_load29.6_por0.35_ls0.5")) == []
