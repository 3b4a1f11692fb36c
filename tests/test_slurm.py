"""The workflow on a real single-node SLURM (tests/slurm_cluster.py) through the project's profile
workflow/profiles/slurm: which jobs were submitted, what they asked SLURM for, that they give
the same results as a local run, and that a failed job comes back with scaled resources.

Needs root and the Debian packages that .ci/install-slurm installs; without them the tests skip,
in CI (CI set) they fail. The cluster has no accounting database, so these runs also show that
the profile does not hang where sacct has no storage.
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import yaml

from tests.conftest import skip_here_fail_in_ci
from tests.slurm_cluster import SYSTEM_CONF, LocalSlurm, missing_binaries
from tests.test_workflow import SLURM_PROFILE, TEST_CONFIG, job_counts, snakemake, write_yaml

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

# config/test.yaml cut to one dataset, one split, two models and one synthetic experiment: every
# rule of the workflow still runs, in a quarter of the SLURM jobs (each SLURM job starts Snakemake
# twice, in the batch script and in its job step, which dominates the test's time).
SMALL = {
    "datasets": ["guo_yeast"],
    "splits": ["random"],
    "models": {"run": ["moe_mm_dsc", "logreg"]},
    "synthetic": {"experiments": ["optimisation"]},
    # the cluster path, not the benchmark: no tuning grids, no literature anchor
    "tuning": {"enabled": False},
    "anchor": {"enabled": False},
    # a distinctive request from the config's resources table
    "resources": {"features": {"mem_mb": 1234, "runtime": 7}},
}
LOCAL_RULES = {"all", "bench", "download", "splits", "aggregate", "tuning_table", "runtimes"}
# first status check after 1 s instead of 40 s; MinJobAge (3600 s) stays far above 3 x 1 s
FAST_STATUS = ("--slurm-init-seconds-before-status-checks", "1")


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A running single-node SLURM, stopped (by the PIDs it started) after the session."""
    missing = missing_binaries()
    if missing:
        skip_here_fail_in_ci(
            f"SLURM is not installed ({', '.join(missing)} missing): run .ci/install-slurm"
        )
    if os.geteuid() != 0:
        skip_here_fail_in_ci("the test SLURM runs slurmd as root")
    if SYSTEM_CONF.exists():
        skip_here_fail_in_ci(
            f"{SYSTEM_CONF} exists: the test SLURM would replace this machine's configuration"
        )
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def slurm_jobs(cluster, run_id) -> dict:
    """``{job id: (state, comment)}`` of one Snakemake run (its jobs carry the run ID as name)."""
    out = cluster.run(
        "squeue", "--states=all", "--noheader", f"--name={run_id}", "--format=%i|%T|%k"
    ).stdout
    rows = (line.split("|", 2) for line in out.splitlines())
    return {job_id: (state, comment) for job_id, state, comment in rows}


def rule_of(comment) -> str:
    """The rule in the plugin's job comment, ``rule_<rule>`` or ``rule_<rule>_wildcards_<...>``."""
    return re.fullmatch(r"rule_(\w+?)(_wildcards_.*)?", comment).group(1)


def job_request(cluster, job_id) -> dict:
    """Memory (MB), time limit (minutes) and CPUs of a SLURM job, from ``scontrol show job``."""
    fields = dict(
        item.split("=", 1)
        for item in cluster.run("scontrol", "--oneliner", "show", "job", job_id).stdout.split()
        if "=" in item
    )
    days, _, clock = fields["TimeLimit"].rpartition("-")
    hours, minutes, _ = map(int, clock.split(":"))
    return {
        "mem_mb": int(fields["MinMemoryNode"].rstrip("M")),
        "runtime": (int(days or 0) * 24 + hours) * 60 + minutes,
        "cpus": int(fields["NumCPUs"]),
        "state": fields["JobState"],
    }


def submissions(output) -> dict:
    """``{SLURM job id: (rule, planned request)}`` from the log of a SLURM run, where each job's
    block (rule, jobid, threads if more than one, resources) precedes the plugin's line
    'Job <jobid> has been submitted with SLURM jobid <id>'."""
    pattern = re.compile(
        r"^rule (\w+):\n((?:    .*\n)+)|^Job (\d+) has been submitted with SLURM jobid (\d+)",
        re.MULTILINE,
    )
    planned, latest = {}, {}
    for rule, body, jobid, slurm_id in pattern.findall(output):
        if rule:
            fields = dict(line.strip().split(": ", 1) for line in body.splitlines())
            resources = dict(item.split("=", 1) for item in fields["resources"].split(", "))
            latest[fields["jobid"]] = (rule, {
                "mem_mb": int(resources["mem_mb"]),
                "runtime": int(resources["runtime"]),
                "cpus": int(fields.get("threads", 1)),
            })
        else:
            planned[slurm_id] = latest[jobid]
    return planned


@pytest.fixture(scope="module")
def small_config(tmp_path_factory):
    return write_yaml(tmp_path_factory.mktemp("config") / "small.yaml", SMALL)


