"""From a flow's locks to present images: plan the image of every step (pure), then build what is missing.

A warm call is a no-op: it reads the locks, asks the engine for the base
image id and whether each tag exists, and calls no build.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from ..config import NO_SOURCES, PackageSources
from ..envs.local import cache_root, runtime_dir, runtime_hash
from ..envs.lock import LockRef
from ..version import __version__
from .engine import build, image_id
from .render import render_context
from .spec import ImageSpec, template_digest


@dataclass(frozen=True)
class Built:
    spec: ImageSpec
    status: str  # "cached" or "built"
    seconds: float


def plan_images(
    locks: Mapping[str, Optional[LockRef]], base_image: str, base_id: str, platform: str, runtime_digest: str
) -> Dict[str, ImageSpec]:
    """step → ImageSpec. Pure: steps with the same lock (or none) get the same spec, hence the same tag."""
    digests: Dict[str, str] = {}
    plans = {}
    for step, lock in locks.items():
        kind = lock.spec.kind if lock else "default"
        if kind not in digests:
            digests[kind] = template_digest(kind)
        plans[step] = ImageSpec(
            kind=kind,
            base_image=base_image,
            base_image_id=base_id,
            platform=platform,
            template_digest=digests[kind],
            runtime_digest=runtime_digest,
            lock_digest=lock.digest if lock else None,
            lock_name=os.path.basename(lock.path) if lock else None,
        )
    return plans


def _build_one(engine: Any, spec: ImageSpec, lock: Optional[LockRef], sources: PackageSources) -> Built:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="orch-build-") as folder:
        inputs: Dict[str, Any] = {"runtime": runtime_dir()}
        if spec.kind == "pypi":
            from ..envs.pypi import fetch_wheelhouse, uv_binary

            assert lock is not None
            inputs.update(
                lock_path=lock.path,
                uv_binary=uv_binary(),
                wheelhouse=fetch_wheelhouse(lock, os.path.join(cache_root(), "wheelhouse", lock.short), sources),
            )
        elif spec.kind == "conda":
            from ..envs.conda import stage_for_image

            assert lock is not None
            inputs.update(conda_env=stage_for_image(lock, os.path.join(folder, "stage"), sources))
        context = os.path.join(folder, "context")
        render_context(spec, context, **inputs)
        build(engine, context, spec.tag, spec.labels(__version__))
    return Built(spec, "built", time.monotonic() - began)


def ensure_images(
    engine: Any,
    plans: Mapping[str, ImageSpec],
    locks: Mapping[str, Optional[LockRef]],
    sources: PackageSources = NO_SOURCES,
    jobs: int = 2,
    on_done: Callable[[Built], None] = lambda built: None,
) -> Dict[str, Built]:
    """tag → Built for every distinct image of the plan, building the missing ones in parallel."""
    unique: Dict[str, tuple] = {}
    for step, spec in plans.items():
        unique.setdefault(spec.tag, (spec, locks.get(step)))
    results: Dict[str, Built] = {}
    missing = []
    for tag, (spec, lock) in unique.items():
        if image_id(engine, tag):
            results[tag] = Built(spec, "cached", 0.0)
            on_done(results[tag])
        else:
            missing.append((spec, lock))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_build_one, engine, spec, lock, sources) for spec, lock in missing]
        for future in futures:
            built = future.result()
            results[built.spec.tag] = built
            on_done(built)
    return results


def image_plan_for_flow(engine: Any, locks: Mapping[str, Optional[LockRef]], base_image: str) -> Dict[str, ImageSpec]:
    """Resolve the base image id (one engine call) and plan every step's image."""
    from .engine import base_image_id, engine_platform

    return plan_images(locks, base_image, base_image_id(engine, base_image), engine_platform(), runtime_hash())


def ensure_step_images(
    engine: Any,
    locks: Mapping[str, Optional[LockRef]],
    base_image: str,
    sources: PackageSources,
    notice: Callable[[str], None],
) -> Dict[str, ImageSpec]:
    """step → its image, building the missing ones (exactly as ``orch build-envs`` would), each built
    image announced through ``notice``."""
    plans = image_plan_for_flow(engine, locks, base_image)

    def announce(built: Built) -> None:
        if built.status == "built":
            notice("Built image %s (%s) in %.1fs" % (built.spec.tag, built.spec.kind, built.seconds))

    ensure_images(engine, plans, locks, sources, on_done=announce)
    return plans
