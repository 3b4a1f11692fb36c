"""A throw-away single-node SLURM for the cluster tests: a private munged, slurmctld and slurmd,
all as root on the loopback interface, with state, spool, logs and sockets under one directory.

The configuration goes to /etc/slurm/slurm.conf, which must not exist yet, and is removed at the
end: ``SLURM_CONF`` alone is not enough, because the executor plugin's job step strips every
``SLURM_*`` variable before its nested ``srun``, which then finds no configuration.

Every daemon runs in the foreground as a child of this process, so it is stopped by the PID it
was started with.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

TEMPLATE = Path(__file__).with_name("slurm") / "slurm.conf.in"
BINARIES = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scontrol", "scancel")
# enough for the profile's largest request (6000 MB) at its last retry (x3)
NODE_MEM_MB = 20000
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    """Start with :meth:`start`, stop with :meth:`stop`; ``env`` is the environment for clients."""

    def __init__(self, root: Path, conf: Path = SYSTEM_CONF):
        self.root = Path(root)
        self.conf = Path(conf)
        self.host = socket.gethostname().split(".")[0]
        self.cpus = max(os.cpu_count() or 1, 2)  # the profile's fit jobs ask for two CPUs
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self._processes: list[subprocess.Popen] = []
        self._written = None  # the configuration text this object wrote, removed by stop()

    def start(self, timeout: float = 60):
        if self.conf.exists():
            raise RuntimeError(f"{self.conf} exists: refusing to replace a SLURM configuration")
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        fields = {
            "@HOST@": self.host, "@DIR@": str(self.root), "@CPUS@": str(self.cpus),
            "@MEM_MB@": str(NODE_MEM_MB), "@CTLD_PORT@": str(_free_port()),
            "@SLURMD_PORT@": str(_free_port()),
        }
        text = TEMPLATE.read_text()
        for field, value in fields.items():
            text = text.replace(field, value)
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(text)
        self._written = text
        munged = [
            "munged", "--foreground", "--force", f"--socket={self.root / 'munge.socket'}",
            f"--key-file={key}", f"--pid-file={self.root / 'munged.pid'}",
            f"--log-file={self.root / 'munged.log'}", f"--seed-file={self.root / 'munged.seed'}",
        ]
        self._spawn(munged)
        self._wait(lambda: (self.root / "munge.socket").exists(), timeout, "munged socket")
        self._spawn(["slurmctld", "-D", "-f", str(self.conf)])
        self._spawn(["slurmd", "-D", "-f", str(self.conf), "-N", self.host])
        self._wait(self._node_idle, timeout, f"node {self.host} idle in sinfo")

    def _spawn(self, command):
        log = open(self.root / f"{command[0]}.out", "w")
        self._processes.append(
            subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        )
        log.close()

    def _node_idle(self) -> bool:
        out = self.run("sinfo", "--noheader", "--format=%t", check=False).stdout
        return out.strip() == "idle"

    def _wait(self, ready, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{process.args[0]} exited with {process.returncode} while waiting "
                        f"for {what}; see {self.root}/*.log and *.out"
                    )
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}; see {self.root}")

    def run(self, *command, check=True) -> subprocess.CompletedProcess:
        """A SLURM client command against this cluster."""
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, check=check, timeout=30
        )

    def stop(self):
        """Cancel what is left, then stop the daemons in reverse order of start."""
        if len(self._processes) == 3 and all(p.poll() is None for p in self._processes):
            # jobs' slurmstepd processes outlive a stopped slurmd: let SLURM end them first
            self.run("scancel", "--full", "--partition=main", check=False)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.run(
                "squeue", "--noheader", "--states=RUNNING,COMPLETING", check=False
            ).stdout.strip():
                time.sleep(0.5)
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()
        if self._written is not None and self.conf.is_file():
            if self.conf.read_text() == self._written:
                self.conf.unlink()
        self._written = None
