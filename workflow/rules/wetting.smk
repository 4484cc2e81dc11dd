# wetting rules (see layerlab.wetting): electrolyte imbibition of each 2D pore mesh (Cahn-Hilliard / Stokes).

rule wet:
    input:
        mesh=f"{RESULTS}/geometry/{{case}}/mesh2d.msh",
        info=f"{RESULTS}/geometry/{{case}}/mesh2d.json",
        packing=f"{RESULTS}/geometry/{{case}}/packing2d.json",
        settings_files=setting_files("wet"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/wetting/{{case}}.nc",
    log:
        f"{RESULTS}/logs/wetting/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/wetting/{{case}}.tsv"
    params:
        settings=settings("wet"),
    priority: 10  # the campaign's longest jobs, and the 2D resolved runs wait for them: start them first
    resources:
        mpi="mpiexec",
        tasks=config["wetting"]["tasks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} wet --settings {params.settings:q}"
        " --case {wildcards.case} --mesh {input.mesh} --packing {input.packing} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/wetting/{{case}}.nc", case=dataset_cases(config, "wetting")))  # wetting.seeds
