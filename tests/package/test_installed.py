"""The installed command, as a new user meets it: the wheel in a fresh venv, flows in a folder outside the checkout.

Every command runs from ``make dist``'s venv with a clean environment (no
PYTHONPATH, no checkout on the path), in a temporary folder. Package sources
are the local wheel fixture, so nothing leaves loopback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from tests.conftest import ROOT, _free_port, wait_for

LOCAL_FLOW = """
from orchestrator import FlowSpec, card, current, pypi, step
from orchestrator.cards import Markdown


class InstalledSmokeFlow(FlowSpec):
    @pypi(python="3.11", packages={"attrs": "23.2.0"})
    @step
    def start(self):
        import attrs

        self.attrs_version = attrs.__version__
        self.next(self.end)

    @card
    @step
    def end(self):
        current.card.append(Markdown("# Smoke card: attrs %s" % self.attrs_version))
"""


SLURM_FLOW = """
import os

from orchestrator import FlowSpec, slurm, step


class InstalledSlurmFlow(FlowSpec):
    @slurm(memory=256)
    @step
    def start(self):
        self.job = os.environ.get("SLURM_JOB_ID")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def readme_flow() -> str:
    """The flow the README shows: what a new user tries first."""
    text = (ROOT / "README.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


@pytest.fixture(scope="module")
def user(release, pypi_wheels, tmp_path_factory):
    """Runs the installed ``orch`` (or its python) in a folder of flows outside the checkout."""
    home = tmp_path_factory.mktemp("user")
    flows = home / "myflows"
    flows.mkdir()
    (flows / "pandas_flow.py").write_text(readme_flow())
    (flows / "local_flow.py").write_text(textwrap.dedent(LOCAL_FLOW))
    (flows / "slurm_flow.py").write_text(SLURM_FLOW)
    assert ROOT not in flows.parents
    keep = ("PATH", "HOME", "LANG", "DOCKER_HOST", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        PATH="%s:%s" % (release.venv / "bin", env.get("PATH", "/usr/bin:/bin")),
        ORCH_PYPI_FIND_LINKS=pypi_wheels,  # resolve and install from the fixture wheels only
        ORCH_CACHE=str(home / "cache"),
    )

    def run(*argv: str, check: bool = True, extra_env=None, **kwargs) -> subprocess.CompletedProcess:
        given = dict(env, **(extra_env or {}))
        done = subprocess.run(argv, cwd=flows, env=given, capture_output=True, text=True, timeout=1200, **kwargs)
        if check:
            assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(argv), done.stdout, done.stderr)
        return done

    run.flows, run.env = flows, env
    return run


def client_view(user, code: str):
    """What the installed client prints for ``code`` (a Python expression), parsed from JSON."""
    script = "import json, orchestrator\nfrom orchestrator import Flow\nprint(json.dumps(%s))" % code
    return json.loads(user("python", "-c", script).stdout)


def test_orch_is_the_installed_wheel_not_the_checkout(user, release):
    where = client_view(user, "orchestrator.__file__")
    assert where.startswith(str(release.venv)), where
    assert user("orch", "--version").stdout.strip() == "orch 0.1.0"


def test_the_readme_flow_runs_two_pandas_in_containers_and_the_client_reads_them(user, engine):
    done = user("orch", "run", "pandas_flow.py", "--executor", "docker")
    assert "demo: pandas 1.5.3 then 2.2.3, in one run" in done.stdout + done.stderr
    run = "Flow('PandasVersionsFlow').latest_run"
    seen = client_view(user, "[%s.successful, %s.data.old, %s.data.new]" % (run, run, run))
    assert seen == [True, "1.5.3", "2.2.3"]
    shown = user("python", "-c", "from orchestrator import Flow; print(Flow('PandasVersionsFlow').latest_run.data.new)")
    assert shown.stdout == "2.2.3\n"  # the README's own line


def test_a_step_runs_on_slurm_from_the_installed_wheel(user, slurm_cluster, engine):
    """orch's Slurm backend is found through the installed wheel's entry points, and so is @slurm
    inside the step's image."""
    user("orch", "run", "slurm_flow.py", "--executor", "local")
    run = "Flow('InstalledSlurmFlow').latest_run"
    job, executor = client_view(user, "[%s['start'].task.data.job, %s._record.executor]" % (run, run))
    assert job and executor == "local+slurm"


