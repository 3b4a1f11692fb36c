"""workflow/scripts/benchmark_files.py and usage.py: a run's cost per rule from Snakemake's
benchmark files and the usage line each job writes to its log."""

import math
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))
import usage  # noqa: E402
from benchmark_files import runtime_summary  # noqa: E402

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _burn(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass


def _write(root, relative, text):
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_runtime_summary_takes_cpu_and_memory_from_the_logs(tmp_path):
    benchmarks, logs = tmp_path / "benchmarks", tmp_path / "logs"
    for name, (s, sampled, cpu, rss) in {
        "fit/a/fold0": (2.0, 1.5, 1.75, 100.0),
        "fit/a/fold1": (3.0, 2.5, 2.25, 300.0),
        "plot_summary": (1.0, 0.5, None, None),  # a log without a usage line
    }.items():
        _write(benchmarks, f"{name}.tsv", HEADER + f"{s}\t0:00:0{s:.0f}\t7\t-\t-\t-\t-\t-\t-\t{sampled}\n")
        tail = "" if cpu is None else "\n2026 INFO rule.fit: " + usage.line(
            {"cpu_seconds": cpu, "peak_rss_mb": rss}
        )
        _write(logs, f"{name}.log", "2026 INFO rule.fit: done" + tail + "\n")
    table = runtime_summary(benchmarks, logs).set_index("rule")
    assert list(table.index) == ["fit", "plot_summary"]
    assert table.loc["fit", "jobs"] == 2 and table.loc["fit", "wall_seconds"] == 5.0
    assert table.loc["fit", "max_wall_seconds"] == 3.0
    assert table.loc["fit", "cpu_seconds"] == 4.0 and table.loc["fit", "sampled_cpu_seconds"] == 4.0
    assert table.loc["fit", "max_rss_mb"] == 300.0
    # a rule with an unmeasured job has no CPU total rather than a partial one
    assert math.isnan(table.loc["plot_summary", "cpu_seconds"])
    assert math.isnan(table.loc["plot_summary", "max_rss_mb"])
    assert table.loc["plot_summary", "sampled_cpu_seconds"] == 0.5
    with pytest.raises(ValueError, match="no benchmark files"):
        runtime_summary(benchmarks / "fit" / "a" / "none", logs)


def test_from_log_reads_the_last_usage_line(tmp_path):
    log = tmp_path / "job.log"
    log.write_text(
        "x INFO rule.fit: " + usage.line({"cpu_seconds": 1.0, "peak_rss_mb": 2.0}) + "\n"
        "x INFO rule.fit: the usage: of a word\n"
        "x INFO rule.fit: " + usage.line({"cpu_seconds": 3.0, "peak_rss_mb": float("nan")}) + "\n"
    )
    found = usage.from_log(log)
    assert found["cpu_seconds"] == 3.0 and math.isnan(found["peak_rss_mb"])
    assert usage.from_log(tmp_path / "missing.log") is None


def test_measure_counts_cpu_and_the_memory_high_water_mark():
    before = usage.measure()
    _burn(0.3)
    block = np.ones(50 * 2**20 // 8)  # 50 MB, written so its pages are resident
    after = usage.measure()
    del block
    assert after["cpu_seconds"] - before["cpu_seconds"] >= 0.3
    if sys.platform.startswith("linux"):
        assert after["peak_rss_mb"] >= 50 and after["peak_rss_mb"] >= before["peak_rss_mb"]


@pytest.mark.parametrize("fails", [False, True])
def test_a_workflow_job_logs_its_usage_last(tmp_path, monkeypatch, fails):
    monkeypatch.delitem(sys.modules, "job", raising=False)
    from job import run

    def main(_):
        _burn(0.2)
        if fails:
            raise RuntimeError("boom")

    snakemake = SimpleNamespace(log=[str(tmp_path / "job.log")], rule="t", wildcards={}, threads=1)
    start = usage.measure()["cpu_seconds"]
    if fails:
        with pytest.raises(RuntimeError, match="boom"):
            run(main, snakemake)
    else:
        run(main, snakemake)
    lines = (tmp_path / "job.log").read_text().splitlines()
    assert usage.PREFIX in lines[-1]
    assert ("the job failed" in "\n".join(lines)) is fails and ("done" in lines[-2]) is not fails
    # the whole process's CPU so far, so at least what main burned
    assert usage.from_log(tmp_path / "job.log")["cpu_seconds"] >= start + 0.2
