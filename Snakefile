"""The SGMLMoE PPI benchmark: data, features, folds, fits, selection, evaluation,
synthetic study, performance benchmark and report.

Run:  snakemake --cores 2                      (pinned URLs)
      snakemake --cores 2 --config mirror=DIR  (offline mirror)
See README.md and config/README.md.
"""

from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")


# The full run's settings, unless --configfile names others: then those files
# plus the schema's defaults make the configuration, from any directory.
if not workflow.overwrite_configfiles:

    configfile: Path(workflow.basedir, "config", "config.yaml")


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/bench.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/anchor.smk"


localrules:
    all,
    bench,
    download,
    splits,
    aggregate,
    tuning_table,
    runtimes,


rule all:
    default_target: True
    input:
        all_outputs(),
        rules.runtimes.output,
