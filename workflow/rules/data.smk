# Download (or copy from a mirror), parse and validate each dataset; cut folds.


rule download:
    output:
        pairs=f"{DATA}/pairs.tsv",
        sequences=f"{DATA}/sequences.tsv",
        info=f"{DATA}/dataset.json",
    log:
        "logs/download/{dataset}.log",
    benchmark:
        "benchmarks/download/{dataset}.tsv"
    conda:
        ENV
    params:
        mirror=config["mirror"],
        cache_dir=config["cache_dir"],
        retries=config["download_retries"],
        label_rule=lambda wc: dataset_option(wc.dataset, "label_rule"),
        max_pairs=lambda wc: dataset_option(wc.dataset, "max_pairs"),
        seed=config["seed"],
    script:
        "../scripts/download.py"


rule splits:
    input:
        pairs=rules.download.output.pairs,
        info=rules.download.output.info,
    output:
        folds=f"{DATA}/splits/{{split}}.tsv",
        summary=f"{DATA}/splits/{{split}}_summary.tsv",
    log:
        "logs/splits/{dataset}_{split}.log",
    benchmark:
        "benchmarks/splits/{dataset}_{split}.tsv"
    conda:
        ENV
    params:
        n_folds=config["n_folds"],
        seed=config["seed"],
    script:
        "../scripts/splits.py"
