"""A throwaway single-node SLURM cluster (munge + slurmctld + slurmd) for integration tests.

Everything the daemons write (munge key and socket, state, spool, logs, pid files) lives under one
temporary folder. The only file placed outside it is ``/etc/slurm/slurm.conf`` (marked, removed on
stop): job steps started by snakemake-executor-plugin-slurm-jobstep run with the SLURM_* variables
stripped (SLURM_CONF included), so a nested ``srun`` reads the default configuration path.

Set-up follows ../../shared/NOTES.md ("Local SLURM"): Debian slurm-wlm + munge installed with a
temporary ``/usr/sbin/policy-rc.d`` that exits 101, no systemd, no cgroups (proctrack/linuxproc,
task/none), select/cons_tres with CR_Core, no accounting. The daemons run in the foreground as
children of this process, so they are reaped here; liveness is read from /proc (State Z = gone)
because PID 1 of this container does not reap orphans.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger("layerlab.tests.slurm")

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")
BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "srun", "sinfo", "scancel")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
POLICY_RC = Path("/usr/sbin/policy-rc.d")
LOCK = Path(tempfile.gettempdir()) / "layerlab-slurm-cluster.lock"  # one test cluster at a time
MARKER = "# layerlab-test-cluster: written by tests/integration/slurm_cluster.py, removed on stop"
STATES_UP = {"idle", "mix", "alloc", "completing"}


class ForeignSlurmConfig(RuntimeError):
    """This machine has its own /etc/slurm/slurm.conf (a real SLURM installation)."""


def missing_binaries() -> list[str]:
    """Names of the SLURM/munge programs not found on PATH (sbin included)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [b for b in BINARIES if shutil.which(b, path=path) is None]


