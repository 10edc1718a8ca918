"""``orch build-envs``, ``orch envs list|prune`` and ``orch images bootstrap``."""

from __future__ import annotations

import os
import shutil
import time

import click

from ..config import Config
from ..envs.resolve import ensure_locks
from .common import FLOW_ARGUMENT, load


def _engine():
    from ..images.engine import client

    return client()


@click.command("build-envs")
@FLOW_ARGUMENT
@click.option("--upgrade", is_flag=True, help="Solve every environment again instead of reusing its lock file.")
@click.option("--base-image", default=None, help="Base image [env ORCH_BASE_IMAGE; default orch-base:bookworm].")
@click.option("--jobs", type=int, default=2, show_default=True, help="Images built at once.")
@click.option("--local", "local", is_flag=True, help="Build the host environments of the local executor instead.")
@click.pass_context
def build_envs(ctx, flow_file, upgrade, base_image, jobs, local):
    """Lock every step environment of FLOW.py and build its image (or, with --local, its host env).

    Lock files are written to envs/ beside the flow and reused while the spec
    is unchanged. Images are tagged orch-env:<hash of lock, base image,
    platform, template and runtime>; present ones are not rebuilt.
    """
    began = time.monotonic()
    loaded = load(ctx, flow_file)
    config = Config.from_env()
    locks = ensure_locks(loaded.graph, os.path.dirname(loaded.abspath), upgrade=upgrade, sources=config.sources)
    rows = []
    if local:
        from ..envs.local import ensure_env

        for step, lock in locks.items():
            rows.append(
                (
                    step,
                    lock.spec.describe() if lock else "host python",
                    ensure_env(lock, config.sources) if lock else "(the host's)",
                    "",
                )
            )
    else:
        from rich.console import Console

        from ..images.ensure import ensure_images, image_plan_for_flow

        engine = _engine()
        plans = image_plan_for_flow(engine, locks, base_image or config.base_image)
        console = Console(stderr=True)

        def report(result) -> None:
            if result.status == "built":
                console.print(
                    "built %s (%s) in %.1fs" % (result.spec.tag, result.spec.kind, result.seconds), highlight=False
                )

        with console.status(
            "Building the missing images (%d distinct)..." % len({p.tag for p in plans.values()}), spinner="dots"
        ):
            built = ensure_images(engine, plans, locks, config.sources, jobs=jobs, on_done=report)
        for step, spec in plans.items():
            lock = locks[step]
            result = built[spec.tag]
            status = result.status if result.status == "cached" else "built in %.1fs" % result.seconds
            rows.append((step, lock.spec.describe() if lock else "default", spec.tag, status))
    width = [max(len(r[i]) for r in rows + [("STEP", "ENV", "IMAGE", "STATUS")]) for i in range(3)]
    click.echo("%-*s  %-*s  %-*s  %s" % (width[0], "STEP", width[1], "ENV", width[2], "IMAGE", "STATUS"))
    for row in rows:
        click.echo("%-*s  %-*s  %-*s  %s" % (width[0], row[0], width[1], row[1], width[2], row[2], row[3]))
    click.echo("%d steps, %d environments, %.2fs." % (len(rows), len({r[2] for r in rows}), time.monotonic() - began))


@click.group()
def envs():
    """List and remove built environment images and cached host environments."""


@envs.command("list")
def envs_list():
    """Every orch-env image, with its kind, lock and size."""
    engine = _engine()
    images = engine.images.list(filters={"label": "org.orch.kind"})
    click.echo("%-42s %-8s %-32s %9s  %s" % ("IMAGE", "KIND", "LOCK", "SIZE", "CREATED"))
    for image in sorted(images, key=lambda i: i.attrs.get("Created", ""), reverse=True):
        labels = image.labels or {}
        tags = [t for t in image.tags if t.startswith("orch-env:")] or image.tags or [image.short_id]
        created = image.attrs.get("Created", "")[:19].replace("T", " ")
        click.echo(
            "%-42s %-8s %-32s %8.0fM  %s"
            % (
                tags[0],
                labels.get("org.orch.kind", "?"),
                labels.get("org.orch.lock", "")[:32],
                image.attrs.get("Size", 0) / 1e6,
                created,
            )
        )


@envs.command("prune")
@click.argument("keep", nargs=-1, type=click.Path(dir_okay=False, exists=True), metavar="[FLOW.py]...")
@click.option("--dry-run", is_flag=True, help="List what would be removed.")
@click.pass_context
def envs_prune(ctx, keep, dry_run):
    """Remove orch-env images and host envs not needed by the FLOW.py files given (all, if none)."""
    from ..envs.local import cache_root

    config = Config.from_env()
    needed_locks, needed_tags = set(), set()
    engine = _engine()
    for flow_file in keep:
        loaded = load(ctx, flow_file)
        locks = ensure_locks(loaded.graph, os.path.dirname(loaded.abspath), sources=config.sources)
        needed_locks.update(lock.short for lock in locks.values() if lock)
        from ..images.ensure import image_plan_for_flow

        needed_tags.update(spec.tag for spec in image_plan_for_flow(engine, locks, config.base_image).values())
    removed = 0
    for image in engine.images.list(filters={"label": "org.orch.kind"}):
        tags = [t for t in image.tags if t.startswith("orch-env:")]
        if not tags or any(t in needed_tags for t in tags):
            continue
        click.echo("%s %s" % ("would remove" if dry_run else "removing", tags[0]))
        if not dry_run:
            try:
                engine.images.remove(image.id, force=False)
                removed += 1
            except Exception as err:  # in use by a container: keep it
                click.echo("  kept: %s" % str(err).splitlines()[0], err=True)
    folder = os.path.join(cache_root(), "envs")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        if name.endswith(".lock") or name.split("-", 1)[-1] in needed_locks:
            continue
        click.echo("%s host env %s" % ("would remove" if dry_run else "removing", name))
        if not dry_run:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
            removed += 1
    click.echo("Removed %d." % removed if not dry_run else "Dry run: nothing removed.")


@click.group()
def images():
    """Base images."""


@images.command("bootstrap")
@click.option("--tag", default=None, help="Image to create [default: ORCH_BASE_IMAGE or orch-base:bookworm].")
@click.option("--suite", default="bookworm", show_default=True, help="Debian release.")
@click.option("--mirror", default="http://deb.debian.org/debian", show_default=True, help="Debian mirror.")
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
def images_bootstrap(tag, suite, mirror, force):
    """Build a base image offline: debootstrap a minimal Debian with python3, then docker import it.

    For machines that cannot pull from a registry. Needs root and a Debian mirror.
    """
    from ..images.bootstrap import bootstrap

    tag = tag or Config.from_env().base_image
    began = time.monotonic()
    image = bootstrap(_engine(), tag=tag, suite=suite, mirror=mirror, force=force)
    click.echo("%s is %s (%.0fs)." % (tag, image[:19], time.monotonic() - began))


COMMANDS = (build_envs, envs, images)
