# geometry2d rules (see layerlab.geometry): 2D disk packings and their pore-space meshes (for wetting)


rule pack2d:
    output:
        f"{RESULTS}/geometry/{{case}}/packing2d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/pack2d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/pack2d.tsv"
    params:
        cfg=CONFIGFILE,
    priority: 10  # on the wetting (critical) path
    shell:
        "python -m layerlab --log {log} pack2d --config {params.cfg} --case {wildcards.case} --out {output}"


rule mesh2d:
    input:
        f"{RESULTS}/geometry/{{case}}/packing2d.json",
    output:
        msh=f"{RESULTS}/geometry/{{case}}/mesh2d.msh",
        info=f"{RESULTS}/geometry/{{case}}/mesh2d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/mesh2d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/mesh2d.tsv"
    params:
        cfg=CONFIGFILE,
    priority: 10  # on the wetting (critical) path
    shell:
        "python -m layerlab --log {log} mesh2d --config {params.cfg} --packing {input} --out {output.msh}"


TARGETS.extend(f"{RESULTS}/geometry/{case}/mesh2d.msh" for case in stage_cases("geometry", "sweeps2d"))
