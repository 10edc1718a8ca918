"""What a task may change inside its container: orch's hardened default, and what @sandbox gives back."""

import os

from orchestrator import FlowSpec, sandbox, step


def _writable(path):
    probe = os.path.join(path, ".orch-probe-%d" % os.getpid())
    try:
        with open(probe, "w") as handle:
            handle.write("x")
        os.remove(probe)
        return True
    except OSError:
        return False


def _status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return ""


def _facts():
    places = ("/", "/usr/local", "/opt", "/etc", "/tmp", os.environ["HOME"])
    return {
        "uid": os.getuid(),
        "home": os.environ["HOME"],
        "writable": {path: _writable(path) for path in places},
        "no_new_privs": _status("NoNewPrivs"),
        "cap_eff": int(_status("CapEff"), 16),
        "cap_bnd": int(_status("CapBnd"), 16),
    }


class HardeningFlow(FlowSpec):
    @step
    def start(self):
        self.default = _facts()
        self.next(self.relaxed)

    @sandbox(writable_root=True, capabilities=["chown"])
    @step
    def relaxed(self):
        self.relaxed_facts = _facts()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HardeningFlow()
