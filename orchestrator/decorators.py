"""Metaflow's ``metaflow.decorators`` path, kept for ported imports: the decorators live in
``authoring.decorators``."""

from .authoring.decorators import *  # noqa: F401,F403 - its public names, under Metaflow's path
