"""PyBaMM parameter sets by name and BPX files (``electrochem.parameters``): the translated
functions equal PyBaMM's own evaluation of them, in NumPy and assembled as UFL; bad input is one
line naming what and why, exit 2, nothing written."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

pybamm = pytest.importorskip("pybamm")

from layerlab.cli import EXIT_INPUT_ERROR, main  # noqa: E402
from layerlab.electrochem.pybamm_import import load_parameter_source, values_for  # noqa: E402
from layerlab.electrochem.ufl_from_pybamm import TranslatedFunction, translate  # noqa: E402
from layerlab.errors import InputError  # noqa: E402
from layerlab.settings import job_files, job_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
CASE = "L-Dry-S_load29.6_por0.55_ls0.5"
SETS = ("Marquis2019", "Mohtat2020", "Prada2013", "Ecker2015")   # Ecker2015: D(sto) in both electrodes
_ARGS = {"sto": "Stoichiometry", "T": "Temperature [K]", "c_e": "Electrolyte concentration [mol.m-3]",
         "c_s_surf": "Particle surface concentration [mol.m-3]",
         "c_s_max": "Maximum particle surface concentration [mol.m-3]"}


def _pybamm_value(pv, key: str, values: dict[str, float]) -> float:
    """PyBaMM's own evaluation of a parameter function at ``values`` (by its input names)."""
    f = pybamm.FunctionParameter(key, {_ARGS[a]: pybamm.Scalar(v) for a, v in values.items()})
    return float(np.ravel(pv.process_symbol(f).evaluate())[0])


def _points(ps, sec: str):
    el = getattr(ps, sec)
    cm = el.max_concentration_mol_m3
    T = ps.temperature_K
    for s in (0.05, 0.3, 0.55, 0.8, 0.95):
        yield "OCP [V]", el.ocp, {"sto": s}
        if callable(el.diffusivity_m2_s):
            yield "particle diffusivity [m2.s-1]", el.diffusivity_m2_s, {"sto": s, "T": T}
        yield "exchange-current density [A.m-2]", el.exchange_current_coefficient, \
            {"c_e": 800.0 + 600 * s, "c_s_surf": s * cm, "c_s_max": cm, "T": T}


@pytest.mark.parametrize("name", SETS)
def test_translated_functions_equal_pybamm(name: str) -> None:
    """Every translated function (OCPs, exchange currents, electrolyte properties) equals PyBaMM's
    evaluation of the set's own function to 1e-12 (relative)."""
    pv, label = values_for(f"pybamm:{name}")
    from layerlab.electrochem.pybamm_import import parameters_from_values
    ps = parameters_from_values(pv, label, negative=True)
    checked = 0
    for sec, pre in (("positive", "Positive "), ("negative", "Negative ")):
        for key, f, vals in _points(ps, sec):
            full_key = pre + ("" if key.startswith("particle") else "electrode ") + key
            want = _pybamm_value(pv, full_key, {k: v for k, v in vals.items() if k in f.args})
            assert float(f(vals)) == pytest.approx(want, rel=1e-12, abs=1e-14), (sec, key, vals)
            checked += 1
    for key, attr in (("Electrolyte conductivity [S.m-1]", "conductivity"),
                      ("Electrolyte diffusivity [m2.s-1]", "diffusivity")):
        f = getattr(ps.electrolyte, attr)
        for c in (200.0, 1000.0, 2500.0):
            vals = {"c_e": c, "T": ps.temperature_K}
            got = float(f(vals)) if isinstance(f, TranslatedFunction) else f
            want = _pybamm_value(pv, key, vals) if callable(pv[key]) else float(pv[key])
            assert got == pytest.approx(want, rel=1e-12), (key, c)
            checked += 1
    n_D = sum(callable(getattr(ps, sec).diffusivity_m2_s) for sec in ("positive", "negative"))
    assert checked == 26 + 5 * n_D and (n_D == 2) == (name == "Ecker2015")