def _apt_install(packages: tuple[str, ...]) -> None:
    """Install Debian packages without starting their services (temporary policy-rc.d)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    made_policy = not POLICY_RC.exists()
    if made_policy:
        POLICY_RC.write_text("#!/bin/sh\n# temporary: keep postinst from starting services\nexit 101\n")
        POLICY_RC.chmod(0o755)
    try:
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:  # stale or absent package lists: update once and retry
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"apt-get install {' '.join(packages)} failed:\n{res.stderr[-3000:]}")
    finally:
        if made_policy:
            POLICY_RC.unlink(missing_ok=True)


def ensure_slurm() -> str | None:
    """Install slurm-wlm + munge where missing; return a skip reason where that is impossible.

    Root is needed in any case: slurmd runs jobs as their users and the cluster writes
    /etc/slurm/slurm.conf.
    """
    missing = missing_binaries()
    if os.geteuid() != 0:
        return "a local SLURM cluster needs root (slurmd, /etc/slurm/slurm.conf)" + (
            f"; missing programs: {', '.join(missing)}" if missing else "")
    if not missing:
        return None
    if shutil.which("apt-get") is None:
        return f"SLURM programs missing ({', '.join(missing)}) and no apt-get to install them"
    _apt_install(PACKAGES)
    still = missing_binaries()
    if still:
        raise RuntimeError(f"after apt-get install, still missing: {', '.join(still)}")
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _real_memory_mb(fraction: float = 0.9) -> int:
    """``fraction`` of the physical memory in MB (SLURM's RealMemory)."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(int(line.split()[1]) / 1024 * fraction)
    raise RuntimeError("MemTotal not found in /proc/meminfo")


def process_alive(pid: int) -> bool:
    """True while /proc/PID exists and is not a zombie (kill -0 succeeds on zombies)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    for line in status.splitlines():
        if line.startswith("State:"):
            return "Z" not in line.split()[1]
    return False


class LocalSlurmCluster:
    """One controller + one compute node on this machine, all state under a temporary folder.

    Parameters
    ----------
    cpus
        CPUs of the node (default: ``os.cpu_count()``).
    mpi_default
        Slurm's ``MpiDefault``. Not "pmix": Debian's mpi/pmix plugin needs libpmix, without
        it every plain ``srun`` (the jobstep plugin's ``srun -n1`` included) fails. With "none"
        a plain ``srun -n 2`` gives two size-1 MPICH worlds, so the 2-rank check in the test
        proves that the profile's ``srun --mpi=pmi2`` is what joins the ranks.
    """

    def __init__(self, cpus: int | None = None, mpi_default: str = "none") -> None:
        self.cpus = cpus or os.cpu_count() or 1
        self.mpi_default = mpi_default
        self.host = socket.gethostname().split(".")[0]
        self.root: Path | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self._wrote_system_conf = False
        self._lock = None

    # -- configuration ---------------------------------------------------------------------------
    @property
    def conf_path(self) -> Path:
        assert self.root is not None
        return self.root / "slurm.conf"

    @property
    def munge_socket(self) -> Path:
        assert self.root is not None
        return self.root / "munge-run" / "munge.socket.2"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for SLURM clients (sbatch, squeue, snakemake) talking to this cluster."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf_path)
        for var in [v for v in env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_"))]:
            if var != "SLURM_CONF":
                env.pop(var)
        return env

    def slurm_conf(self, ctld_port: int, slurmd_port: int) -> str:
        """Text of slurm.conf for a single node."""
        r = self.root
        return "\n".join([
            MARKER,
            "ClusterName=layerlab",
            f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={r}/state",
            f"SlurmdSpoolDir={r}/spool",
            f"SlurmctldPidFile={r}/slurmctld.pid",
            f"SlurmdPidFile={r}/slurmd.pid",
            f"SlurmctldLogFile={r}/log/slurmctld.log",
            f"SlurmdLogFile={r}/log/slurmd.log",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            f"MpiDefault={self.mpi_default}",
            "ReturnToService=2",
            "MinJobAge=600",  # squeue (the plugin's status command) must still see finished jobs
            "KillWait=5",
            "InactiveLimit=0",
            "SchedulerType=sched/backfill",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={_real_memory_mb()} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            "",
        ])

    # -- life cycle ------------------------------------------------------------------------------
    def start(self, timeout_s: float = 60.0) -> "LocalSlurmCluster":
        """Write the configuration, start munged, slurmctld, slurmd; wait until the node is idle."""
        self._acquire_lock(timeout_s=300)
        try:
            if SYSTEM_CONF.exists() and MARKER not in SYSTEM_CONF.read_text():
                raise ForeignSlurmConfig(f"{SYSTEM_CONF} belongs to a real SLURM set-up; "
                                         "the test cluster does not replace it")
            self.root = Path(tempfile.mkdtemp(prefix="llslurm-"))
            self._start(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _acquire_lock(self, timeout_s: float) -> None:
        """Wait for other test sessions' clusters (they share /etc/slurm/slurm.conf) to stop."""
        self._lock = open(LOCK, "a")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._lock.close()
                    self._lock = None
                    raise TimeoutError(f"another test cluster holds {LOCK} for {timeout_s} s")
                time.sleep(1.0)

    def _start(self, timeout_s: float) -> None:
        r = self.root
        assert r is not None
        r.chmod(0o755)  # munged wants execute permission for all on the socket's folders
        for sub, mode in (("munge-run", 0o755), ("munge-etc", 0o700), ("state", 0o755),
                          ("spool", 0o755), ("log", 0o755)):
            (r / sub).mkdir(mode=mode)
            (r / sub).chmod(mode)
        key = r / "munge-etc" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        text = self.slurm_conf(_free_port(), _free_port())
        self.conf_path.write_text(text)
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.write_text(text)
        self._wrote_system_conf = True
        env = self.env()

        self._spawn("munged", ["munged", "-F", f"--socket={self.munge_socket}",
                               f"--key-file={key}", f"--pid-file={r}/munge-run/munged.pid",
                               f"--seed-file={r}/munge-etc/munged.seed",
                               f"--log-file={r}/log/munged.log"], env)
        self._wait(lambda: self.munge_socket.exists(), timeout_s, "munged socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf_path)], env)
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf_path)], env)
        self._wait(self._node_up, timeout_s, "node idle in sinfo")
        log.info("SLURM cluster up under %s (node %s, %d CPUs)", r, self.host, self.cpus)

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        assert self.root is not None
        out = open(self.root / "log" / f"{name}.out", "wb")
        exe = shutil.which(cmd[0], path=env.get("PATH", "") + ":/usr/sbin:/sbin")
        self.procs[name] = subprocess.Popen([exe or cmd[0], *cmd[1:]], stdout=out,
                                            stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        out.close()

    def _wait(self, ready, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if not process_alive(p.pid) or p.poll() is not None:
                    raise RuntimeError(f"{name} exited while waiting for {what}:\n{self.logs()}")
            if ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}:\n{self.logs()}")

    def _node_up(self) -> bool:
        res = self.run(["sinfo", "-h", "-N", "-o", "%T"], check=False, timeout_s=5)
        states = {s.strip().rstrip("*~#").lower() for s in res.stdout.split()}
        return res.returncode == 0 and bool(states) and states <= STATES_UP

    def run(self, cmd: list[str], check: bool = True, timeout_s: float = 30) -> subprocess.CompletedProcess:
        """Run a SLURM client command against this cluster (wrapped in a timeout)."""
        try:
            return subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                                  check=check, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            if check:
                raise
            return subprocess.CompletedProcess(cmd, 124, exc.stdout or "", exc.stderr or "")

    def logs(self, tail_chars: int = 3000) -> str:
        """The tail of every daemon log, for failure messages."""
        if self.root is None or not (self.root / "log").exists():
            return ""
        parts = []
        for f in sorted((self.root / "log").iterdir()):
            parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-tail_chars:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel jobs, stop the daemons (reaping them), remove all state and the system conf."""
        if self.procs.get("slurmctld") is not None and self.procs["slurmctld"].poll() is None:
            self.run(["scancel", "--full", "--user", "root"], check=False, timeout_s=10)
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.pop(name, None)
            if p is None:
                continue
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:  # slurmctld may linger after SIGTERM
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
        if self._wrote_system_conf and SYSTEM_CONF.exists() and MARKER in SYSTEM_CONF.read_text():
            SYSTEM_CONF.unlink()
        self._wrote_system_conf = False
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        if self._lock is not None:
            LOCK.unlink(missing_ok=True)
            self._lock.close()  # releases the flock
            self._lock = None

    def __enter__(self) -> "LocalSlurmCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
