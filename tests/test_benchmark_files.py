"""workflow/scripts/benchmark_files.py: a run's cost per rule from Snakemake's benchmark files."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))
from benchmark_files import runtime_summary  # noqa: E402


def test_runtime_summary_adds_up_benchmark_files(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for path, (s, rss, cpu) in {
        "fit/a/fold0.tsv": (2.0, 100.0, 1.5),
        "fit/a/fold1.tsv": (3.0, 300.0, 2.5),
        "plot_summary.tsv": (1.0, 50.0, 0.5),
    }.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + f"{s}\t0:00:0{s:.0f}\t{rss}\t-\t-\t-\t-\t-\t-\t{cpu}\n")
    table = runtime_summary(tmp_path).set_index("rule")
    assert list(table.index) == ["fit", "plot_summary"]
    assert table.loc["fit", "jobs"] == 2 and table.loc["fit", "wall_seconds"] == 5.0
    assert table.loc["fit", "max_wall_seconds"] == 3.0 and table.loc["fit", "cpu_seconds"] == 4.0
    assert table.loc["fit", "max_rss_mb"] == 300.0
    with pytest.raises(ValueError, match="no benchmark files"):
        runtime_summary(tmp_path / "fit" / "a" / "none")
