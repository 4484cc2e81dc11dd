# electrochem rules (see layerlab.electrochem): DFN half-cell rate test per electrode design, its
# impedance, the full cell, and the calibration of the mechanism sets.
import re

from layerlab.cases import parse_case
from layerlab.electrochem.calibration import required_inputs as calibration_inputs
from layerlab.electrochem.mechanisms import stage_inputs


rule dfn:
    input:
        runs=lambda wildcards: stage_inputs(config, parse_case(wildcards.case)),
        settings_files=setting_files("dfn"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/dfn/{{case}}.nc",
    log:
        f"{RESULTS}/logs/dfn/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dfn/{{case}}.tsv"
    params:
        settings=settings("dfn"),
    threads: 1
    shell:
        "python -m layerlab --log {log} dfn --settings {params.settings:q} --case {wildcards.case} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/dfn/{{case}}.nc", case=stage_cases("electrochem", seeds=False)))


rule impedance:
    input:
        runs=lambda wildcards: stage_inputs(config, parse_case(wildcards.case)),
        settings_files=setting_files("impedance"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/impedance/{{case}}.nc",
    log:
        f"{RESULTS}/logs/impedance/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/impedance/{{case}}.tsv"
    params:
        settings=settings("impedance"),
    threads: 1
    shell:
        "python -m layerlab --log {log} impedance --settings {params.settings:q} --case {wildcards.case} --out {output}"


rule fullcell:
    input:
        runs=lambda wildcards: stage_inputs(config, parse_case(wildcards.case)),
        settings_files=setting_files("fullcell"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/fullcell/{{case}}.nc",
    log:
        f"{RESULTS}/logs/fullcell/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fullcell/{{case}}.tsv"
    params:
        settings=settings("fullcell"),
    threads: 1
    shell:
        "python -m layerlab --log {log} fullcell --settings {params.settings:q} --case {wildcards.case} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/impedance/{{case}}.nc", case=stage_cases("impedance", seeds=False)))
TARGETS.extend(expand(f"{RESULTS}/runs/fullcell/{{case}}.nc", case=stage_cases("fullcell", seeds=False)))


CALIBRATION_SETS = [s["name"] for s in config["calibration"]["sets"]]


rule calibrate_set:
    input:
        runs=lambda wildcards: calibration_inputs(config, wildcards.mset),
        settings_files=setting_files("calibrate_set"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/calibration/sets/{{mset}}.json",
    log:
        f"{RESULTS}/logs/calibration/{{mset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/calibration/{{mset}}.tsv"
    params:
        settings=settings("calibrate_set"),
    wildcard_constraints:
        mset="|".join(re.escape(n) for n in CALIBRATION_SETS),
    threads: 1
    shell:
        "python -m layerlab --log {log} calibrate-set --settings {params.settings:q} --set {wildcards.mset:q}"
        " --out {output}"


rule calibrate:
    input:
        sets=expand(f"{RESULTS}/calibration/sets/{{mset}}.json", mset=CALIBRATION_SETS),
        runs=calibration_inputs(config),      # the sets' DFN inputs, checked again and used for the parameter file
        settings_files=setting_files("calibrate"),
    conda:
        CONDA_ENV
    output:
        params=f"{RESULTS}/calibration/dfn_calibrated.yaml",
        report=report(f"{RESULTS}/calibration/residuals.csv", caption="../report/calibration.rst",
                      category="Comparison"),
        summary=f"{RESULTS}/calibration/residuals.json",
    log:
        f"{RESULTS}/logs/calibration/calibrate.log",
    benchmark:
        f"{RESULTS}/benchmarks/calibration/calibrate.tsv"
    params:
        settings=settings("calibrate"),
    threads: 1
    shell:
        "python -m layerlab --log {log} calibrate --settings {params.settings:q} --sets-from {input.sets:q}"
        " --out-params {output.params} --out-report {output.report} --out-summary {output.summary}"


if config["calibration"]["enabled"]:
    TARGETS.extend(rules.calibrate.output)
