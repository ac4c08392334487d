"""A small TOML writer: flat tables of scalars and lists, enough for a resolved config.

``tomllib`` (standard library) reads TOML but does not write it; the run folder's
``config.toml`` needs strings, booleans, integers, floats (including inf and nan),
lists of those, and one level of sub-tables such as ``[train.optimizer_kwargs]``.
"""

import json
import math
from typing import Any


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover


def dumps(tables: dict[str, dict[str, Any]]) -> str:
    """TOML text of tables of scalars and lists (a nested table becomes [a.b])."""
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
        for key, value in table.items():
            if key not in subtables:
                lines.append(f"{_bare(key)} = {_value(value)}")
        for key, sub in subtables.items():
            if sub:
                lines.append(f"\n[{name}.{key}]")
                lines.extend(f"{_bare(k)} = {_value(v)}" for k, v in sub.items())
        lines.append("")
    return "\n".join(lines)


def _bare(key: str) -> str:
    ok = key and all(c.isalnum() or c in "_-" for c in key) and key.isascii()
    return key if ok else json.dumps(key)
