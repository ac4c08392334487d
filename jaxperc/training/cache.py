"""JAX's persistent compilation cache, for programs that start often.

Compiling the training loop takes most of a short run's time (about a second on a
2-core CPU). With the cache on, a second process that trains the same shapes reads
the compiled program from disk instead. The ``jaxperc`` command line turns it on;
library users opt in with :func:`enable_compilation_cache`.
"""

import os

import jax

ENV_CACHE_DIR = "JAXPERC_CACHE_DIR"


def default_cache_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".cache", "jaxperc", "xla")


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache; returns its folder (or None).

    Args:
      path: the folder; default ``$JAXPERC_CACHE_DIR`` or ``~/.cache/jaxperc/xla``.
        ``JAXPERC_CACHE_DIR=off`` (with no ``path``) leaves the cache off.

    Every program is cached, however quick to compile: ours are small.
    """
    env = os.environ.get(ENV_CACHE_DIR, "")
    if path is None and env.lower() == "off":
        return None
    path = path or env or default_cache_dir()
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
