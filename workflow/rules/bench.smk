# The performance benchmark (moe.bench). Not part of the default target unless
# bench.enabled is true; `snakemake bench` always runs it.


rule bench_run:
    output:
        table=report(
            "results/bench/{section}.csv",
            caption="../report/bench_table.rst",
            category="Performance benchmark",
            labels={"section": "{section}", "type": "table"},
        ),
    log:
        "logs/bench_run/{section}.log",
    benchmark:
        "benchmarks/bench_run/{section}.tsv"
    conda:
        "../../envs/bench.yaml"
    threads: 2  # `scale` measures a fit on two cores; the other sections cap their own threads
    resources:
        mem_mb=resource("bench", "mem_mb"),
        runtime=resource("bench", "runtime"),
    params:
        settings=lambda wc: config["bench"]["settings"].get(wc.section) or {},
        seed=config["bench"]["seed"],
    script:
        "../scripts/bench_run.py"


rule bench_plot:
    input:
        table=rules.bench_run.output.table,
    output:
        figure=report(
            "results/bench/{section}.png",
            caption="../report/bench_figure.rst",
            category="Performance benchmark",
            labels={"section": "{section}", "type": "figure"},
        ),
    log:
        "logs/bench_plot/{section}.log",
    benchmark:
        "benchmarks/bench_plot/{section}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    script:
        "../scripts/bench_plot.py"


rule bench_summary:
    input:
        table=rules.bench_run.output.table,
    output:
        summary=report(
            "results/bench/summary/{section}.csv",
            caption="../report/bench_summary.rst",
            category="Performance benchmark",
            labels={"section": "{section}", "type": "summary"},
        ),
    log:
        "logs/bench_summary/{section}.log",
    benchmark:
        "benchmarks/bench_summary/{section}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    script:
        "../scripts/bench_summary.py"


rule bench_machine:
    output:
        info=report(
            "results/bench/machine.json",
            caption="../report/bench_machine.rst",
            category="Performance benchmark",
            labels={"section": "machine", "type": "table"},
        ),
    log:
        "logs/bench_machine.log",
    benchmark:
        "benchmarks/bench_machine.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("plot", "mem_mb"),
        runtime=resource("plot", "runtime"),
    script:
        "../scripts/bench_machine.py"


rule bench:
    input:
        bench_outputs(),
