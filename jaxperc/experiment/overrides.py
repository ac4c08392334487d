"""``--set section.key=value`` overrides, applied to a raw config table.

Values are read as TOML (``0.1``, ``[1, 2]``, ``true``); a key the schema types as a
string keeps its text as written, so ``--set train.optimizer=adam`` needs no quotes.
"""

import json
import tomllib
from typing import Any

from jaxperc.errors import ConfigError, unknown_choice
from jaxperc.experiment.schema import SECTIONS, type_of

_TABLES = (*SECTIONS, "sweep")


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML (``0.1``, ``[1, 2]``, ``true``) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(
    raw: dict, overrides: list[str], *, path: str = "<config>"
) -> tuple[dict, set[str]]:
    """Apply ``section.key=value`` strings to a raw config table (a new copy).

    Returns:
      The new table and the set of keys the overrides touched.
    """
    raw = json.loads(json.dumps(raw))  # deep copy of plain TOML data
    touched = set()
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(
                f"{path}: --set {' '.join(item.split())[:60]!r}: not of the form "
                "section.key=value; write e.g. --set train.learning_rate=0.5"
            )
        section, rest = parts[0], parts[1:]
        if section not in _TABLES:
            message = unknown_choice(
                "table", section, _TABLES, subject="no such table", listing="use"
            )
            raise ConfigError(f"{path}: --set {key}: {message}")
        value = parse_value(text.strip())
        if _is_string_key(section, rest[0]) and not isinstance(value, str):
            value = text.strip()  # typed by the schema: keep strings as written
        node = raw
        for depth, p in enumerate(parts[:-1], start=1):
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                inner = ".".join(parts[:depth])
                raise ConfigError(
                    f"{path}: --set {key}: {inner} is not a table in the file; "
                    f"set {inner} itself"
                )
        node[parts[-1]] = value
        touched.add(key)
    return raw, touched


def _is_string_key(section: str, key: str) -> bool:
    if section not in SECTIONS or key not in SECTIONS[section].__annotations__:
        return False
    if (section, key) in (("data", "features"),):
        return False
    return type_of(section, key)[0] is str
