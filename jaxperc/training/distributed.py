"""Joining a multi-process run: ``jax.distributed`` with settings from flags or env.

Every process runs the same program; ``train_many`` with a mesh over
``jax.devices()`` (all processes' devices) then trains one sweep across all of them.
Only process 0 should write files. A process that dies is noticed by the others
through the coordinator's heartbeat, so they fail with an error after
``heartbeat_timeout`` seconds instead of waiting for ever.
"""

import os

import jax

from jaxperc.errors import JaxpercError

ENV_COORDINATOR = "JAXPERC_COORDINATOR"  # host:port of process 0
ENV_NUM_PROCESSES = "JAXPERC_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXPERC_PROCESS_ID"


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise JaxpercError(f"{name}={value!r} must be an integer") from None


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: int = 60,
    heartbeat_timeout: int = 20,
) -> bool:
    """Start ``jax.distributed`` when a multi-process run is asked for.

    Arguments left as None come from ``JAXPERC_COORDINATOR``,
    ``JAXPERC_NUM_PROCESSES`` and ``JAXPERC_PROCESS_ID``; when those are unset
    too, JAX's own cluster detection (SLURM, Open MPI, …) is used if it finds a
    cluster. CPU collectives use gloo.

    Returns:
      True if this process is part of a multi-process run, False for a single
      process (nothing is started then).
    """
    coordinator = coordinator or os.environ.get(ENV_COORDINATOR) or None
    num_processes = num_processes or _env_int(ENV_NUM_PROCESSES)
    if process_id is None:
        process_id = _env_int(ENV_PROCESS_ID)
    explicit = coordinator is not None or num_processes not in (None, 1)
    in_cluster = (
        "SLURM_JOB_ID" in os.environ and int(os.environ.get("SLURM_NTASKS", "1")) > 1
    )
    if not explicit and not in_cluster:
        return False
    if explicit and (
        coordinator is None or num_processes is None or process_id is None
    ):
        raise JaxpercError(
            "a multi-process run needs the coordinator address, the process count "
            "and this process's id: pass --coordinator HOST:PORT --num-processes N "
            "--process-id I (or set JAXPERC_COORDINATOR, JAXPERC_NUM_PROCESSES, "
            "JAXPERC_PROCESS_ID)"
        )
    if explicit and not 0 <= process_id < num_processes:
        raise JaxpercError(f"process id {process_id} must be in 0..{num_processes - 1}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=timeout,
        heartbeat_timeout_seconds=heartbeat_timeout,
    )
    return True


def is_writer() -> bool:
    """True on the one process that writes run folders and prints results."""
    return jax.process_index() == 0
