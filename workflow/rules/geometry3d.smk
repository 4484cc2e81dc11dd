# geometry3d rules (see layerlab.geometry): 3D overlapping-sphere packings and their two-phase meshes
# (for transport and resolved electrochemistry). Meshes only when geometry.mesh3d.enabled is true.


rule pack3d:
    output:
        f"{RESULTS}/geometry/{{case}}/packing3d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/pack3d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/pack3d.tsv"
    params:
        cfg=CONFIGFILE,
    shell:
        "python -m layerlab --log {log} pack3d --config {params.cfg} --case {wildcards.case} --out {output}"


rule mesh3d:
    input:
        f"{RESULTS}/geometry/{{case}}/packing3d.json",
    output:
        msh=f"{RESULTS}/geometry/{{case}}/mesh3d.msh",
        info=f"{RESULTS}/geometry/{{case}}/mesh3d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/mesh3d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/mesh3d.tsv"
    params:
        cfg=CONFIGFILE,
    shell:
        "python -m layerlab --log {log} mesh3d --config {params.cfg} --case {wildcards.case} --packing {input}"
        " --out {output.msh}"


_CASES3D = stage_cases("geometry", "sweeps3d")
TARGETS.extend(f"{RESULTS}/geometry/{case}/packing3d.json" for case in _CASES3D)
if config["geometry"].get("mesh3d", {}).get("enabled", False):
    TARGETS.extend(f"{RESULTS}/geometry/{case}/mesh3d.msh" for case in _CASES3D)
