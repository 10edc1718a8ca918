"""Deployments: a flow handed to a production scheduler that runs it with no orch process watching.

``step_functions``: AWS Step Functions, each step an AWS Batch job of its
step's image, schedules and triggers through EventBridge.
"""
