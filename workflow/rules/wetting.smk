# wetting rules (see layerlab.wetting): electrolyte imbibition of each 2D pore mesh (Cahn-Hilliard / Stokes).

rule wet:
    input:
        mesh=f"{RESULTS}/geometry/{{case}}/mesh2d.msh",
        info=f"{RESULTS}/geometry/{{case}}/mesh2d.json",
        packing=f"{RESULTS}/geometry/{{case}}/packing2d.json",
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/wetting/{{case}}.nc",
    log:
        f"{RESULTS}/logs/wetting/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/wetting/{{case}}.tsv"
    params:
        cfg=CONFIGFILE,
    priority: 10  # the campaign's longest jobs, and the 2D resolved runs wait for them: start them first
    resources:
        mpi="mpiexec",
        tasks=config["wetting"]["tasks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} wet --config {params.cfg}"
        " --case {wildcards.case} --mesh {input.mesh} --packing {input.packing} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/wetting/{{case}}.nc", case=dataset_cases(config, "wetting")))  # wetting.seeds
