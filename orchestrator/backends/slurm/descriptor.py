"""Slurm, as the backend registry knows it: its descriptor and its ``orch configure slurm`` section.

Registered by orch's own ``orch.backends`` and ``orch.decorators`` entry
points (pyproject.toml), exactly as a third-party plugin would be.
"""

from __future__ import annotations

from ..spec import Backend, ConfigSection, Setting

RUNTIMES = ("docker", "charliecloud", "podman", "apptainer")

SECTION = ConfigSection(
    "slurm",
    "Set where Slurm jobs find the store, their scratch folder and their images, and the job defaults.",
    (
        Setting(
            "store",
            "--store",
            "The store every node mounts (a shared folder), or s3://bucket/prefix. Used when --store is not given.",
            ("ORCH_SLURM_STORE",),
        ),
        Setting(
            "scratch",
            "--scratch",
            "A folder on the shared filesystem for job scripts, job logs and exit records.",
            ("ORCH_SLURM_SCRATCH",),
        ),
        Setting(
            "runtime",
            "--runtime",
            "The container runtime on the nodes: docker, charliecloud (ch-run), podman or apptainer.",
            ("ORCH_SLURM_RUNTIME",),
            pattern=r"^(docker|charliecloud|podman|apptainer)$",
            shape="docker, charliecloud, podman or apptainer",
        ),
        Setting(
            "registry",
            "--registry",
            "A registry the nodes pull images from (host:port); without one, images go through the image cache.",
            ("ORCH_SLURM_REGISTRY",),
            pattern=r"^[A-Za-z0-9.\-]+(:\d+)?(/[a-z0-9._\-/]+)?$",
            shape="host:port, e.g. registry.cluster:5000",
        ),
        Setting(
            "image_cache",
            "--image-cache",
            "A shared folder of images by digest (saved or unpacked once each); default: SCRATCH/images.",
            ("ORCH_SLURM_IMAGE_CACHE",),
        ),
        Setting(
            "partition", "--partition", "The partition of steps whose @slurm names none.", ("ORCH_SLURM_PARTITION",)
        ),
        Setting(
            "account",
            "--account",
            "The account jobs are charged to, if the cluster asks for one.",
            ("ORCH_SLURM_ACCOUNT",),
        ),
        Setting("qos", "--qos", "The quality of service jobs ask for.", ("ORCH_SLURM_QOS",)),
        Setting(
            "orphan_seconds",
            "--orphan-seconds",
            "How long a job outlives the orch that submitted it, if orch is killed, before it stops itself "
            "(default 120).",
            ("ORCH_SLURM_ORPHAN_SECONDS",),
            pattern=r"^[1-9]\d*$",
            shape="whole seconds, e.g. 120",
        ),
    ),
)

BACKEND = Backend(
    name="slurm",
    summary="each task a Slurm job running its step's image, a foreach one job array (orch configure slurm)",
    prepare="orchestrator.backends.slurm.setup:prepare",
    decorator="slurm",
    on_this_machine=False,
    configure=SECTION,
    run_config="orchestrator.backends.slurm.setup:run_config",
    entry="orchestrator.backends.slurm.entry:main",
    placement=(
        ("slurm-job-id", "ORCH_SLURM_JOB_ID"),  # ARRAYJOBID_INDEX for a task of a job array, as Slurm writes it
        ("slurm-partition", "SLURM_JOB_PARTITION"),
        ("slurm-node", "SLURMD_NODENAME"),
    ),
)
