# Sequence encodings per protein, combined symmetrically per pair.


rule features:
    input:
        pairs=rules.download.output.pairs,
        sequences=rules.download.output.sequences,
    output:
        features=f"{DATA}/features.npz",
    log:
        "logs/features/{dataset}.log",
    benchmark:
        "benchmarks/features/{dataset}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("features", "mem_mb"),
        runtime=resource("features", "runtime"),
    params:
        encodings=config["features"]["encodings"],
        max_lag=config["features"]["max_lag"],
        combine=config["features"]["combine"],
    script:
        "../scripts/features.py"
