"""What a data source names: a synthetic generator, a bundled set, or a file.

The one rule, used when a config is read, when its relative paths are resolved and
when the data is loaded, so that all three agree on every source string.
"""

from typing import Literal

from jaxperc.data.bundled import list_datasets

SYNTHETIC = ("blobs", "xor")
SourceKind = Literal["synthetic", "bundled", "file", "unknown"]


def source_kind(source: str) -> SourceKind:
    """``"synthetic"`` (blobs, xor), ``"bundled"``, ``"file"`` or ``"unknown"``.

    A source is a file when it is neither a generator nor a bundled set and looks
    like a path: it holds a folder separator or has a suffix (``data/foo.dat``,
    ``x.csv``). Any other word is an unknown name, most likely a misspelt data set.
    """
    if source in SYNTHETIC:
        return "synthetic"
    if source in {info.name for info in list_datasets()}:
        return "bundled"
    stem = source.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "/" in source or "\\" in source or "." in stem.strip("."):
        return "file"
    return "unknown"


def source_names() -> tuple[str, ...]:
    """Every name a source may be besides a file: bundled sets, then generators."""
    return (*(info.name for info in list_datasets()), *SYNTHETIC)
