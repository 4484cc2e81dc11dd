# geometry3d rules (see layerlab.geometry): 3D overlapping-sphere packings and their two-phase meshes
# (for transport and resolved electrochemistry). Meshes only when geometry.mesh3d.enabled is true.


rule pack3d:
    input:
        settings_files=setting_files("pack3d"),
    output:
        f"{RESULTS}/geometry/{{case}}/packing3d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/geometry/{{case}}/pack3d.log",
    benchmark:
        f"{RESULTS}/benchmarks/geometry/{{case}}/pack3d.tsv"
    params:
        settings=settings("pack3d"),
    shell:
        "python -m layerlab --log {log} pack3d --settings {params.settings:q} --case {wildcards.case} --out {output}"


rule mesh3d:
    input:
        packing=f"{RESULTS}/geometry/{{case}}/packing3d.json",
        settings_files=setting_files("mesh3d"),
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
        settings=settings("mesh3d"),
    shell:
        "python -m layerlab --log {log} mesh3d --settings {params.settings:q} --case {wildcards.case}"
        " --packing {input.packing} --out {output.msh}"


_CASES3D = stage_cases("geometry", "sweeps3d")
TARGETS.extend(f"{RESULTS}/geometry/{case}/packing3d.json" for case in _CASES3D)
if config["geometry"].get("mesh3d", {}).get("enabled", False):
    TARGETS.extend(f"{RESULTS}/geometry/{case}/mesh3d.msh" for case in _CASES3D)
