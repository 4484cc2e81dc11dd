# network rules (see layerlab.network): electronic conductivity of each 3D packing through its particle
# network (contacts, carbon-binder rule, interfacial r_c), per layer, direction and r_c. Serial (~1-3 s).


rule network:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing3d.json",
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/network/{{case}}.nc",
    log:
        f"{RESULTS}/logs/network/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/network/{{case}}.tsv"
    params:
        cfg=CONFIGFILE,
    shell:
        "python -m layerlab --log {log} network --config {params.cfg}"
        " --case {wildcards.case} --packing {input.packing} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/network/{{case}}.nc", case=stage_cases("network")))
