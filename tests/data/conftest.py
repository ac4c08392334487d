"""Shared fixtures for the data tests."""

from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path):
    """Writes ``text`` to ``tmp_path / name`` (exact bytes) and returns the path."""

    def write(text: str | bytes, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path

    return write
