# resolved rules (see layerlab.resolved): microstructure-resolved half-cell discharge (and charge) on
# the geometry stage's two-phase 3D mesh (cases: resolved.sweeps), and 2D runs on the wetting
# geometries, fully wet and with the wetting stage's trapped-air map (cases: resolved.sweeps2d).

rule resolved:
    input:
        msh=f"{RESULTS}/geometry/{{case}}/mesh3d.msh",
        settings_files=setting_files("resolve3d"),
    output:
        nc=f"{RESULTS}/runs/resolved/{{case}}.nc",
        vtx=directory(f"{RESULTS}/fields/resolved/{{case}}"),
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/resolved/{{case}}.tsv"
    params:
        settings=settings("resolve3d"),
    resources:
        mpi="mpiexec",
        tasks=config["resolved"]["ranks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} resolve3d --settings {params.settings:q}"
        " --case {wildcards.case} --mesh {input.msh} --out {output.nc} --vtx {output.vtx}"


TARGETS.extend(expand(f"{RESULTS}/runs/resolved/{{case}}.nc", case=stage_cases("resolved")))


rule resolved2d:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing2d.json",
        air=lambda wildcards: [f"{RESULTS}/runs/wetting/{wildcards.case}.nc"] if wildcards.wetting == "air" else [],
        settings_files=setting_files("resolve2d"),
    output:
        f"{RESULTS}/runs/resolved2d/{{case}}.{{wetting}}.nc",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved2d/{{case}}.{{wetting}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/resolved2d/{{case}}.{{wetting}}.tsv"
    params:
        settings=settings("resolve2d"),
        air=lambda wildcards, input: f"--air-map {input.air}" if input.air else "",
    wildcard_constraints:
        wetting="wet|air",
    resources:
        mpi="mpiexec",
        tasks=config["resolved"]["ranks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} resolve2d --settings {params.settings:q}"
        " --case {wildcards.case} --packing {input.packing} {params.air} --out {output}"


rule air_loss:
    input:
        wet=expand(f"{RESULTS}/runs/resolved2d/{{case}}.wet.nc", case=stage_cases("resolved", "sweeps2d")),
        air=expand(f"{RESULTS}/runs/resolved2d/{{case}}.air.nc", case=stage_cases("resolved", "sweeps2d")),
    output:
        report(f"{RESULTS}/tables/air_loss.csv", caption="../report/air_loss.rst", category="Comparison"),
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved2d/air_loss.log",
    benchmark:
        f"{RESULTS}/benchmarks/resolved2d/air_loss.tsv"
    shell:
        "python -m layerlab --log {log} air-loss --wet {input.wet} --air {input.air} --out {output}"


if stage_cases("resolved", "sweeps2d"):
    TARGETS.append(f"{RESULTS}/tables/air_loss.csv")
