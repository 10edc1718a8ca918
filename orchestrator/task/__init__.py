"""The task-side runtime: runs one attempt of one step, wherever the task executes.

It loads inputs from the store, runs the step, and commits artifacts and the
attempt record. Standard library only (boto3 only for S3), Python >= 3.8.
"""
