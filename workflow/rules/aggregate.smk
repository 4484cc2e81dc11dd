# Aggregation: per-run files -> results/datasets/*.nc -> figures, comparison table, report.
# (helpers: dataset_inputs, ACTIVE_DATASETS, FIGURE_CAPTIONS in common.smk)

rule aggregate:
    input:
        runs=dataset_inputs,
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/datasets/{{dataset}}.nc",
    log:
        f"{RESULTS}/logs/aggregate/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate/{{dataset}}.tsv"
    params:
        settings=settings("aggregate"),
    wildcard_constraints:
        dataset="|".join(DATASETS),
    shell:
        "python -m layerlab --log {log} aggregate --settings {params.settings:q} --dataset {wildcards.dataset} --out {output}"


# the calibration's set "network" (issue 12) beside the plain design in the figures and the comparison
NETWORK_CALIBRATION = ([f"{RESULTS}/calibration/residuals.json"] if config["calibration"]["enabled"]
                       and any(s["name"] == "network" for s in config["calibration"]["sets"]) else [])
BESIDE = f"--calibration {NETWORK_CALIBRATION[0]}" if NETWORK_CALIBRATION else ""


rule figure:
    input:
        datasets=expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS),
        settings_files=setting_files("figures"),
        calibration=NETWORK_CALIBRATION,
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/figures/{{fig}}.png", caption="../report/figure.rst", category="Paper figures"),
    log:
        f"{RESULTS}/logs/figures/{{fig}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{fig}}.tsv"
    params:
        settings=settings("figures"),
        beside=BESIDE,
        caption=lambda wildcards: FIGURE_CAPTIONS[wildcards.fig],
    wildcard_constraints:
        fig="|".join(FIGURE_CAPTIONS),
    shell:
        "python -m layerlab --log {log} figures --settings {params.settings:q} --datasets {input.datasets} --out-dir $(dirname {output}) --only {wildcards.fig} {params.beside}"


rule compare:
    input:
        datasets=expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS),
        settings_files=setting_files("compare"),
        calibration=NETWORK_CALIBRATION,
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/comparison.csv", caption="../report/comparison.rst", category="Comparison"),
    log:
        f"{RESULTS}/logs/compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare.tsv"
    params:
        settings=settings("compare"),
        beside=BESIDE,
    shell:
        "python -m layerlab --log {log} compare --settings {params.settings:q} --datasets {input.datasets} --out {output} {params.beside}"


# Pictures of one case's run files, one per design (its first packing seed): wetting snapshots and a
# cross-section of the 3D packing (layerlab.figures.pictures).
rule wetting_figure:
    input:
        f"{RESULTS}/runs/wetting/{{case}}.nc",
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/figures/wetting/{{case}}.png", caption="../report/wetting_snapshots.rst",
               category="Wetting snapshots"),
    log:
        f"{RESULTS}/logs/figures/wetting/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/wetting/{{case}}.tsv"
    shell:
        "python -m layerlab --log {log} wetting-figure --run {input} --out {output}"


rule section_figure:
    input:
        f"{RESULTS}/geometry/{{case}}/packing3d.json",
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/figures/microstructure/{{case}}.png", caption="../report/microstructure.rst",
               category="Microstructure"),
    log:
        f"{RESULTS}/logs/figures/microstructure/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/microstructure/{{case}}.tsv"
    shell:
        "python -m layerlab --log {log} section-figure --packing {input} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/figures/wetting/{{case}}.png", case=first_seed_cases(
    dataset_cases(config, "wetting"), stage_seeds(config, "wetting"))))
TARGETS.extend(expand(f"{RESULTS}/figures/microstructure/{{case}}.png", case=first_seed_cases(
    _CASES3D, config["geometry"]["seeds"])))


if ACTIVE_DATASETS:
    TARGETS.extend(expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS))
    TARGETS.extend(expand(f"{RESULTS}/figures/{{fig}}.png", fig=list(FIGURE_CAPTIONS)))
    TARGETS.append(f"{RESULTS}/comparison.csv")
