"""``python scripts/bench`` or ``python -m scripts.bench`` from the repository root."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __package__ in (None, ""):  # run as a folder: make ``scripts.bench`` importable
    sys.path.insert(0, ROOT)

from scripts.bench.run import main  # noqa: E402

sys.exit(main())
