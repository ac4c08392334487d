"""What ``import jaxperc`` does to the process beyond defining names."""

import subprocess
import sys

CHILD = """
import gc
before = gc.get_freeze_count()
import jaxperc
print(before, gc.get_freeze_count())
"""


def test_import_freezes_the_imported_objects_out_of_full_collections():
    # JAX, NumPy, optax and SciPy leave ~10^5 long-lived objects; unfrozen, the
    # first full collection scans them all inside the first train call (~85 ms)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    )
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 10_000
