# layerlab campaign. Default: config/config.yaml (laptop); paper scale: --configfile config/paper.yaml
from layerlab.config import validate_config

configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"

# Validate (JSON schema + semantic checks) and fill defaults before building the DAG.
_validated = validate_config(config)
config.clear()
config.update(_validated)


include: "workflow/rules/common.smk"
include: "workflow/rules/geometry2d.smk"
include: "workflow/rules/geometry3d.smk"
include: "workflow/rules/wetting.smk"
include: "workflow/rules/transport.smk"
include: "workflow/rules/network.smk"
include: "workflow/rules/electrochem.smk"
include: "workflow/rules/resolved.smk"
include: "workflow/rules/resolved3d.smk"
include: "workflow/rules/aggregate.smk"


# On a cluster these run on the submit host: seconds of work each, not worth a queue slot.
localrules:
    all,
    aggregate,
    figure,
    wetting_figure,
    section_figure,
    compare,
    air_loss,


rule all:
    default_target: True
    input:
        all_targets,
