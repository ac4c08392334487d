"""``--set section.key=value`` overrides, applied to a raw config table.

Values are read as TOML (``0.1``, ``[1, 2]``, ``true``); a key the schema types as a
string keeps its text as written, so ``--set train.optimizer=adam`` needs no quotes.
"""

import difflib
import json
import tomllib
from typing import Any

from jaxperc.errors import ConfigError
from jaxperc.experiment.schema import SECTIONS, type_of


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML (``0.1``, ``[1, 2]``, ``true``) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict, overrides: list[str]) -> tuple[dict, set[str]]:
    """Apply ``section.key=value`` strings to a raw config table (a new copy)."""
    raw = json.loads(json.dumps(raw))  # deep copy of plain TOML data
    touched = set()
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(
                f"--set {item!r} must look like section.key=value, "
                "e.g. --set train.learning_rate=0.5"
            )
        section, rest = parts[0], parts[1:]
        if section not in (*SECTIONS, "sweep"):
            hint = difflib.get_close_matches(section, [*SECTIONS, "sweep"], n=1)
            tip = f" (did you mean {hint[0]}?)" if hint else ""
            raise ConfigError(f"--set {key} has no section {section!r}{tip}")
        value = parse_value(text.strip())
        if _is_string_key(section, rest[0]) and not isinstance(value, str):
            value = text.strip()  # typed by the schema: keep strings as written
        node = raw.setdefault(section, {})
        for p in rest[:-1]:
            node = node.setdefault(p, {})
        node[rest[-1]] = value
        touched.add(key)
    return raw, touched


def _is_string_key(section: str, key: str) -> bool:
    if section not in SECTIONS or key not in SECTIONS[section].__annotations__:
        return False
    if (section, key) in (("data", "features"),):
        return False
    try:
        return type_of(section, key)[0] is str
    except AssertionError:  # pragma: no cover
        return False
