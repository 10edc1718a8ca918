"""Slurm: each task a Slurm job running its step's image, each foreach one job array.

orch finds this backend through its own distribution's entry points, as it
finds any installed plugin; nothing outside this folder imports it.
"""
