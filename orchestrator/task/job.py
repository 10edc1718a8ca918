"""Inside a job on a cluster (AWS Batch, Slurm): find this job's task, fetch the code, run it, get its logs out.

A job carries no task data of its own, only where to find it: the store
(``ORCH_STORE``) and a key in it holding the TaskSpecs of the job, one per
array index. The code package comes from the content-addressed store,
hash-verified, and the task runs as a child process so its logs survive it:
they are mirrored to the job's own stdout/stderr as they grow (the cluster
keeps them) and uploaded to the store even when the child is killed (out of
memory, terminated). Each backend's entry says where its key and index are.
Standard library only, plus the runtime layer's boto3 through the S3 store.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import traceback
from dataclasses import replace
from typing import Callable, Iterable, List, Mapping, Tuple

from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import log_key
from .codepkg import extract_package
from .spec import TaskSpec
from .supervise import kill_reason, oom_kills

MIRROR_SECONDS = 0.5
OOM_NOTE = "orch: the task was killed: out of memory"  # the job's stderr says so; executors look for it


def job_spec(backend: Backend, key: str, index: int) -> TaskSpec:
    specs = json.loads(bytes(backend.get(key)))
    if not 0 <= index < len(specs):
        raise SystemExit("orch: array index %d is outside the job's %d tasks (%s)" % (index, len(specs), key))
    return TaskSpec.from_json(json.dumps(specs[index]))


def fetch_code(backend: Backend, code_key: str) -> str:
    """Download and unpack the run's code package (hash-verified) once per container."""
    target = os.path.join(tempfile.gettempdir(), "orch-code", code_key)
    if not os.path.isdir(target):
        package = ContentAddressedStore(backend).load_blob(code_key, "the run's code package")
        extract_package(bytes(package), target)
    return target


class _Mirror:
    """Copies what the task appends to its log files onto this process's fd 1 and 2, as it grows."""

    def __init__(self, pairs: List[Tuple[str, int]]) -> None:
        self.pairs = pairs
        self.offsets = {path: 0 for path, _ in pairs}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        for path, fd in self.pairs:
            try:
                with open(path, "rb") as handle:
                    handle.seek(self.offsets[path])
                    data = handle.read()
            except FileNotFoundError:
                continue
            if data:
                self.offsets[path] += len(data)
                os.write(fd, data)

    def _loop(self) -> None:
        while not self.done.wait(MIRROR_SECONDS):
            self._copy()

    def finish(self) -> None:
        self.done.set()
        self.thread.join()
        self._copy()


def _upload_missing_logs(backend: Backend, spec: TaskSpec, paths: Tuple[str, str]) -> None:
    """The runner uploads its logs as it commits; a killed runner did not, so do it here."""
    for stream, path in zip(("stdout", "stderr"), paths):
        key = log_key(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt, stream)
        if os.path.exists(path) and not backend.exists(key):
            with open(path, "rb") as handle:
                backend.put(key, [handle.read()])


def _aws_secrets(spec: TaskSpec, environ: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    from ..authoring.secret_sources import SecretSource, fetch

    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    sources = [SecretSource.from_json(s) for s in spec.secret_sources]
    return tuple(sorted(fetch(sources, region, environ.get("AWS_ENDPOINT_URL")).items()))


def _fork_task(spec: TaskSpec, env: Mapping[str, str]) -> int:
    """The task in a child process of its own (an OOM kill takes it, not this process, which then says
    why and saves its logs), forked rather than started: the interpreter and orch's imports are
    already here, which is most of a short task's start. Forked before any thread starts."""
    from .runner import run_task

    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(env)
        code = run_task(spec)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return 0  # not reached


def _wait(pid: int) -> int:
    """The child's exit code, or minus the signal that killed it (as subprocess reports it)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def run_job(specs_key: str, index: int, environ: Mapping[str, str], private: Iterable[str] = ()) -> int:
    """Run task ``index`` of the job whose specs are at ``specs_key``; returns the exit code for the job.
    ``private``: variables of the job that the task is not given."""
    return run_found(lambda backend: job_spec(backend, specs_key, index), environ, private)


def run_found(find: Callable[[Backend], TaskSpec], environ: Mapping[str, str], private: Iterable[str] = ()) -> int:
    """Run the task ``find`` reads from the store (``ORCH_STORE``); returns the exit code for the job.
    Signal handlers are set before anything else, so a job stopped while it starts ends cleanly."""
    children: List[int] = []

    def forward(signum: int, _frame: object) -> None:
        """The cluster stops a job with SIGTERM: pass it on to the task, or end now if it has not started
        (in a container this process is PID 1, which the kernel spares from signals it has no handler for)."""
        if not children:
            raise SystemExit(128 + signum)
        try:
            os.kill(children[0], signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    backend = open_backend(environ["ORCH_STORE"])
    spec = find(backend)
    code_dir = fetch_code(backend, spec.code_key or "")
    spec = replace(spec, code_dir=code_dir, log_dir=os.path.join(tempfile.gettempdir(), "orch-logs"))
    paths = spec.log_files(backend)
    if spec.secret_sources:  # @secrets from AWS Secrets Manager: read here, handed to the task on stdin only
        try:
            spec = replace(spec, env=spec.env + _aws_secrets(spec, environ))
        except Exception as exc:  # the task's own log says why it never started
            os.makedirs(os.path.dirname(paths[1]), exist_ok=True)
            with open(paths[1], "a") as handle:
                handle.write("orch: reading @secrets failed: %s\n" % (getattr(exc, "headline", None) or exc))
            _upload_missing_logs(backend, spec, paths)
            return 1
    hidden = set(private)
    env = {k: v for k, v in environ.items() if k not in hidden}
    kills_before = oom_kills()
    children.append(_fork_task(spec, env))
    mirror = _Mirror([(paths[0], 1), (paths[1], 2)])
    code = _wait(children[0])
    if code < 0 and kill_reason(-code, kills_before, oom_kills()) == "oom":
        with open(paths[1], "a") as handle:  # the job's own log says why; the cluster only sees exit 137
            handle.write("\n%s (the job's memory limit)\n" % OOM_NOTE)
    mirror.finish()
    _upload_missing_logs(backend, spec, paths)
    return code if code >= 0 else 128 - code  # killed by signal N: exit 128+N, as a shell reports it
