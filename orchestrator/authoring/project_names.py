"""``@project`` naming, as Metaflow's: which branch a run belongs to, and the names derived from it.

Pure: given the flow, the decorator's and the command line's branch and
production flags, and the user, it returns every name. The branch is
``user.<user>`` by default, ``test.<branch>`` with ``--branch``, ``prod``
with ``--production``, ``prod.<branch>`` with both; the project flow name
is ``<project>.<branch>.<Flow>``. Runs carry ``project:`` and
``project_branch:`` system tags, so a namespace can select a branch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ..errors import UsageError

VALID_NAME = re.compile(r"^[a-z0-9_]+$")  # Metaflow's rule: lowercase alphanumerics and underscores
MAX_NAME = 128


def check_name(what: str, value: str) -> Optional[str]:
    """None when ``value`` is a valid project or branch name, else what is wrong with it."""
    if not VALID_NAME.match(value):
        return "The %s name must contain only lowercase alphanumeric characters and underscores." % what
    if len(value) > MAX_NAME:
        return "The %s name must be shorter than %d characters." % (what, MAX_NAME)
    return None


@dataclass(frozen=True)
class ProjectInfo:
    """What ``current`` says about a run's project, and the tags the run carries."""

    project_name: str
    branch_name: str
    project_flow_name: str
    is_production: bool
    is_user_branch: bool

    def current_fields(self) -> Dict[str, object]:
        return {
            "project_name": self.project_name,
            "branch_name": self.branch_name,
            "project_flow_name": self.project_flow_name,
            "is_production": self.is_production,
            "is_user_branch": self.is_user_branch,
        }

    @property
    def system_tags(self) -> Tuple[str, ...]:
        return ("project:%s" % self.project_name, "project_branch:%s" % self.branch_name)


def resolve(
    flow_name: str,
    spec: object,
    cli_branch: Optional[str],
    cli_production: bool,
    user: str,
) -> ProjectInfo:
    """The project names of a run of ``flow_name``. ``spec`` is the flow's ``@project``; a branch or
    production flag given both there and on the command line must agree, as in Metaflow."""
    given = getattr(spec, "given", ())
    branch, production = cli_branch, cli_production
    for option, own, cli, default in (
        ("branch", spec.branch, cli_branch, None),
        ("production", spec.production, cli_production, False),
    ):
        if option in given and cli != default and own != cli:
            raise UsageError(
                "You cannot pass %s as both a command-line argument and an attribute of the @project decorator."
                % option,
                "Keep one of them.",
            )
    if "branch" in given:
        branch = spec.branch
    if "production" in given:
        production = bool(spec.production)
    if branch:
        problem = check_name("branch", branch)
        if problem:
            raise UsageError(problem, "Give --branch a name such as my_branch.")
        branch_name = "%s.%s" % ("prod" if production else "test", branch)
    elif production:
        branch_name = "prod"
    else:
        branch_name = "user.%s" % user
    name = spec.name
    return ProjectInfo(
        name, branch_name, ".".join((name, branch_name, flow_name)), bool(production), not branch and not production
    )
