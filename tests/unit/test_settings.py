"""Per-job settings (layerlab.settings): what each job reads, and the command's side of the contract."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from layerlab.config import load_config
from layerlab.errors import InputError
from layerlab.settings import STAGES, job_config, job_files, job_settings, stage_subset

CASE = "L-Dry-S_load29.6_por0.55_ls0.5"


@pytest.fixture(scope="module")
def config(repo_root_module: Path) -> dict:
    return load_config(repo_root_module / "config" / "config.yaml")


@pytest.fixture(scope="module")
def repo_root_module() -> Path:
    return Path(__file__).resolve().parents[2]


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"settings": None, "config": None, **kw})


def test_a_job_does_not_carry_the_other_cases(config: dict) -> None:
    for stage in STAGES:
        sub = stage_subset(config, stage, {"case": CASE, "dataset": "rate_capability", "mset": "network"})
        campaign = stage in ("aggregate", "calibrate", "calibrate_set")   # read the campaign's case lists
        for section, values in sub.items():
            if isinstance(values, dict) and not campaign:
                assert not any(k.startswith("sweeps") for k in values), (stage, section)
        if not campaign:
            assert "sweeps" not in sub, stage
    # the calibration reads the electrochem sweeps (calibration.campaign_runs), no other stage's
    sub = stage_subset(config, "calibrate_set", {"mset": "network"})
    assert set(sub["sweeps"]) == set(config["electrochem"]["sweeps"])
    sub = stage_subset(config, "calibrate_set", {"mset": "baseline"})   # not in campaign_runs
    assert "sweeps" not in sub and "sweeps" not in sub["electrochem"]


def test_a_calibration_set_job_reads_its_own_set(config: dict) -> None:
    """Editing one mechanism set reruns that set's fit and the merge, not the other sets' fits."""
    def settings(cfg: dict, name: str) -> str:
        return job_settings(cfg, "calibrate_set", {"mset": name})
    other = json.loads(json.dumps(config))
    net = next(s for s in other["calibration"]["sets"] if s["name"] == "network")
    net["mechanisms"] = ["electronic", "transport"]
    assert settings(other, "network") != settings(config, "network")
    assert settings(other, "baseline") == settings(config, "baseline")
    assert job_settings(other, "calibrate") != job_settings(config, "calibrate")
    sub = json.loads(settings(config, "baseline"))["config"]["calibration"]["sets"]
    assert [s["name"] for s in sub] == ["baseline"]
    with pytest.raises(InputError, match="calibration.sets"):
        settings(config, "nope")


def test_settings_follow_exactly_what_the_stage_reads(config: dict) -> None:
    """A C-rate is in the DFN's settings, not the impedance's (taken at rest); a wetting value only
    in the wetting run's; the MPI ranks of the wetting run in nobody's."""
    def changed(stage: str, edit) -> bool:
        wildcards = {"case": CASE, "dataset": "rate_capability", "mset": "network"}
        before = job_settings(config, stage, wildcards)
        other = json.loads(json.dumps(config))
        edit(other)
        return job_settings(other, stage, wildcards) != before

    rates = lambda c: c["electrochem"]["protocol"].update(c_rates=[0.2])  # noqa: E731
    angle = lambda c: c["wetting"].update(contact_angle_deg=40.0)  # noqa: E731
    tasks = lambda c: c["wetting"].update(tasks=2)  # noqa: E731
    other_case = lambda c: c["sweeps"]["rate_fig2fg"].update(loading_mg_cm2=[23.0])  # noqa: E731
    assert changed("dfn", rates) and changed("fullcell", rates)
    assert not changed("impedance", rates) and not changed("wet", rates)
    assert changed("wet", angle) and not changed("dfn", angle) and not changed("pack2d", angle)
    assert not any(changed(s, tasks) for s in STAGES)
    assert not changed("dfn", other_case) and changed("aggregate", other_case)
    # the falsification table: the protocol's rates and charge mode are not read, its r_c and the DFN's are
    mode = lambda c: c["electrochem"]["protocol"].update(charge="fixed")  # noqa: E731
    r_c = lambda c: c["mechanism_check"].update(r_c_ohm_m2=[3e-4])  # noqa: E731
    assert changed("dfn", mode) and not changed("impedance", mode)
    assert not changed("mechanism_check", rates) and not changed("mechanism_check", mode)
    assert changed("mechanism_check", r_c) and not changed("dfn", r_c) and not changed("network", r_c)


def test_file_hash_is_part_of_the_settings(config: dict, tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text((Path(config["electrochem"]["parameters"]).resolve()
                       if Path(config["electrochem"]["parameters"]).is_absolute()
                       else Path(__file__).resolve().parents[2] / config["electrochem"]["parameters"]).read_text())
    cfg = json.loads(json.dumps(config))
    cfg["electrochem"]["parameters"] = str(params)
    before = job_settings(cfg, "dfn", {"case": CASE})
    assert str(params) in job_files(cfg, "dfn", {"case": CASE})
    params.write_text(params.read_text() + "\n# a comment changes the bytes\n")
    assert job_settings(cfg, "dfn", {"case": CASE}) != before


def test_settings_and_config_routes_give_the_command_the_same_config(config: dict, repo_root_module: Path) -> None:
    for stage in ("dfn", "impedance", "fullcell", "wet", "pack2d", "resolve2d", "calibrate", "calibrate_set"):
        text = job_settings(config, stage, {"case": CASE, "mset": "network"})
        by_settings = job_config(_args(settings=text, case=CASE, mset="network"), stage)
        by_file = job_config(_args(config=str(repo_root_module / "config" / "config.yaml"), case=CASE,
                                   mset="network"), stage)
        assert by_settings == by_file == stage_subset(config, stage, {"case": CASE, "mset": "network"}), stage


@pytest.mark.parametrize("mutate, field", [
    (lambda d: "{not json", "settings"),
    (lambda d: "[1, 2]", "settings"),
    (lambda d: d.replace('"stage":"dfn"', '"stage":"wet"'), "settings.stage"),
    (lambda d: d.replace(CASE, "S-Dry-L_load29.6_por0.55_ls0.5"), "settings.case"),
    (lambda d: d.replace('"v_max_V":4.3', '"v_max_V":NaN'), "electrochem.protocol.v_max_V"),
    (lambda d: d.replace('"v_max_V":4.3', '"v_max_V":"high"'), "electrochem.protocol.v_max_V"),
    (lambda d: d.replace('"sha256":"', '"sha256":"0'), "electrochem.parameters"),
], ids=["not-json", "not-object", "other-stage", "other-case", "nan", "text-for-number", "file-changed"])
def test_bad_settings_are_input_errors(config: dict, mutate, field: str) -> None:
    text = mutate(job_settings(config, "dfn", {"case": CASE}))
    with pytest.raises(InputError) as err:
        job_config(_args(settings=text, case=CASE), "dfn")
    assert err.value.field == field, str(err.value)
