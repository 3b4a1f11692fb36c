# Literature anchor: Guo et al. (2008)'s AC + tuned RBF SVM protocol re-run on
# the prepared pairs of each dataset with a published result (moe.ppi.anchor).

import moe.ppi.anchor

ANCHOR = config["anchor"]
ANCHOR_DATASETS = [d for d in DATASETS if d in moe.ppi.anchor.PUBLISHED]


rule anchor:
    input:
        pairs=expand(rules.download.output.pairs, dataset=ANCHOR_DATASETS),
        sequences=expand(rules.download.output.sequences, dataset=ANCHOR_DATASETS),
    output:
        table=report(
            f"{TABLES}/literature_anchors.csv",
            caption="../report/literature_anchors.rst",
            category="PPI benchmark",
            subcategory="Tables",
        ),
    log:
        "logs/anchor.log",
    benchmark:
        "benchmarks/anchor.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=resource("anchor", "mem_mb"),
        runtime=resource("anchor", "runtime"),
    params:
        datasets=ANCHOR_DATASETS,
        representations=ANCHOR["representations"],
        n_folds=ANCHOR["n_folds"],
        max_lag=ANCHOR["max_lag"],
        grid={**moe.ppi.anchor.GRIDS[ANCHOR["scale"]], **ANCHOR["grid"]},
        holdout=ANCHOR["holdout"],
        seed=config["seed"],
    script:
        "../scripts/anchor.py"
