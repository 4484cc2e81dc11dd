# resolved rules (see layerlab.resolved): microstructure-resolved half-cell discharge (and charge) on
# the geometry stage's two-phase 3D mesh.  Cases: the sweeps listed in resolved.sweeps (default none).

rule resolved:
    input:
        msh=f"{RESULTS}/geometry/{{case}}/mesh3d.msh",
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
        cfg=CONFIGFILE,
    resources:
        mpi="mpiexec",
        tasks=config["resolved"]["ranks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} resolve3d --config {params.cfg}"
        " --case {wildcards.case} --mesh {input.msh} --out {output.nc} --vtx {output.vtx}"


TARGETS.extend(expand(f"{RESULTS}/runs/resolved/{{case}}.nc", case=stage_cases("resolved")))
