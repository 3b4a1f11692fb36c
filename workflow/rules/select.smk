# Descriptive fits on each whole dataset, for the figures: the dendrogram and
# DSC curve of the MM fit at K_bar, the EM criterion sweep, MM against EM from
# one start, and the structure of the selected experts. These fits are not
# scored (the folds are); they use the same settings as the benchmark models,
# with the ridge alpha the MM MoE's tuning chose most often on the dataset's folds.


rule select_dsc:
    input:
        unpack(tuned_inputs),
        pairs=rules.download.output.pairs,
        info=rules.download.output.info,
        features=rules.features.output.features,
    output:
        dsc=f"{SELECT}/dsc.csv",
        dendrogram=f"{SELECT}/dendrogram.json",
        experts=f"{SELECT}/experts.csv",
    log:
        "logs/select_dsc/{dataset}.log",
    benchmark:
        "benchmarks/select_dsc/{dataset}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("select", "mem_mb"),
        runtime=resource("select", "runtime"),
    params:
        settings=fit_settings("moe_mm_dsc"),
        pca_dim=config["pca_dim"],
        seed=config["seed"],
    script:
        "../scripts/select_dsc.py"


rule select_sweep:
    input:
        unpack(tuned_inputs),
        pairs=rules.download.output.pairs,
        features=rules.features.output.features,
    output:
        sweep=f"{SELECT}/sweep.csv",
    log:
        "logs/select_sweep/{dataset}.log",
    benchmark:
        "benchmarks/select_sweep/{dataset}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("select", "mem_mb"),
        runtime=resource("select", "runtime"),
    params:
        settings=fit_settings("moe_em_bic"),
        pca_dim=config["pca_dim"],
        seed=config["seed"],
    script:
        "../scripts/select_sweep.py"


rule solver_traces:
    input:
        unpack(tuned_inputs),
        pairs=rules.download.output.pairs,
        features=rules.features.output.features,
    output:
        traces=f"{SELECT}/traces.csv",
    log:
        "logs/solver_traces/{dataset}.log",
    benchmark:
        "benchmarks/solver_traces/{dataset}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("select", "mem_mb"),
        runtime=resource("select", "runtime"),
    params:
        traces=config["selection"]["traces"],
        settings=fit_settings("moe_mm_dsc"),
        pca_dim=config["pca_dim"],
        seed=config["seed"],
    script:
        "../scripts/solver_traces.py"
