# resolved3d rules (issue 13): the resolved 3D half cell of each case of resolved.campaign3d.sweeps on its own
# packing (campaign3d.lateral_um wide, campaign3d.separator_um separator) and level-set mesh (h_um, h_min_um,
# volume_correction),
# then the DFN side by side (the dfn command on the same design and the same experiment: the rate test's
# electrochem.protocol replaced by the resolved run's discharge from rest at the OCP of resolved.v_max_V)
# and a figure per architecture; each resolved run also leaves its VTX fields
# (ParaView) in fields/resolved3d/<case>/. Only when resolved.campaign3d.enabled (README: its cost). The
# pack3d / mesh3d commands get their usual per-job settings, computed from the config with the campaign's
# box and mesh size as geometry.packing3d / geometry.mesh3d.
_C3D = config["resolved"]["campaign3d"]
_GEO = config["geometry"]
# the config with the campaign's box and mesh size as geometry.packing3d / mesh3d (the pack3d / mesh3d settings)
_GEO3D = {**config, "geometry": {**_GEO,
    "packing3d": {**_GEO.get("packing3d", {}), "lateral_um": _C3D["lateral_um"], "separator_um": _C3D["separator_um"],
                  "periodic": _C3D["periodic"]},
    "mesh3d": {**_GEO.get("mesh3d", {}), "route": "levelset", "h_um": _C3D["h_um"], "h_min_um": _C3D["h_min_um"],
               "volume_correction": _C3D.get("volume_correction", "none")}}}
_R3D = f"{RESULTS}/resolved3d"


rule pack3d_resolved:
    input:
        settings_files=lambda wildcards: job_files(_GEO3D, "pack3d", dict(wildcards)),
    output:
        f"{_R3D}/{{case}}/packing3d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved3d/{{case}}/pack3d.log",
    params:
        settings=lambda wildcards: job_settings(_GEO3D, "pack3d", dict(wildcards)),
    shell:
        "python -m layerlab --log {log} pack3d --settings {params.settings:q} --case {wildcards.case} --out {output}"


rule mesh3d_resolved:
    input:
        packing=f"{_R3D}/{{case}}/packing3d.json",
        settings_files=lambda wildcards: job_files(_GEO3D, "mesh3d", dict(wildcards)),
    output:
        msh=f"{_R3D}/{{case}}/mesh3d.msh",
        info=f"{_R3D}/{{case}}/mesh3d.json",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved3d/{{case}}/mesh3d.log",
    benchmark:
        f"{RESULTS}/benchmarks/resolved3d/{{case}}/mesh3d.tsv"
    params:
        settings=lambda wildcards: job_settings(_GEO3D, "mesh3d", dict(wildcards)),
    shell:
        "python -m layerlab --log {log} mesh3d --settings {params.settings:q} --case {wildcards.case}"
        " --packing {input.packing} --out {output.msh}"


rule resolved3d:
    input:
        msh=f"{_R3D}/{{case}}/mesh3d.msh",
        packing=f"{_R3D}/{{case}}/packing3d.json",
        settings_files=setting_files("resolve3d"),
    output:
        nc=f"{RESULTS}/runs/resolved3d/{{case}}.nc",
        vtx=directory(f"{RESULTS}/fields/resolved3d/{{case}}"),
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved3d/{{case}}/resolve3d.log",
    benchmark:
        f"{RESULTS}/benchmarks/resolved3d/{{case}}/resolve3d.tsv"
    params:
        settings=settings("resolve3d"),
    resources:
        mpi="mpiexec",
        tasks=config["resolved"]["ranks"],
    shell:
        "{resources.mpi} -n {resources.tasks} python -m layerlab --log {log} resolve3d --settings {params.settings:q}"
        " --case {wildcards.case} --mesh {input.msh} --packing {input.packing} --out {output.nc} --vtx {output.vtx}"


_CASES_R3D = [
    c.name for c in cases_of(config, _C3D["sweeps"], config["geometry"]["seeds"])] if _C3D["enabled"] else []
_RES = config["resolved"]
# the config of the DFN counterpart: the campaign's DFN with the resolved run's protocol
_DFN3D = {**config, "electrochem": {**config["electrochem"], "protocol": {
    "c_rates": [_RES["discharge_c_rate"]], "charge": "rest", "cv": False, "v_min_V": _RES["v_min_V"],
    "v_max_V": _RES["v_max_V"], "rest_s": 0.0}}}


rule dfn_resolved3d:
    input:
        runs=lambda wildcards: stage_inputs(config, parse_case(wildcards.case)),
        settings_files=lambda wildcards: job_files(_DFN3D, "dfn", dict(wildcards)),
    output:
        f"{_R3D}/dfn/{{case}}.nc",
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved3d/{{case}}/dfn.log",
    params:
        settings=lambda wildcards: job_settings(_DFN3D, "dfn", dict(wildcards)),
    threads: 1
    shell:
        "python -m layerlab --log {log} dfn --settings {params.settings:q} --case {wildcards.case} --out {output}"


localrules:
    resolved3d_compare,


rule resolved3d_compare:
    input:
        resolved=expand(f"{RESULTS}/runs/resolved3d/{{case}}.nc", case=_CASES_R3D),
        dfn=[f"{_R3D}/dfn/{parse_case(c).with_seed(None).name}.nc" for c in _CASES_R3D],
    output:
        table=f"{RESULTS}/tables/resolved3d_vs_dfn.csv",
        dataset=f"{RESULTS}/datasets/resolved3d.nc",
        figures=directory(f"{RESULTS}/figures/resolved3d"),
    conda:
        CONDA_ENV
    log:
        f"{RESULTS}/logs/resolved3d/compare.log",
    shell:
        "python -m layerlab --log {log} resolve3d-compare --resolved {input.resolved} --dfn {input.dfn}"
        " --table {output.table} --dataset {output.dataset} --figures {output.figures}"


if _CASES_R3D:
    TARGETS.append(f"{RESULTS}/tables/resolved3d_vs_dfn.csv")
