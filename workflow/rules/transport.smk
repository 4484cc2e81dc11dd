# transport rules (see layerlab.transport): tortuosity / effective conductivity of each 3D packing.
# Voxel route by default (packing only); transport.route: mesh also reads the gmsh mesh of the case.

_TRANSPORT_MESH = config["transport"]["route"] == "mesh"


rule transport:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing3d.json",
        mesh=[f"{RESULTS}/geometry/{{case}}/mesh3d.msh"] if _TRANSPORT_MESH else [],
        settings_files=setting_files("transport"),
    conda:
        CONDA_ENV
    output:
        f"{RESULTS}/runs/transport/{{case}}.nc",
    log:
        f"{RESULTS}/logs/transport/{{case}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/transport/{{case}}.tsv"
    params:
        settings=settings("transport"),
        mesh=lambda wildcards, input: f"--mesh {input.mesh}" if _TRANSPORT_MESH else "",
    resources:
        mpi="mpiexec",
        tasks=2,
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} transport --settings {params.settings:q}"
        " --case {wildcards.case} --packing {input.packing} {params.mesh} --out {output}"


TARGETS.extend(expand(f"{RESULTS}/runs/transport/{{case}}.nc", case=stage_cases("transport")))
