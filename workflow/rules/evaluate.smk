# Score each model's out-of-fold predictions, pooled and per component (C1/C2/C3),
# with protein-bootstrap intervals and paired tests against the reference (the
# pair table gives each prediction's proteins); then one table set for all, the
# tests of the primary metrics Holm-corrected.


rule evaluate:
    input:
        unpack(evaluate_inputs),
        pairs=f"{DATA}/pairs.tsv",
    output:
        metrics=f"{EVAL}/metrics.csv",
        pooled=f"{EVAL}/pooled.csv",
        replicates=f"{EVAL}/replicates.csv",
        paired=f"{EVAL}/paired.csv",
        components=f"{EVAL}/components.csv",
    log:
        "logs/evaluate/{dataset}/{split}/{model}.log",
    benchmark:
        "benchmarks/evaluate/{dataset}/{split}/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
    params:
        n_bins=config["evaluation"]["n_bins"],
        n_resamples=config["evaluation"]["n_resamples"],
        level=config["evaluation"]["level"],
        seed=config["seed"],
        reference=REFERENCE,
    script:
        "../scripts/evaluate.py"


rule aggregate:
    input:
        metrics=evaluation_files("metrics.csv"),
        pooled=evaluation_files("pooled.csv"),
        paired=evaluation_files("paired.csv"),
        components=evaluation_files("components.csv"),
        infos=[
            f
            for d in DATASETS
            for s in SPLITS
            for m in MODELS
            for f in fit_infos(d, s, m)
        ],
        folds=expand(
            f"{DATA}/splits/{{split}}_summary.tsv", dataset=DATASETS, split=SPLITS
        ),
    output:
        metrics=report(
            f"{TABLES}/ppi_metrics.csv",
            caption="../report/ppi_metrics.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        summary=report(
            f"{TABLES}/ppi_summary.csv",
            caption="../report/ppi_summary.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        summary_md=report(
            f"{TABLES}/ppi_summary.md",
            caption="../report/ppi_summary_md.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        summary_tex=report(
            f"{TABLES}/ppi_summary.tex",
            caption="../report/ppi_summary_tex.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        components=report(
            f"{TABLES}/ppi_components.csv",
            caption="../report/ppi_components.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        fit_times=report(
            f"{TABLES}/ppi_fit_times.csv",
            caption="../report/ppi_fit_times.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        folds=report(
            f"{TABLES}/ppi_folds.csv",
            caption="../report/ppi_folds.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
    log:
        "logs/aggregate.log",
    benchmark:
        "benchmarks/aggregate.tsv"
    conda:
        ENV
    params:
        reference=REFERENCE,
        level=config["evaluation"]["level"],
    script:
        "../scripts/aggregate.py"
