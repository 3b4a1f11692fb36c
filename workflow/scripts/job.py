"""Start-up shared by the workflow scripts: log file, captured warnings, thread caps.

A script does ``from job import run`` and ends with ``run(main, snakemake)``;
``main(snakemake)`` does the work by calling :mod:`moe`.
"""

import contextlib
import logging
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

# Conda environments built from envs/ hold the dependencies but not this
# package; then `moe` is imported from the checkout this script belongs to.
REPOSITORY = Path(__file__).resolve().parents[2]
if str(REPOSITORY) not in sys.path:
    sys.path.append(str(REPOSITORY))


def run(main, snakemake) -> None:
    """Run ``main(snakemake)`` with output and warnings going to the rule's log.

    BLAS and OpenMP pools are capped at the rule's ``threads`` (Snakemake sets
    the thread variables for script jobs too; this also covers libraries that
    read them only once). A failure is logged with its traceback and re-raised,
    so Snakemake marks the job failed and removes its outputs; writers in
    :mod:`moe.io` never leave partial files.
    """
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
            with threadpool_limits(limits=snakemake.threads):
                main(snakemake)
        except Exception:
            logger.exception("the job failed")
            raise
        logger.info("done")
