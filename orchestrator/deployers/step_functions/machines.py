"""The Step Functions and EventBridge calls: a state machine written, started, listed and deleted.

Every call is retried on throttling (``BatchApi.call``). A state machine is
found by its name; writing one that exists updates it in place, so its
executions' history stays. Its rules are named after it
(``events.rule_name``) and replaced whole on each ``create``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ...backends.batch.api import AwsCalls
from ...backends.batch.executor import aws_client
from ...config import Config
from ...errors import UsageError
from . import events

KINDS = ("schedule", "events", "finish")


@dataclass(frozen=True)
class Execution:
    name: str
    status: str
    started: Any
    stopped: Any = None

    @property
    def run_id(self) -> str:
        return "sfn-" + self.name


def _code(err: Any) -> str:
    return str(((getattr(err, "response", None) or {}).get("Error") or {}).get("Code", ""))


class Machines:
    """State machines and their rules in one account and region."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sfn = aws_client("stepfunctions", config.aws)
        self.events = aws_client("events", config.aws)
        self.api = AwsCalls()

    def call(self, client: Any, operation: str, **kwargs: Any) -> Any:
        """One AWS call; an error AWS gives back (a bad role, a missing permission) is one clear line."""
        from botocore.exceptions import ClientError

        try:
            return self.api.call(client, operation, **kwargs)
        except ClientError as err:
            if operation == "list_targets_by_rule" and _code(err) == "ResourceNotFoundException":
                raise
            raise UsageError(
                "AWS refused %s: %s" % (operation, (err.response.get("Error") or {}).get("Message") or err),
                "Check the roles and permissions in docs/production.md (orch configure aws --sfn-role).",
            ) from None

    def find(self, name: str) -> Optional[str]:
        """The ARN of the state machine called ``name``, or None."""
        token = None
        while True:
            page = self.call(self.sfn, "list_state_machines", **({"nextToken": token} if token else {}))
            for machine in page.get("stateMachines", []):
                if machine["name"] == name:
                    return machine["stateMachineArn"]
            token = page.get("nextToken")
            if not token:
                return None

    def arn(self, name: str) -> str:
        found = self.find(name)
        if found is None:
            raise UsageError(
                "There is no state machine called %s in AWS Step Functions." % name,
                "Deploy the flow first: python FLOW.py step-functions create",
            )
        return found

    def write(self, name: str, definition: Dict[str, Any], role: str, tags: Dict[str, str]) -> str:
        """Create the state machine, or update it in place; returns its ARN."""
        text = json.dumps(definition)
        found = self.find(name)
        if found is not None:
            self.call(self.sfn, "update_state_machine", stateMachineArn=found, definition=text, roleArn=role)
            return found
        tag_list = [{"key": k, "value": v} for k, v in sorted(tags.items())]
        made = self.call(self.sfn, "create_state_machine", name=name, definition=text, roleArn=role, tags=tag_list)
        return made["stateMachineArn"]

    def set_rules(self, name: str, arn: str, rules: Dict[str, Dict[str, Any]], role: Optional[str]) -> List[str]:
        """Make the machine's rules exactly ``rules`` (kind → put_rule arguments and ``input``)."""
        if rules and not role:
            raise UsageError(
                "The flow's @schedule or @trigger needs the IAM role EventBridge starts it as.",
                "Set it with: orch configure aws --events-role arn:aws:iam::ACCOUNT:role/NAME (or ORCH_EVENTS_ROLE).",
            )
        made = []
        for kind in KINDS:
            rule = events.rule_name(name, kind)
            if kind not in rules:
                self.remove_rule(rule)
                continue
            wanted = dict(rules[kind])
            given_input = wanted.pop("input", None)
            self.call(self.events, "put_rule", Name=rule, State="ENABLED", **wanted)
            target: Dict[str, Any] = {"Id": "orch-%s" % kind, "Arn": arn, "RoleArn": role}
            if given_input is not None:
                target["Input"] = json.dumps(given_input)
            self.call(self.events, "put_targets", Rule=rule, Targets=[target])
            made.append(rule)
        return made

    def remove_rule(self, rule: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            targets = self.call(self.events, "list_targets_by_rule", Rule=rule).get("Targets", [])
        except ClientError as err:
            if _code(err) == "ResourceNotFoundException":
                return False
            raise
        if targets:
            self.call(self.events, "remove_targets", Rule=rule, Ids=[t["Id"] for t in targets])
        self.call(self.events, "delete_rule", Name=rule)
        return True

    def start(self, name: str, parameters: Dict[str, Any]) -> str:
        """Start an execution with these parameters; returns its name (the run is ``sfn-NAME``)."""
        execution = uuid.uuid4().hex
        given = json.dumps({"Parameters": parameters})
        self.call(self.sfn, "start_execution", stateMachineArn=self.arn(name), name=execution, input=given)
        return execution

    def executions(self, name: str, status: Optional[str] = None) -> List[Execution]:
        found, token = [], None
        arn = self.arn(name)
        while True:
            kwargs: Dict[str, Any] = {"stateMachineArn": arn}
            if status:
                kwargs["statusFilter"] = status
            if token:
                kwargs["nextToken"] = token
            page = self.call(self.sfn, "list_executions", **kwargs)
            found += [
                Execution(e["name"], e["status"], e.get("startDate"), e.get("stopDate")) for e in page["executions"]
            ]
            token = page.get("nextToken")
            if not token:
                return found

    def describe(self, name: str, execution: str) -> Dict[str, Any]:
        arn = self.arn(name).replace(":stateMachine:", ":execution:") + ":" + execution
        return self.call(self.sfn, "describe_execution", executionArn=arn)

    def stop(self, name: str, execution: str) -> None:
        arn = self.arn(name).replace(":stateMachine:", ":execution:") + ":" + execution
        self.call(self.sfn, "stop_execution", executionArn=arn, error="orch.Terminated", cause="terminated by orch")

    def delete(self, name: str) -> List[str]:
        """Remove the machine's rules, then the machine; returns what was removed."""
        removed = [rule for rule in (events.rule_name(name, k) for k in KINDS) if self.remove_rule(rule)]
        self.call(self.sfn, "delete_state_machine", stateMachineArn=self.arn(name))
        return removed + [name]
