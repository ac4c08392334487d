"""``python -m jaxperc``: the ``jaxperc`` command line."""

import sys

from jaxperc.cli import main

if __name__ == "__main__":
    sys.exit(main())
