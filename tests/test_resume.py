"""Interrupted runs finish with the same command, to the tables of an uninterrupted run.

Each fault test starts a small run (one dataset, one split, one model of
config/test.yaml) from prepared data, interrupts it while its fit job runs, and
runs exactly the same command again: it must finish, with tables byte-identical
to those of an uninterrupted run (all but the table of fit times, which holds
wall-clock times), and no job may outlive its driver. docs/faults.md lists these
probes; ``test_faults_table_is_current`` keeps it in step with this file.

Every run is started under umask 0022, as on a shared machine, and the outputs
must be readable by the group and others.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIG = REPO / "config" / "test.yaml"
SMALL = {
    "datasets": ["guo_yeast"],
    "splits": ["random"],
    "models": {"run": ["logreg"], "reference": "logreg"},
    "selection": {"enabled": False},
    "synthetic": {"enabled": False},
}
TARGET = "results/tables/ppi_metrics.csv"
PREPARED = ["resources/guo_yeast/features.npz", "resources/guo_yeast/splits/random.tsv"]
TIMED = {"ppi_fit_times.csv"}  # wall-clock seconds differ between any two runs


def _umask_0022():
    os.umask(0o022)


def command(workdir, config, mirror, *targets):
    """The run as a user types it (here with --directory and a target), started
    from pytest's directory so that a relative mirror is passed on unchanged.

    With Snakemake's own scheduling timespan: the profile's (one minute) lets a run whose
    job failed exit only at the scheduler's next look, up to a minute later, in every probe.
    """
    return [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--cores", "2",
        "--max-jobs-per-timespan", "100/1s",
        "--configfile", str(TEST_CONFIG), str(config),
        "--config", f"mirror={mirror}",
        "--", *targets,
    ]


def run(argv, timeout=900):
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, preexec_fn=_umask_0022
    )
    result.output = result.stdout + result.stderr
    return result


def tables(workdir):
    folder = workdir / "results" / "tables"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name not in TIMED}


@pytest.fixture(scope="module")
def small_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    return path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, small_config, data_mirror):
    """A working directory with the data downloaded, featurised and cut into folds."""
    work = tmp_path_factory.mktemp("prepared") / "work"
    result = run(command(work, small_config, data_mirror, *PREPARED))
    assert result.returncode == 0, result.output[-3000:]
    return work


def copy_of(prepared, dest):
    shutil.copytree(prepared, dest, symlinks=True)  # copy2: the mtimes are kept
    shutil.rmtree(dest / ".snakemake" / "log", ignore_errors=True)
    return dest


@pytest.fixture(scope="module")
def reference(prepared, tmp_path_factory, small_config, data_mirror):
    """The tables of an uninterrupted run, and its working directory."""
    work = copy_of(prepared, tmp_path_factory.mktemp("reference") / "work")
    result = run(command(work, small_config, data_mirror, TARGET))
    assert result.returncode == 0, result.output[-3000:]
    return tables(work), work


@pytest.mark.data
def test_outputs_are_readable_by_group_and_others(reference):
    _, work = reference
    files = [p for d in ("results", "resources") for p in (work / d).rglob("*") if p.is_file()]
    assert any(p.suffix == ".csv" for p in files)
    assert any("raw" in p.parts for p in files)  # the download cache, usable as a mirror
    unreadable = [str(p) for p in files if p.stat().st_mode & 0o044 != 0o044]
    assert not unreadable


def job_processes(workdir):
    """Live processes running a script of this working directory."""
    marker = f"{workdir}{os.sep}"
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.pid != os.getpid() and any(marker in part for part in cmdline):
            found.append(process)
    return found


def start_and_wait_for_fit(argv, log, background=False):
    """Start the driver in its own process group; return it and its running fit job.

    The driver gets SIGINT as a terminal gives it, whatever pytest inherited (started
    with ``&`` from a script, pytest itself ignores SIGINT); ``background=True`` starts
    it as such a script would, with SIGINT ignored."""
    sigint = signal.SIG_IGN if background else signal.SIG_DFL

    def prepare():
        _umask_0022()
        signal.signal(signal.SIGINT, sigint)

    driver = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=prepare,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert driver.poll() is None, "the run ended before its fit job started"
        try:
            for child in psutil.Process(driver.pid).children(recursive=True):
                if any(part.endswith("fit.py") for part in child.cmdline()):
                    return driver, child
        except psutil.Error:
            pass
        time.sleep(0.02)
    driver.kill()
    raise AssertionError("no fit job started within 600 s")


def no_orphans(workdir, within=30.0):
    deadline = time.monotonic() + within
    while job_processes(workdir) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not job_processes(workdir)


def _sigkill_driver(driver, job, work, argv):
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    # what used to stop the next run: a lock and incomplete outputs, left behind
    assert (work / ".snakemake" / "locks").exists()
    # the job, killed while it was starting, stopped instead of writing as an orphan
    assert no_orphans(work)
    assert not list((work / "results").rglob("*.csv"))


def _sigint_driver(driver, job, work, argv):
    driver.send_signal(signal.SIGINT)


def _sigint_group(driver, job, work, argv):
    os.killpg(driver.pid, signal.SIGINT)  # Ctrl-C in a terminal


def _sigterm_driver(driver, job, work, argv):
    # while the run is alive its lock holds: a second run in the directory is refused. The
    # driver is held meanwhile: on a loaded machine the second run's start can take longer
    # than the rest of the first run, which would then finish and release its lock.
    driver.send_signal(signal.SIGSTOP)
    try:
        second = run(argv)
    finally:
        driver.send_signal(signal.SIGTERM)  # pending until the driver continues
        driver.send_signal(signal.SIGCONT)
    assert second.returncode != 0 and "LockException" in second.output, second.output[-2000:]


def _oom_kill_job(driver, job, work, argv):
    job.send_signal(signal.SIGKILL)  # what the kernel's OOM killer sends


# name -> (fault, what is done, what is expected)
FAULTS = {
    "sigkill_driver": (
        _sigkill_driver,
        "SIGKILL to the snakemake process while a fit job runs",
        "the fit job stops within seconds; the same command removes the stale lock, reruns "
        "the cut-off job and gives the same tables",
    ),
    "sigkill_background_driver": (
        _sigkill_driver,
        "SIGKILL to a snakemake process started in the background of a script (`snakemake "
        "... &`, which starts it with SIGINT ignored) while a fit job runs",
        "as above: the job's stop does not rely on SIGINT",
    ),
    "sigint_driver": (
        _sigint_driver,
        "SIGINT to the snakemake process alone while a fit job runs",
        "the same command reruns the cancelled job and gives the same tables",
    ),
    "sigint_group": (
        _sigint_group,
        "SIGINT to the process group (Ctrl-C) while a fit job runs",
        "the same command reruns the cancelled job and gives the same tables",
    ),
    "sigterm_driver": (
        _sigterm_driver,
        "a second run in the same directory while the snakemake process is held (SIGSTOP), "
        "then SIGTERM to it",
        "the second run is refused while the first lives (LockException); the same "
        "command then finishes the run with the same tables",
    ),
    "oom_kill_job": (
        _oom_kill_job,
        "SIGKILL to the fit job, as the OOM killer does",
        "the run fails naming the job; the same command reruns it and gives the same tables",
    ),
}
FULL_DISK = (
    "the working directory's file system fills up while a fit job runs",
    "the run fails; once space is freed, the same command finishes it with the same tables",
)


def assert_resumes(work, argv, expected):
    assert no_orphans(work), [p.cmdline() for p in job_processes(work)]
    again = run(argv)
    assert again.returncode == 0, again.output[-3000:]
    assert tables(work) == expected


@pytest.mark.data
@pytest.mark.parametrize("fault", list(FAULTS))
def test_resume_after(fault, prepared, reference, small_config, data_mirror, tmp_path):
    work = copy_of(prepared, tmp_path / "work")
    argv = command(work, small_config, data_mirror, TARGET)
    with open(tmp_path / "interrupted.log", "w") as log:
        driver, job = start_and_wait_for_fit(argv, log, background="background" in fault)
        FAULTS[fault][0](driver, job, work, argv)
        driver.wait(timeout=600)
    assert not (work / TARGET).exists()  # the fault did interrupt the run
    assert_resumes(work, argv, reference[0])


@pytest.mark.data
def test_resume_after_full_disk(tmpfs, prepared, reference, small_config, data_mirror):
    used = sum(p.stat().st_size for p in prepared.rglob("*") if p.is_file())
    disk = tmpfs("disk", size_kb=used // 1024 + 16 * 1024)
    work = copy_of(prepared, disk / "work")
    argv = command(work, small_config, data_mirror, TARGET)
    ballast = disk / "ballast"
    with open(disk.parent / "interrupted.log", "w") as log:
        driver, _ = start_and_wait_for_fit(argv, log)
        with open(ballast, "wb", buffering=0) as fill:
            try:
                while True:
                    fill.write(b"\0" * (1 << 16))
            except OSError:  # ENOSPC: the disk is full
                pass
        driver.wait(timeout=600)
    assert driver.returncode != 0
    assert not (work / TARGET).exists()
    ballast.unlink()
    assert_resumes(work, argv, reference[0])


def faults_table() -> str:
    """The table of docs/faults.md, from the probes of this file."""
    rows = [(f"`test_resume_after[{name}]`", done, expected)
            for name, (_, done, expected) in FAULTS.items()]
    rows.append(("`test_resume_after_full_disk`", *FULL_DISK))
    lines = ["| probe | what is done | expected and observed |", "|---|---|---|"]
    lines += [f"| {probe} | {done} | {expected} |" for probe, done, expected in rows]
    return "\n".join(lines) + "\n"


def test_faults_table_is_current():
    probes = {name for name in globals() if name.startswith("test_resume_after")}
    assert probes == {"test_resume_after", "test_resume_after_full_disk"}
    text = (REPO / "docs" / "faults.md").read_text(encoding="utf-8")
    assert faults_table() in text, (
        "docs/faults.md is out of date; regenerate its table with "
        "python -c 'import tests.test_resume as t; print(t.faults_table())'"
    )


if __name__ == "__main__":
    print(faults_table(), end="")
