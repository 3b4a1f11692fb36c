# One job per dataset x split x model x fold: the finest grain that is still a
# whole fit. It keeps a cluster busy, reruns only the folds that failed or whose
# settings changed, and gives a benchmark file per fit.


rule fit:
    input:
        unpack(fit_inputs),
    output:
        predictions=f"{PRED}/fold{{fold}}.csv",
        info=f"{PRED}/fold{{fold}}.json",
    log:
        "logs/fit/{dataset}/{split}/{model}/fold{fold}.log",
    benchmark:
        "benchmarks/fit/{dataset}/{split}/{model}/fold{fold}.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        mem_mb=resource("fit", "mem_mb"),
        runtime=resource("fit", "runtime"),
    params:
        settings=lambda wc: fit_settings(wc.model),
        pca_dim=config["pca_dim"],
        seed=config["seed"],
    script:
        "../scripts/fit.py"