@pytest.fixture(scope="module")
def local_run_started(small_config, data_mirror, tmp_path_factory):
    """``(directory, future)`` of the small configuration run locally, started in a thread
    before the SLURM run: that run spends most of its time waiting between status checks."""
    work = tmp_path_factory.mktemp("local_run")
    # the profile's thread counts, which the fit tables record
    threads = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())["set-threads"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield work, pool.submit(
            snakemake, work, "--cores", "2",
            "--set-threads", *(f"{rule}={n}" for rule, n in threads.items()),
            "--config", f"mirror={data_mirror}", configfiles=(TEST_CONFIG, small_config),
            timeout=900,
        )


@pytest.fixture(scope="module")
def slurm_run(slurm, small_config, data_mirror, tmp_path_factory, local_run_started):
    """The small configuration through the profile, keeping every SLURM job's log."""
    work = tmp_path_factory.mktemp("slurm_run")
    result = snakemake(
        work, "--workflow-profile", str(SLURM_PROFILE), *FAST_STATUS,
        "--slurm-keep-successful-logs", "--config", f"mirror={data_mirror}",
        configfiles=(TEST_CONFIG, small_config), env=slurm.env, timeout=900,
    )
    (work / "snakemake.out").write_text(result.output)  # for a look at a failure
    assert result.returncode == 0, result.output[-5000:]
    run_id = re.search(r"SLURM run ID: (\S+)", result.output).group(1)
    return work, result.output, slurm_jobs(slurm, run_id)


@pytest.fixture(scope="module")
def local_run(local_run_started):
    work, future = local_run_started
    result = future.result()
    assert result.returncode == 0, result.output[-5000:]
    return work


def test_every_non_local_job_ran_as_a_completed_slurm_job_with_its_log(slurm_run):
    work, output, jobs = slurm_run
    counts = job_counts(output)
    counts.pop("total")
    submitted_rules = {rule_of(comment) for _, comment in jobs.values()}
    assert submitted_rules == set(counts) - LOCAL_RULES
    assert len(jobs) == sum(n for rule, n in counts.items() if rule not in LOCAL_RULES) == 14
    assert {state for state, _ in jobs.values()} == {"COMPLETED"}
    # the local rules ran on the submitting host
    assert {r for r in LOCAL_RULES if f"localrule {r}:" in output} == set(counts) & LOCAL_RULES
    # one log per SLURM job, where docs/cluster.md says:
    # .snakemake/slurm_logs/rule_<rule>/<wildcards>/<job id>.log
    root = work / ".snakemake" / "slurm_logs"
    logs = {p.stem: p for p in root.rglob("*.log")}
    assert set(logs) == set(jobs)
    for job_id, (_, comment) in jobs.items():
        rule = rule_of(comment)
        assert logs[job_id].relative_to(root).parts[0] == f"rule_{rule}"
        assert f"Finished jobid: 0 (Rule: {rule})" in logs[job_id].read_text()


def test_per_rule_memory_time_and_cpus_reach_slurm(slurm, slurm_run):
    _, output, jobs = slurm_run
    planned = submissions(output)
    assert set(planned) == set(jobs)
    by_rule = {}
    for job_id, (rule, wanted) in planned.items():
        got = job_request(slurm, job_id)
        assert {k: got[k] for k in wanted} == wanted, (rule, job_id)
        by_rule.setdefault(rule, []).append(got)
    # the values themselves: the profile's set-resources and set-threads for fit, the config's
    # resources table for features
    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    fit_request = {"mem_mb": "6000 * attempt", "runtime": "60 * attempt"}
    assert profile["set-resources"]["fit"] == fit_request
    assert profile["set-threads"]["fit"] == 2
    fit = {"mem_mb": 6000, "runtime": 60, "cpus": 2, "state": "COMPLETED"}
    assert by_rule["fit"] == [fit] * len(SMALL["models"]["run"])
    assert by_rule["features"] == [{"mem_mb": 1234, "runtime": 7, "cpus": 1, "state": "COMPLETED"}]


def measured(column) -> bool:
    """A column of time or memory measured during the run, which differs between any two runs."""
    return column.endswith("seconds") or column == "max_rss_mb"


def test_results_equal_those_of_a_local_run(slurm_run, local_run):
    work, _, _ = slurm_run
    tables = sorted(p.relative_to(local_run) for p in (local_run / "results").rglob("*.csv"))
    assert sorted(p.relative_to(work) for p in (work / "results").rglob("*.csv")) == tables
    assert len(tables) >= 20  # predictions, evaluations, selection, tables, synthetic
    for name in tables:
        ours, local = pd.read_csv(work / name), pd.read_csv(local_run / name)
        assert list(ours.columns) == list(local.columns), name
        kept = [c for c in local.columns if not measured(c)]
        # as sets of rows: workflow_runtimes.csv is ordered by the measured times
        ours, local = (t[kept].sort_values(kept, ignore_index=True) for t in (ours, local))
        pd.testing.assert_frame_equal(ours, local, check_exact=True, obj=str(name))


RETRY_SNAKEFILE = """
rule flaky:
    output:
        "flaky.txt",
    shell:
        "test {resources.mem_mb} -ge 4000 && echo {resources.mem_mb} > {output}"
"""


def test_failed_job_is_resubmitted_with_scaled_resources(slurm, tmp_path):
    # the profile's default request, 2000 MB x attempt, is too small on the first attempt
    (tmp_path / "Snakefile").write_text(RETRY_SNAKEFILE)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(tmp_path / "Snakefile"),
         "--directory", str(tmp_path), "--workflow-profile", str(SLURM_PROFILE), *FAST_STATUS],
        capture_output=True, text=True, env=slurm.env, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert (tmp_path / "flaky.txt").read_text() == "4000\n"
    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
    jobs = sorted(slurm_jobs(slurm, run_id), key=int)
    requests = [job_request(slurm, job_id) for job_id in jobs]
    assert requests == [
        {"mem_mb": 2000, "runtime": 30, "cpus": 1, "state": "FAILED"},
        {"mem_mb": 4000, "runtime": 60, "cpus": 1, "state": "COMPLETED"},
    ]
    # the failed attempt's SLURM log is kept, the successful one's removed
    logs = (tmp_path / ".snakemake" / "slurm_logs" / "rule_flaky").rglob("*.log")
    assert sorted(p.stem for p in logs) == [jobs[0]]