def test_ufl_form_equals_numpy() -> None:
    """The UFL expression of a translated function, assembled on a mesh at a constant argument,
    equals its NumPy value (Marquis2019 LCO OCP: tanh, exp, powers; a linear interpolant)."""
    from layerlab.fe import MPI, fem, mesh, ufl
    msh = mesh.create_unit_interval(MPI.COMM_SELF, 2)
    ps = load_parameter_source("pybamm:Marquis2019")
    x = pybamm.Variable("sto")
    table = translate(pybamm.Interpolant(np.array([0.0, 0.3, 0.7, 1.0]), np.array([4.0, 3.9, 3.7, 3.0]), x,
                                         interpolator="linear"), ("sto",), "table")
    for f in (ps.positive.ocp, table):
        for s in (-0.1, 0.2, 0.5, 0.9, 1.1):   # outside [0, 1]: linear extrapolation, as PyBaMM
            c = fem.Constant(msh, s)
            got = fem.assemble_scalar(fem.form(f({"sto": c}) * ufl.dx(domain=msh)))
            assert got == pytest.approx(float(f({"sto": s})), rel=1e-12)
    for s in (-0.1, 0.5, 1.1):   # PyBaMM's own linear interpolant at the same points
        want = pybamm.Interpolant(np.array([0.0, 0.3, 0.7, 1.0]), np.array([4.0, 3.9, 3.7, 3.0]),
                                  pybamm.Scalar(s), interpolator="linear").evaluate()
        assert float(table({"sto": s})) == pytest.approx(float(np.ravel(want)[0]), rel=1e-12)


# ---- bad input ---------------------------------------------------------------------------------
def _exit_2(capsys, tmp_path: Path, parameters: str) -> str:
    """The dfn command with ``electrochem.parameters`` set: exit 2, one line, nothing written."""
    cfg = copy.deepcopy(CONFIG)
    cfg["electrochem"]["parameters"] = parameters
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out" / "result.nc"
    out.parent.mkdir()
    rc = main(["dfn", "--config", str(tmp_path / "config.yaml"), "--case", CASE, "--out", str(out)])
    logging.getLogger().handlers.clear()
    err = [ln for ln in capsys.readouterr().err.strip().splitlines() if ln.startswith("layerlab dfn: error: ")]
    assert rc == EXIT_INPUT_ERROR and len(err) == 1, err
    assert not any(out.parent.iterdir())
    return err[0]


@pytest.mark.parametrize("value, expect", [
    ("pybamm:NoSuchSet2030", "unknown PyBaMM parameter set 'NoSuchSet2030'"),
    ("pybamm:Sulzer2019", "lacks what a half cell needs: 'Positive electrode OCP [V]'"),
    ("pybamm:Ai2020", "cannot translate Positive electrode OCP [V]: 1D Interpolant with interpolator 'cubic'"),
    ("pybamm:ORegan2022", "'Positive electrode conductivity [S.m-1]' is a function; layerlab takes a constant"),
])
def test_bad_pybamm_sets_exit_2(capsys, tmp_path: Path, value: str, expect: str) -> None:
    line = _exit_2(capsys, tmp_path, value)
    assert "electrochem.parameters" in line and expect in line, line


def test_bpx_failing_its_schema_exits_2(capsys, tmp_path: Path) -> None:
    doc = _bpx()
    del doc["Parameterisation"]["Positive electrode"]["OCP [V]"]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    line = _exit_2(capsys, tmp_path, str(tmp_path / "bad.json"))
    assert "fails the BPX schema" in line and "OCP" in line, line


def test_settings_carry_the_set_name_not_a_file() -> None:
    """``pybamm:<SetName>`` and the PyBaMM version are part of the dfn job's settings (a changed
    name or PyBaMM reruns the job); the name declares no input file."""
    from layerlab.config import validate_config
    cfg = copy.deepcopy(CONFIG)
    a, b = copy.deepcopy(cfg), copy.deepcopy(cfg)
    a["electrochem"]["parameters"], b["electrochem"]["parameters"] = "pybamm:Marquis2019", "pybamm:Mohtat2020"
    sa, sb = (job_settings(validate_config(c), "dfn", {"case": CASE}) for c in (a, b))
    assert "pybamm:Marquis2019" in sa and sa != sb
    assert json.loads(sa)["pybamm_version"] == pybamm.__version__   # a PyBaMM upgrade reruns the job too
    assert "pybamm_version" not in job_settings(validate_config(cfg), "dfn", {"case": CASE})
    assert not any("pybamm" in f for f in job_files(validate_config(a), "dfn", {"case": CASE}))


