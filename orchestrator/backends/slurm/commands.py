"""The Slurm commands orch runs (sbatch, squeue, scancel): the one place a process is started for Slurm.

Every call is counted, so a run's record says how many it made, and retried
with backoff when the controller is busy or briefly unreachable, as Slurm's
own tools advise. ``squeue`` is asked once for every job of the user: one
process per poll, however many tasks a run has.
"""

from __future__ import annotations

import getpass
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

# What Slurm prints when the controller is busy or restarting: worth another try, not an error.
TRANSIENT = (
    "Socket timed out",
    "Unable to contact slurm controller",
    "Resource temporarily unavailable",
    "Slurm temporarily unable to accept job",
    "Zero Bytes were transmitted or received",
    "Connection refused",
)
ENDED = frozenset(
    "COMPLETED FAILED CANCELLED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED BOOT_FAIL DEADLINE SPECIAL_EXIT".split()
)
_FIELDS = "%i|%T|%r|%N|%P|%k"


class SlurmError(Exception):
    """A Slurm command failed: its name, exit code and what it printed."""


@dataclass(frozen=True)
class JobState:
    """One line of ``squeue``: a job, or one task of a job array (``ARRAYJOBID_INDEX``)."""

    job_id: str
    state: str  # PENDING, RUNNING, COMPLETED, TIMEOUT, OUT_OF_MEMORY...
    reason: str = ""
    node: str = ""
    partition: str = ""
    comment: str = ""

    @property
    def ended(self) -> bool:
        return self.state in ENDED


def parse_queue(text: str) -> Dict[str, JobState]:
    """``squeue -h -r -o '%i|%T|%r|%N|%P|%k'`` → job id → its state."""
    found = {}
    for line in text.splitlines():
        parts = line.strip().split("|", 5)
        if len(parts) == 6 and parts[0]:
            comment = "" if parts[5] == "(null)" else parts[5]
            reason = "" if parts[2] == "None" else parts[2]
            found[parts[0]] = JobState(parts[0], parts[1], reason, parts[3], parts[4], comment)
    return found


Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)


class SlurmCommands:
    """sbatch, squeue and scancel, retried while the controller is busy, and counted."""

    def __init__(self, runner: Runner = _run, tries: int = 6, users: Tuple[str, ...] = ()) -> None:
        """``users``: whose jobs ``queue`` lists; by default this process's user."""
        self.runner = runner
        self.tries = tries
        self.users = users or (getpass.getuser(),)
        self.calls: Counter = Counter()
        self._lock = threading.Lock()

    def _call(self, argv: Sequence[str], ok_codes: Iterable[int] = (0,)) -> str:
        delay = 0.5
        for attempt in range(self.tries):
            with self._lock:
                self.calls[argv[0]] += 1
            try:
                done = self.runner(argv)
            except FileNotFoundError:
                raise SlurmError("%s is not installed on this machine (it runs on a Slurm login node)." % argv[0])
            except subprocess.TimeoutExpired:
                done = subprocess.CompletedProcess(argv, 1, "", "Socket timed out (no answer in 120 s)")
            if done.returncode in ok_codes:
                return done.stdout
            said = (done.stderr or done.stdout).strip()
            if attempt + 1 < self.tries and any(mark in said for mark in TRANSIENT):
                time.sleep(delay)
                delay = min(10.0, delay * 2)
                continue
            raise SlurmError(
                "%s failed (exit %d): %s" % (argv[0], done.returncode, said.splitlines()[-1] if said else "")
            )
        raise AssertionError("unreachable")

    def submit(self, script: str) -> str:
        """``sbatch --parsable SCRIPT`` → the job id (its options are the script's #SBATCH lines)."""
        out = self._call(["sbatch", "--parsable", script]).strip()
        job_id = out.split(";", 1)[0]
        if not job_id.isdigit():
            raise SlurmError("sbatch printed no job id: %r" % out)
        return job_id

    def queue(self) -> Dict[str, JobState]:
        """Every job of ``users`` that the controller still knows, array tasks one per line."""
        argv = ["squeue", "-h", "-r", "--states=all", "-u", ",".join(self.users), "-o", _FIELDS]
        return parse_queue(self._call(argv))

    def cancel(self, job_ids: List[str], signal: Optional[str] = None) -> None:
        """``scancel`` these jobs (or array tasks); ones already ended are no error."""
        if not job_ids:
            return
        argv = ["scancel"] + (["--signal", signal] if signal else []) + list(job_ids)
        try:
            self._call(argv, ok_codes=(0, 1))  # 1: some id is no longer known, which is what we wanted
        except SlurmError:
            pass

    def answers(self) -> bool:
        try:
            self._call(["sinfo", "-h", "-o", "%P"])
            return True
        except SlurmError:
            return False

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self.calls)
