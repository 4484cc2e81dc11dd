# electrochem rules (see layerlab.electrochem): DFN half-cell rate test per electrode design.

rule dfn:
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/dfn/{{case}}.nc",
    log:
        f"{RESULTS}/logs/dfn/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dfn/{{case}}.tsv"
    params:
        cfg=CONFIGFILE,
    threads: 1
    shell:
        "python -m layerlab --log {log} dfn --config {params.cfg} --case {wildcards.case} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/dfn/{{case}}.nc", case=stage_cases("electrochem", seeds=False)))


rule impedance:
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/impedance/{{case}}.nc",
    log:
        f"{RESULTS}/logs/impedance/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/impedance/{{case}}.tsv"
    params:
        cfg=CONFIGFILE,
    threads: 1
    shell:
        "python -m layerlab --log {log} impedance --config {params.cfg} --case {wildcards.case} --out {output}"


rule fullcell:
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/fullcell/{{case}}.nc",
    log:
        f"{RESULTS}/logs/fullcell/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fullcell/{{case}}.tsv"
    params:
        cfg=CONFIGFILE,
    threads: 1
    shell:
        "python -m layerlab --log {log} fullcell --config {params.cfg} --case {wildcards.case} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/impedance/{{case}}.nc", case=stage_cases("impedance", seeds=False)))
TARGETS.extend(expand(f"{RESULTS}/runs/fullcell/{{case}}.nc", case=stage_cases("fullcell", seeds=False)))