# ---- BPX ---------------------------------------------------------------------------------------
def _bpx() -> dict:
    """A small BPX 0.4 document written here (values of PyBaMM's Marquis2019 LCO/graphite cell,
    Marquis et al. 2019; OCPs as BPX expressions, the electrolyte conductivity as a table)."""
    def electrode(thickness, eps, r, cmax, smin, smax, D, ocp, k, sigma):
        return {"Thickness [m]": thickness, "Porosity": eps, "Transport efficiency": eps ** 1.5,
                "Conductivity [S.m-1]": sigma, "Minimum stoichiometry": smin, "Maximum stoichiometry": smax,
                "Maximum concentration [mol.m-3]": cmax, "Particle radius [m]": r,
                "Surface area per unit volume [m-1]": 3 * (1 - eps - 0.1) / r, "Diffusivity [m2.s-1]": D,
                "OCP [V]": ocp, "Entropic change coefficient [V.K-1]": 0.0,
                "Reaction rate constant [mol.m-2.s-1]": k}
    return {"Header": {"BPX": 0.4, "Title": "layerlab test cell", "Model": "DFN"},
            "Parameterisation": {
                "Cell": {"Ambient temperature [K]": 298.15, "Initial temperature [K]": 298.15,
                         "Reference temperature [K]": 298.15, "Electrode area [m2]": 0.1,
                         "Number of electrode pairs connected in parallel to make a cell": 1,
                         "Lower voltage cut-off [V]": 3.0, "Upper voltage cut-off [V]": 4.1,
                         "Nominal cell capacity [A.h]": 0.68, "External surface area [m2]": 0.04,
                         "Volume [m3]": 1.3e-5, "Density [kg.m-3]": 2000.0,
                         "Specific heat capacity [J.K-1.kg-1]": 1000.0, "Thermal conductivity [W.m-1.K-1]": 1.0},
                "Electrolyte": {"Initial concentration [mol.m-3]": 1000.0, "Cation transference number": 0.4,
                                "Diffusivity [m2.s-1]": 5.34e-10,
                                "Conductivity [S.m-1]": {"x": [0.0, 500.0, 1000.0, 2000.0, 4000.0],
                                                         "y": [0.0, 0.75, 1.0, 0.8, 0.3]}},
                "Negative electrode": electrode(1e-4, 0.3, 1e-5, 24983.0, 0.01, 0.85, 3.9e-14,
                                                "0.194 + 1.5 * exp(-120.0 * x) - 0.0351 * tanh((x - 0.286) / 0.083)",
                                                2e-11, 100.0),
                "Positive electrode": electrode(1e-4, 0.3, 1e-5, 51217.0, 0.45, 0.99, 1e-13,
                                                "4.2 - 1.2 * x ** 4 - 0.05 * tanh((x - 0.9) / 0.02)", 6e-11, 10.0),
                "Separator": {"Thickness [m]": 2.5e-5, "Porosity": 0.47, "Transport efficiency": 0.47 ** 1.5}}}


def test_bpx_file_is_accepted(tmp_path: Path) -> None:
    """A schema-valid BPX file loads as a parameter set whose OCP and conductivity (a BPX table,
    a linear interpolant) equal PyBaMM's conversion of the same file."""
    path = tmp_path / "cell.json"
    path.write_text(json.dumps(_bpx()))
    ps = load_parameter_source(str(path))
    pv = pybamm.ParameterValues.create_from_bpx(str(path))
    assert ps.name == "bpx:cell.json"
    for s in (0.5, 0.7, 0.95):
        want = _pybamm_value(pv, "Positive electrode OCP [V]", {"sto": s})
        assert float(ps.positive.ocp({"sto": s})) == pytest.approx(want, rel=1e-12)
    for c in (250.0, 1000.0, 3000.0):
        want = _pybamm_value(pv, "Electrolyte conductivity [S.m-1]", {"c_e": c, "T": 298.15})
        assert float(ps.electrolyte.conductivity({"c_e": c, "T": 298.15})) == pytest.approx(want, rel=1e-12)
    with pytest.raises(InputError, match="no such BPX file"):
        load_parameter_source(str(tmp_path / "missing.json"))
