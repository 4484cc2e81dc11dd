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
