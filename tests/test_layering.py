"""The folders are the layers: each imports only the layers below it, with no cycles.

Read from the source with ``ast`` (nothing is imported), so a function-local import
counts as much as a top-level one, and ``TYPE_CHECKING`` blocks count too.
"""

import ast
from pathlib import Path

import pytest

import jaxperc

PACKAGE = Path(jaxperc.__file__).parent

# bottom to top; a layer may import itself and the layers listed before it
LAYERS = ["errors", "core", "data", "training", "experiment", "top"]
ALLOWED = {
    "errors": {"errors"},
    "core": {"errors", "core"},
    "data": {"errors", "data"},
    "training": {"errors", "core", "training"},
    "experiment": {"errors", "core", "data", "training", "experiment"},
    "top": {"errors", "core", "data", "training", "experiment", "top"},
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside the package."""
    parts = module.split(".")
    if len(parts) == 1:
        return "facade"
    if parts[1] in ("errors", "_version"):  # leaves that import nothing of jaxperc
        return "errors"
    if parts[1] in ("core", "data", "training", "experiment"):
        return parts[1]
    return "top"  # cli, sklearn, distributed, __main__


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every jaxperc module ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "jaxperc"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            else:
                target = node.module or ""
            if target.split(".")[0] != "jaxperc":
                continue
            for alias in node.names:  # `from jaxperc.core import grads`: the module
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in KNOWN else target)
    return {m for m in out if m in KNOWN and m != name}


KNOWN = modules()
GRAPH = {name: imports_of(name, path) for name, path in KNOWN.items()}


def test_the_tree_has_the_layers_as_folders():
    for layer in ("core", "training", "experiment", "data"):
        init = PACKAGE / layer / "__init__.py"
        assert init.exists(), layer
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), layer


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n != "jaxperc"))
def test_no_module_imports_a_higher_layer_or_the_facade(name):
    mine = layer_of(name)
    for target in GRAPH[name]:
        assert target != "jaxperc", f"{name} imports the facade jaxperc"
        theirs = layer_of(target)
        assert theirs in ALLOWED[mine], f"{name} ({mine}) imports {target} ({theirs})"


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


def test_the_graph_is_read_from_the_source():
    """The checks above would pass vacuously on an empty graph: they do not."""
    assert "jaxperc.core.model" in GRAPH["jaxperc.core.grads"]
    assert "jaxperc.training.loop" in GRAPH["jaxperc.training.driver"]
    assert any(
        t.startswith("jaxperc.training") for t in GRAPH["jaxperc.experiment.run"]
    )
