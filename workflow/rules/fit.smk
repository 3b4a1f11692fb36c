# One job per dataset x split x model, fitting its folds one after the other.
# Per-fold jobs were measured first: each job pays 3-4 CPU-seconds of start-up
# (interpreter, imports, the 200 MB feature matrix), which over 200 fold jobs
# cost about 5 minutes of the full run on two cores. Grouped, the 32 jobs
# still keep two cores (or a cluster) busy, each output stays one
# file per fold, and fit times are measured per fold inside the job.
#
# Each fit job also tunes its model on every fold's training part (moe.tuning)
# and writes the chosen settings' inner-validation predictions (fold{k}_inner.csv).
# Calibrated models are not fitted: `calibrate` fits the calibrator on the base
# model's inner predictions and applies it to the base's test predictions.


rule fit:
    input:
        unpack(fit_inputs),
        unpack(borrowed_inputs),
    output:
        predictions=expand(f"{PRED}/fold{{fold}}.csv", fold=FOLDS, allow_missing=True),
        infos=expand(f"{PRED}/fold{{fold}}.json", fold=FOLDS, allow_missing=True),
        inner=expand(f"{PRED}/fold{{fold}}_inner.csv", fold=FOLDS, allow_missing=True),
    log:
        "logs/fit/{dataset}/{split}/{model}.log",
    benchmark:
        "benchmarks/fit/{dataset}/{split}/{model}.tsv"
    wildcard_constraints:
        model=one_of(FITTED),
    priority: fit_priority
    conda:
        ENV
    threads: model_threads
    resources:
        mem_mb=resource("fit", "mem_mb"),
        runtime=resource("fit", "runtime"),
    params:
        settings=lambda wc: fit_settings(wc.model),
        tuning=tuning_plan,
        pca_dim=config["pca_dim"],
        seed=config["seed"],
    script:
        "../scripts/fit.py"


# A cheap job (no fit): reads the base's predictions, writes the calibrated model's.
rule calibrate:
    input:
        unpack(calibrate_inputs),
    output:
        predictions=expand(f"{PRED}/fold{{fold}}.csv", fold=FOLDS, allow_missing=True),
        infos=expand(f"{PRED}/fold{{fold}}.json", fold=FOLDS, allow_missing=True),
    log:
        "logs/calibrate/{dataset}/{split}/{model}.log",
    benchmark:
        "benchmarks/calibrate/{dataset}/{split}/{model}.tsv"
    wildcard_constraints:
        model=one_of(CALIBRATED),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("default", "mem_mb"),
        runtime=resource("default", "runtime"),
    params:
        method=lambda wc: MODEL_SPECS[wc.model].calibration,
        base=lambda wc: MODEL_SPECS[wc.model].base,
    script:
        "../scripts/calibrate.py"


rule tuning_table:
    input:
        infos=[
            f
            for d in DATASETS
            for s in SPLITS
            for m in MODELS
            for f in fit_infos(d, s, m)
        ],
    output:
        table=report(
            f"{TABLES}/ppi_tuning.csv",
            caption="../report/ppi_tuning.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
    log:
        "logs/tuning_table.log",
    benchmark:
        "benchmarks/tuning_table.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("default", "mem_mb"),
        runtime=resource("default", "runtime"),
    script:
        "../scripts/tuning_table.py"
