"""Start-up shared by the workflow scripts: log file, captured warnings, thread caps.

A script does ``from job import run`` and ends with ``run(main, snakemake)``;
``main(snakemake)`` does the work by calling :mod:`moe`.
"""

import _thread
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import usage

# Conda environments built from envs/ hold the dependencies but not this
# package; then `moe` is imported from the checkout this script belongs to.
REPOSITORY = Path(__file__).resolve().parents[2]
if str(REPOSITORY) not in sys.path:
    sys.path.append(str(REPOSITORY))


def _stop_with_starter(period: float = 0.2, grace: float = 10.0) -> None:
    """End the job when the process that started it (the Snakemake driver) is gone.

    A driver killed by SIGKILL or the OOM killer cannot stop its jobs; left
    running, they would write outputs for a run that no longer exists, beside the
    rerun of the same jobs. The job is interrupted (KeyboardInterrupt, so the
    writers of moe.io remove their temporary files), again every ``period``
    seconds because one interrupt can be lost (Python reports and drops an
    exception raised in a ctypes callback, such as threadpoolctl's scan of the
    loaded libraries; a job once finished its folds after one), and ended after
    ``grace`` seconds if it is inside a long native call. An orphan is adopted by
    init (pid 1), which never starts a job itself.

    The interrupt goes through a handler of its own (on SIGUSR1, which only
    ``interrupt_main`` trips here) rather than SIGINT's: a driver started in the
    background of a script (``snakemake ... &``) passes SIGINT on ignored, Python
    then installs no SIGINT handler, and ``interrupt_main()`` does nothing; such an
    orphan wrote its outputs within the grace period.
    """
    starter = os.getppid()
    gone = threading.Event()

    def interrupt(signum, frame):
        if gone.is_set():  # a SIGUSR1 from elsewhere is not a reason to stop
            raise KeyboardInterrupt("the Snakemake driver is gone")

    signal.signal(signal.SIGUSR1, interrupt)

    def watch():
        while os.getppid() == starter != 1:
            time.sleep(period)
        gone.set()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _thread.interrupt_main(signal.SIGUSR1)
            time.sleep(period)
        os._exit(1)

    threading.Thread(target=watch, name="stop-with-driver", daemon=True).start()


# At import: the job may spend seconds importing before run() is reached.
_stop_with_starter()


def run(main, snakemake) -> None:
    """Run ``main(snakemake)`` with output and warnings going to the rule's log.

    BLAS and OpenMP pools are capped at the rule's ``threads`` by
    :func:`moe.threads.limit_threads` (Snakemake also sets ``OMP_NUM_THREADS``
    and the BLAS variables for script jobs, which covers runtimes loaded
    later); estimators that take a thread count get it from the script
    (``n_threads=snakemake.threads``). A failure is logged with its traceback
    and re-raised, so Snakemake marks the job failed and removes its outputs;
    writers in :mod:`moe.io` never leave partial files. The job stops when its
    driver dies. The log's last line is the job's own CPU time and peak memory
    (:mod:`usage`), which Snakemake's benchmark files undercount.
    """
    from moe.threads import limit_threads

    with open(snakemake.log[0], "w", encoding="utf-8") as log, contextlib.redirect_stdout(
        log
    ), contextlib.redirect_stderr(log):
        logging.basicConfig(
            stream=log,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            force=True,
        )
        logging.captureWarnings(True)
        logger = logging.getLogger(f"rule.{snakemake.rule}")
        logger.info("wildcards: %s", dict(snakemake.wildcards.items()))
        try:
            with limit_threads(snakemake.threads):
                main(snakemake)
        except Exception:
            logger.exception("the job failed")
            raise
        else:
            logger.info("done")
        finally:
            logger.info(usage.line(usage.measure()))


def whole_dataset_settings(snakemake):
    """``params.settings``, with the alpha the folds chose most often when the rule is given
    the tuned MM MoE's fold jsons (input ``tuned``)."""
    from moe.io import read_json
    from moe.tuning import consensus_settings

    settings = dict(snakemake.params.settings)
    if "tuned" in snakemake.input.keys():
        infos = [read_json(path) for path in snakemake.input.tuned]
        settings.update(consensus_settings(infos, ["alpha"]))
    return settings


def fit_whole_dataset(snakemake, model):
    """``(pipeline, X)``: the pipeline of ``model`` fitted on every pair of the dataset, for
    the descriptive fits (dendrogram, criterion sweep) that are not scored on held-out folds."""
    import pandas as pd

    from moe.baselines import build_model
    from moe.io import load_matrix

    p = snakemake.params
    labels = pd.read_csv(snakemake.input.pairs, sep="\t", usecols=["label"])["label"]
    X = load_matrix(snakemake.input.features)
    pipeline = build_model(
        model, whole_dataset_settings(snakemake), pca_dim=p.pca_dim, random_state=p.seed,
        n_threads=snakemake.threads,
    )
    return pipeline.fit(X, labels.to_numpy()), X
