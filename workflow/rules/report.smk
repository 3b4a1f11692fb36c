# Figures of the PPI benchmark and the tables behind the selection figures.


rule plot_reliability:
    input:
        predictions=lambda wc: [
            f for m in MODELS for f in predictions(wc.dataset, wc.split, m)
        ],
        info=rules.download.output.info,
    output:
        report(
            f"{FIGURES}/reliability_{{dataset}}_{{split}}.png",
            caption="../report/reliability.rst",
            category="PPI benchmark",
            subcategory="Calibration",
            labels={
                "figure": "reliability",
                "dataset": "{dataset}",
                "split": "{split}",
            },
        ),
    log:
        "logs/plot_reliability/{dataset}_{split}.log",
    benchmark:
        "benchmarks/plot_reliability/{dataset}_{split}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    params:
        models=MODELS,
        reference=REFERENCE,
        n_bins=config["evaluation"]["n_bins"],
    script:
        "../scripts/plot_reliability.py"


rule plot_summary:
    input:
        pooled=evaluation_files("pooled.csv"),
        components=evaluation_files("components.csv"),
        fit_times=rules.aggregate.output.fit_times,
    output:
        accuracy_vs_ece=report(
            f"{FIGURES}/accuracy_vs_ece.png",
            caption="../report/accuracy_vs_ece.rst",
            category="PPI benchmark",
            subcategory="Calibration",
            labels={"figure": "accuracy vs ECE"},
        ),
        fit_times=report(
            f"{FIGURES}/fit_times.png",
            caption="../report/fit_times.rst",
            category="PPI benchmark",
            subcategory="Cost",
            labels={"figure": "fit time per model"},
        ),
    log:
        "logs/plot_summary.log",
    benchmark:
        "benchmarks/plot_summary.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    params:
        reference=REFERENCE,
    script:
        "../scripts/plot_summary.py"


rule plot_dendrogram:
    input:
        dsc=rules.select_dsc.output.dsc,
        dendrogram=rules.select_dsc.output.dendrogram,
        sweep=rules.select_sweep.output.sweep,
    output:
        report(
            f"{FIGURES}/dendrogram_{{dataset}}.png",
            caption="../report/dendrogram.rst",
            category="PPI benchmark",
            subcategory="Selection",
            labels={"figure": "dendrogram and DSC", "dataset": "{dataset}"},
        ),
    log:
        "logs/plot_dendrogram/{dataset}.log",
    benchmark:
        "benchmarks/plot_dendrogram/{dataset}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    params:
        criterion=fit_settings("moe_em_bic").get("criterion", "bic"),
    script:
        "../scripts/plot_dendrogram.py"


rule plot_selection:
    input:
        traces=expand(rules.solver_traces.output.traces, dataset=DATASETS),
        experts=expand(rules.select_dsc.output.experts, dataset=DATASETS),
        dendrograms=expand(rules.select_dsc.output.dendrogram, dataset=DATASETS),
        sweeps=expand(rules.select_sweep.output.sweep, dataset=DATASETS),
    output:
        traces=report(
            f"{FIGURES}/solver_traces.png",
            caption="../report/solver_traces.rst",
            category="PPI benchmark",
            subcategory="Selection",
            labels={"figure": "MM vs EM traces"},
        ),
        structure=report(
            f"{FIGURES}/expert_structure.png",
            caption="../report/expert_structure.rst",
            category="PPI benchmark",
            subcategory="Selection",
            labels={"figure": "selected experts"},
        ),
        experts=report(
            f"{TABLES}/ppi_experts.csv",
            caption="../report/ppi_experts.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
        selection=report(
            f"{TABLES}/ppi_selection.csv",
            caption="../report/ppi_selection.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
    log:
        "logs/plot_selection.log",
    benchmark:
        "benchmarks/plot_selection.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    params:
        datasets=DATASETS,
    script:
        "../scripts/plot_selection.py"


# Reads the benchmark files and logs of every job of the run; they are not
# declared as inputs (Snakemake writes them beside the outputs), so the rule
# waits for all the outputs instead.
rule runtimes:
    input:
        all_outputs(),
    output:
        report(
            f"{TABLES}/workflow_runtimes.csv",
            caption="../report/workflow_runtimes.rst",
            category="Workflow",
        ),
    log:
        "logs/runtimes.log",
    benchmark:
        "benchmarks/runtimes.tsv"
    conda:
        ENV
    params:
        benchmarks="benchmarks",
        logs="logs",
    script:
        "../scripts/runtimes.py"