def test_the_readme_flow_deploys_to_step_functions_from_the_installed_wheel(user, sfn_world, tmp_path, engine):
    """``python flow.py step-functions create`` and ``trigger`` from the wheel; moto runs the machine."""
    import boto3

    from orchestrator import Flow
    from orchestrator import client as orch_client
    from tests.sfn_infra import explain
    from tests.sfn_infra import wait_for as wait_for_execution

    (infra, registry), credentials = sfn_world
    store = "s3://orch-batch/wheel-%s" % tmp_path.name
    aws = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    aws.update(
        AWS_DEFAULT_REGION="us-east-1",
        ORCH_CONFIG=str(tmp_path / "config.json"),
        ORCH_BATCH_QUEUE=infra.queue,
        ORCH_REGISTRY=registry.host,
        ORCH_S3_ROOT=store,
        ORCH_SFN_ROLE="arn:aws:iam::123456789012:role/orch-sfn",
        ORCH_JOB_CREDENTIALS_URI=credentials.url,
    )
    out = user("python", "pandas_flow.py", "step-functions", "create", extra_env=aws).stdout
    assert "as PandasVersionsFlow." in out
    out = user("python", "pandas_flow.py", "step-functions", "trigger", "--label", "nightly", extra_env=aws).stdout
    run_id = out.split("PandasVersionsFlow/")[1].split()[0]
    sfn = boto3.client("stepfunctions")
    arn = "arn:aws:states:us-east-1:123456789012:execution:PandasVersionsFlow:" + run_id[len("sfn-") :]
    done = wait_for_execution(sfn, arn)
    assert done["status"] == "SUCCEEDED", explain(sfn, done)
    orch_client.metadata(store)
    try:
        run = Flow("PandasVersionsFlow")[run_id]
        assert run.successful and run.data.label == "nightly"
        assert run["start"].task.data.old == "1.5.3" and run["upgrade"].task.data.new == "2.2.3"
    finally:
        orch_client.reset()


def test_a_pypi_env_under_the_local_executor_and_a_card(user):
    user("orch", "run", "local_flow.py", "--executor", "local")
    run = "Flow('InstalledSmokeFlow').latest_run"
    assert client_view(user, "[%s.successful, %s.data.attrs_version]" % (run, run)) == [True, "23.2.0"]
    task = client_view(user, "%s['end'].task.pathspec" % run)
    user("orch", "card", "get", task, "card.html")
    html = (user.flows / "card.html").read_text()
    assert "Smoke card: attrs 23.2.0" in html and "<html" in html.lower()


def test_show_describes_the_steps_and_their_envs(user):
    out = user("orch", "show", "pandas_flow.py").stdout
    for expected in ("start", "upgrade", "end", "pandas", "1.5.3", "2.2.3"):
        assert expected in out, out


def test_the_ui_front_page_lists_the_runs(user):
    user("orch", "run", "local_flow.py", "--executor", "local")  # a run for the page, whatever ran before
    port = _free_port()
    server = subprocess.Popen(
        ["orch", "ui", "--port", str(port)],
        cwd=user.flows,
        env=user.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def front_page():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as response:
                    return response.read().decode()
            except OSError:
                return None if server.poll() is None else "server exited"

        page = wait_for(front_page, seconds=60)
        assert page and "InstalledSmokeFlow" in page, page
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_missing_package_file_is_one_line_naming_it(user, release, engine):
    (template,) = release.venv.glob("lib/python*/site-packages/orchestrator/images/templates/Dockerfile.pypi")
    hidden = template.with_name("hidden-Dockerfile.pypi")
    template.rename(hidden)
    try:
        done = user("orch", "run", "pandas_flow.py", "--executor", "docker", check=False)
    finally:
        hidden.rename(template)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "Dockerfile.pypi" in line]
    assert lines == [
        "orch's installation is missing its own file %s. Reinstall it: pip install --force-reinstall "
        "orch-workflows." % template
    ], done.stderr


def test_no_docker_engine_says_how_to_get_one(user):
    env = dict(user.env, DOCKER_HOST="unix://%s" % (user.flows / "no-docker.sock"))
    done = subprocess.run(
        ["orch", "run", "local_flow.py", "--executor", "docker"],
        cwd=user.flows,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "No Docker engine answers at unix://%s" % (user.flows / "no-docker.sock") in done.stderr
    assert "apt-get install docker.io" in done.stderr and "--executor local" in done.stderr


def test_the_wheel_and_the_checkout_give_the_same_image_tags(user):
    """An image tag is a pure function of what goes into the image, wherever orch was installed from.

    The runtime part is taken with the vendored boto3's versions held fixed: two venvs may install
    different boto3 releases, and then their images differ, as they should."""
    script = (
        "import json, orchestrator.envs.local as local\n"
        "from orchestrator.images.spec import template_digest\n"
        "local.fingerprint = lambda: 'fixed'\n"
        "print(json.dumps([local.runtime_hash()] + [template_digest(k) for k in ('default', 'pypi', 'conda')]))"
    )
    installed = json.loads(user("python", "-c", script).stdout)
    checkout = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert installed == json.loads(checkout.stdout)
