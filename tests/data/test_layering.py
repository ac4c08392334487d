"""The data layer stays numpy-only, small per module, and exports its API."""

import ast
from pathlib import Path

import jaxperc.data as data

PACKAGE = Path(data.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_imports_jax_or_optax():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        assert not imported_roots(module) & {"jax", "jaxlib", "optax"}, module.name


def test_modules_stay_under_400_lines():
    for module in PACKAGE.glob("*.py"):
        assert len(module.read_text(encoding="utf-8").splitlines()) < 400, module.name


def test_public_api_is_everything_the_package_exports_and_documented():
    """__all__ lists exactly the public names re-exported from the data modules."""
    exported = {
        name
        for name, value in vars(data).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("jaxperc.data.")
    }
    assert exported, "the data package re-exports its functions and classes"
    constants = {n for n in data.__all__ if n.isupper()}  # e.g. SYNTHETIC
    assert set(data.__all__) - constants == exported
    for name in data.__all__:
        assert getattr(data, name).__doc__, name
