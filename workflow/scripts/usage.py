"""A job's own CPU time and peak memory, logged as the last line of its log.

A helper module of the workflow scripts (imported as ``usage``), not a script itself.

Snakemake's benchmark files do not hold a job's CPU time: Snakemake 9 samples the job's
processes every 0.5 s for the first 15 s, then every 30 s, and takes no sample when the job
ends, so up to the last 30 s of a job's CPU are missing (``docs/performance.md`` measures
it on the default run). Memory is sampled the same way. A job therefore measures itself
when it ends, from the kernel's own accounts; what it misses is the interpreter's exit
after the line, a few tenths of a second.
"""

import json
import math
import re
import resource
from pathlib import Path

PREFIX = "usage: "
_LINE = re.compile(re.escape(PREFIX) + r"(\{.*\})\s*$")


def peak_rss_mb() -> float:
    """The high-water mark of this process's resident memory (MB), NaN where the system
    does not report it (``/proc`` is Linux's).

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across fork and exec,
    so a job started by the Snakemake driver would report at least the driver's memory.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return math.nan
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return math.nan


def measure() -> dict:
    """This process's usage so far: ``cpu_seconds`` (user and system time of the process
    and of the child processes it has waited for) and ``peak_rss_mb``."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return {"cpu_seconds": round(cpu, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}


def line(values: dict) -> str:
    """The log line of :func:`measure`'s ``values``."""
    return PREFIX + json.dumps(values, sort_keys=True)


def from_log(path) -> dict | None:
    """The last usage line of the log at ``path``, or None if it has none (a job killed
    before it could write one, or a log from before jobs measured themselves)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    found = None
    for log_line in text.splitlines():
        match = _LINE.search(log_line)
        if match:
            found = json.loads(match.group(1))
    return found
