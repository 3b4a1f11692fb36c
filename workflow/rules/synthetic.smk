# The synthetic study of the dendrogram selector (moe.synthetic).


rule synthetic_run:
    output:
        table=report(
            "results/synthetic/{experiment}.csv",
            caption="../report/synthetic_table.rst",
            category="Synthetic study",
            labels={"experiment": "{experiment}", "type": "table"},
        ),
        summary=report(
            "results/synthetic/{experiment}.md",
            caption="../report/synthetic_summary.rst",
            category="Synthetic study",
            labels={"experiment": "{experiment}", "type": "summary"},
        ),
    log:
        "logs/synthetic_run/{experiment}.log",
    benchmark:
        "benchmarks/synthetic_run/{experiment}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("synthetic", "mem_mb"),
        runtime=resource("synthetic", "runtime"),
    params:
        settings=lambda wc: config["synthetic"]["settings"].get(wc.experiment) or {},
        seed=config["synthetic"]["seed"],
        scale=config["synthetic"]["scale"],
    script:
        "../scripts/synthetic_run.py"


rule synthetic_plot:
    input:
        table=rules.synthetic_run.output.table,
    output:
        figure=report(
            "results/synthetic/{experiment}.png",
            caption="../report/synthetic_figure.rst",
            category="Synthetic study",
            labels={"experiment": "{experiment}", "type": "figure"},
        ),
    log:
        "logs/synthetic_plot/{experiment}.log",
    benchmark:
        "benchmarks/synthetic_plot/{experiment}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    script:
        "../scripts/synthetic_plot.py"
