"""The data layer stays numpy-only, small per module, and exports its API."""

import ast
from pathlib import Path

import jaxperc.data as data

PACKAGE = Path(data.__file__).parent

API = {
    "ConstantFeatureWarning",
    "Dataset",
    "DatasetInfo",
    "Standardizer",
    "apply_standardizer",
    "bootstrap_weights",
    "class_weight_columns",
    "fit_standardizer",
    "kfold_weights",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "make_blobs",
    "make_xor",
    "one_vs_rest",
    "train_test_split",
}


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


def test_public_api():
    assert set(data.__all__) == API
    for name in API:
        assert getattr(data, name).__doc__, name
