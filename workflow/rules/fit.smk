# One job per dataset x split x model, fitting its folds one after the other.
# Per-fold jobs were measured first: each job pays 3-4 CPU-seconds of start-up
# (interpreter, imports, the 200 MB feature matrix), which over 200 fold jobs
# cost about 5 of the 30 minutes the full run may take on two cores. Grouped,
# the 40 jobs still keep two cores (or a cluster) busy, each output stays one
# file per fold, and fit times are measured per fold inside the job.


rule fit:
    input:
        unpack(fit_inputs),
    output:
        predictions=expand(f"{PRED}/fold{{fold}}.csv", fold=FOLDS, allow_missing=True),
        infos=expand(f"{PRED}/fold{{fold}}.json", fold=FOLDS, allow_missing=True),
    log:
        "logs/fit/{dataset}/{split}/{model}.log",
    benchmark:
        "benchmarks/fit/{dataset}/{split}/{model}.tsv"
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
