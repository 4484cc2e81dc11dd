# geometry2d rules (see layerlab.geometry): 2D disk packings and their pore-space meshes (for wetting)


rule pack2d:
    input:
        settings_files=setting_files("pack2d"),
    output:
        f"{RESULTS}/geometry/{{case}}/packing2d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/pack2d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/pack2d.tsv"
    params:
        settings=settings("pack2d"),
    priority: 10  # on the wetting (critical) path
    shell:
        "python -m layerlab --log {log} pack2d --settings {params.settings:q} --case {wildcards.case} --out {output}"


rule mesh2d:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing2d.json",
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
        settings=settings("mesh2d"),
    priority: 10  # on the wetting (critical) path
    shell:
        "python -m layerlab --log {log} mesh2d --settings {params.settings:q} --packing {input.packing} --out {output.msh}"


TARGETS.extend(f"{RESULTS}/geometry/{case}/mesh2d.msh" for case in stage_cases("geometry", "sweeps2d"))
