# network rules (see layerlab.network): electronic conductivity of each 3D packing through its particle
# network (contacts, carbon-binder rule, interfacial r_c), per layer, direction and r_c. Serial (~1-3 s).


rule network:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing3d.json",
        settings_files=setting_files("network"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/network/{{case}}.nc",
    log:
        f"{RESULTS}/logs/network/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/network/{{case}}.tsv"
    params:
        settings=settings("network"),
    shell:
        "python -m layerlab --log {log} network --settings {params.settings:q}"
        " --case {wildcards.case} --packing {input.packing} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/network/{{case}}.nc", case=stage_cases("network")))


rule mechanism_check:
    # falsification table of the network mechanism (layerlab.network.falsify; ~1 min serial)
    input:
        runs=lambda wildcards: mechanism_check_inputs(config),
        settings_files=setting_files("mechanism_check"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/tables/mechanism_check.csv",
    log:
        f"{RESULTS}/logs/mechanism_check.log",
    benchmark:
        f"{RESULTS}/benchmarks/mechanism_check.tsv"
    params:
        settings=settings("mechanism_check"),
    shell:
        "python -m layerlab --log {log} mechanism_check --settings {params.settings:q} --out {output}"


if stage_cases("network") and config.get("mechanism_check", {}).get("enabled", True):
    TARGETS.append(f"{RESULTS}/tables/mechanism_check.csv")
