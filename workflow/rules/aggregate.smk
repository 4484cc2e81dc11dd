# Aggregation: per-run files -> results/datasets/*.nc -> figures, comparison table, report.
# (helpers: dataset_inputs, ACTIVE_DATASETS, FIGURE_CAPTIONS in common.smk)

rule aggregate:
    input:
        dataset_inputs,
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/datasets/{{dataset}}.nc",
    log:
        f"{RESULTS}/logs/aggregate/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate/{{dataset}}.tsv"
    params:
        cfg=CONFIGFILE,
    wildcard_constraints:
        dataset="|".join(DATASETS),
    shell:
        "python -m layerlab --log {log} aggregate --config {params.cfg} --dataset {wildcards.dataset} --out {output}"


rule figure:
    input:
        expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS),
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/figures/{{fig}}.png", caption="../report/figure.rst", category="Paper figures"),
    log:
        f"{RESULTS}/logs/figures/{{fig}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{fig}}.tsv"
    params:
        datasets=lambda wildcards, input: os.path.dirname(input[0]),
        caption=lambda wildcards: FIGURE_CAPTIONS[wildcards.fig],
    wildcard_constraints:
        fig="|".join(FIGURE_CAPTIONS),
    shell:
        "python -m layerlab --log {log} figures --datasets {params.datasets} --out-dir $(dirname {output}) --only {wildcards.fig}"


rule compare:
    input:
        expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS),
    conda:
        CONDA_ENV
    output:
        report(f"{RESULTS}/comparison.csv", caption="../report/comparison.rst", category="Comparison"),
    log:
        f"{RESULTS}/logs/compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare.tsv"
    params:
        datasets=lambda wildcards, input: os.path.dirname(input[0]),
    shell:
        "python -m layerlab --log {log} compare --datasets {params.datasets} --out {output}"


if ACTIVE_DATASETS:
    TARGETS.extend(expand(f"{RESULTS}/datasets/{{dataset}}.nc", dataset=ACTIVE_DATASETS))
    TARGETS.extend(expand(f"{RESULTS}/figures/{{fig}}.png", fig=list(FIGURE_CAPTIONS)))
    TARGETS.append(f"{RESULTS}/comparison.csv")
