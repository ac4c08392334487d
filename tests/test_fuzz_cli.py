"""Fuzzing the command line: broken configs, CSV files and run folders.

Every case drives ``jaxperc.cli.main`` in-process and checks the error contract:
exit status 0 or 2; on 2 exactly one ``error: `` line on stderr, no traceback and
no new file anywhere; on 0 a complete run folder with no temporary files.

Most generated cases fail validation in milliseconds; the few valid ones train
tiny grids, and only ``SUCCESS_BUDGET`` of them per test (the rest are discarded)
so the default profile stays within seconds. ``JAXPERC_FUZZ=nightly`` runs the
long profile: many more examples and successful runs.
"""

import contextlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jaxperc.cli import main
from jaxperc.experiment.config import load_config
from jaxperc.experiment.schema import FLOAT_HPARAMS, SECTIONS

NIGHTLY = os.environ.get("JAXPERC_FUZZ") == "nightly"
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=5000 if NIGHTLY else 500,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # capsys is read out per example
    ],
    derandomize=not NIGHTLY,  # CI sees the same cases every time
)
FUZZ = settings.get_profile("fuzz")
SUCCESS_BUDGET = 200 if NIGHTLY else 3
_successes: dict[str, int] = {}

BASE = {
    "data": {"source": "blobs", "n_samples": 24, "noise": 0.5},
    "train": {"max_epochs": 3},
    "sweep": {"seed": [0, 1]},
    "output": {"plots": False},
}
RUN_FILES = {"config.toml", "run.json", "metrics.csv", "summary.json", "params.npz"}


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.setenv("JAXPERC_CACHE_DIR", "off")


# ---- TOML writing (values the generators produce) -------------------------------


def toml_value(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return (
        "{ "
        + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items())
        + " }"
    )


def toml_text(raw: dict) -> str:
    lines = []
    for section, table in raw.items():
        if not isinstance(table, dict):
            lines.append(f"{json.dumps(section)} = {toml_value(table)}")
            continue
        lines.append(f"[{json.dumps(section)}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# ---- generators ------------------------------------------------------------------

KEYS = [(s, k) for s, cls in SECTIONS.items() for k in cls.__dataclass_fields__]
KEYS += [("sweep", k) for k in ("seed", "learning_rate", "l2", "fold", "bootstrap")]
KEYS += [("sweep", "class"), *(("sweep", k) for k in FLOAT_HPARAMS[:3])]
NAMES = ["adam", "lbfgs", "sgd", "bce", "step", "cosine", "iris", "all", "float64"]
NAMES += ["normal", "autodiff", "cost", "xor", "blobs", "b1", "decay_steps"]

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, 3, -1, 2**31, 3_000_000_000, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-45, 1e-300, 1e300, 0.5, 1.5]),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(NAMES),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.sampled_from(["start", "stop", "num", "log", "b1", "bogus"]),
                    scalars, max_size=4),
)  # fmt: skip


@st.composite
def broken_configs(draw) -> dict:
    raw = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 9)) == 0:  # an unknown key or table
            section = draw(st.sampled_from([*SECTIONS, "sweep", "trian"]))
            key = draw(st.text(min_size=1, max_size=8))
        else:
            section, key = draw(st.sampled_from(KEYS))
        table = raw.setdefault(section, {})
        table[key] = draw(values)
    return raw


overrides = st.lists(
    st.one_of(
        st.builds(
            lambda k, v: f"{k[0]}.{k[1]}={v}",
            st.sampled_from(KEYS),
            st.one_of(st.sampled_from(NAMES), st.text(max_size=8),
                      scalars.map(toml_value)),
        ),
        st.text(max_size=16),
    ),
    max_size=2,
)  # fmt: skip

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5).map(str),
    st.sampled_from(["", "x", "nan", "inf", "1e400", '"', "a,b", " 1 ", "１"]),
    st.text(max_size=5),
)


@st.composite
def broken_csvs(draw) -> bytes:
    kind = draw(st.sampled_from(["table", "empty", "header", "bytes"]))
    if kind == "empty":
        return b""
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    width = draw(st.integers(1, 4))
    header = ",".join(f"c{j}" for j in range(width - 1)) + ",label"
    rows = [header]
    if kind == "table":
        for _ in range(draw(st.integers(1, 12))):
            n = draw(st.sampled_from([width, width, width, width - 1, width + 1]))
            row = [draw(cells) for _ in range(max(n - 1, 0))]
            rows.append(",".join([*row, draw(st.sampled_from(["a", "b", "b"]))]))
    text = "\n".join(rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


# ---- the contract ----------------------------------------------------------------


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def within_budget(test: str) -> bool:
    """Whether another successful (training) case may run in this test."""
    _successes[test] = _successes.get(test, 0) + 1
    return _successes[test] <= SUCCESS_BUDGET


def check_contract(
    code: int, err: str, before: set[str], sandbox: Path, *, runs: bool = True
) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert files_under(sandbox) == before, err  # nothing created or removed
        assert ".tmp" not in err  # never a temporary file's name
        return
    assert not [line for line in err.splitlines() if line.startswith("error")]
    for run_json in sandbox.rglob("run.json") if runs else ():
        folder = run_json.parent
        names = {p.name for p in folder.iterdir()}
        assert names >= RUN_FILES, names
        assert not [n for n in names if n.endswith(".tmp") or n == "checkpoint.npz"]
        assert json.loads(run_json.read_text())["status"] == "completed"


@contextlib.contextmanager
def sandbox():
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with contextlib.chdir(root):
            yield root


def run_cli(argv, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


# ---- the properties --------------------------------------------------------------


@FUZZ
@given(raw=broken_configs(), sets=overrides)
def test_broken_configs_keep_the_contract(raw, sets, capsys):
    with sandbox() as root:
        cfg = root / "fuzz.toml"
        cfg.write_text(toml_text(raw))
        argv = ["run", str(cfg), "--quiet", "--no-cache"]
        for item in sets:
            argv += ["--set", item]
        argv += ["--set", f"output.dir={root / 'runs'}"]
        with contextlib.suppress(Exception):
            load_config(cfg, argv[5::2])  # valid configs train: only a few
            assume(within_budget("configs"))
        before = files_under(root)
        code, err = run_cli(argv, capsys)
        check_contract(code, err, before, root)


@FUZZ
@given(text=st.binary(max_size=80))
def test_garbage_config_files_keep_the_contract(text, capsys):
    with sandbox() as root:
        cfg = root / "x.toml"
        cfg.write_bytes(text)
        with contextlib.suppress(Exception):
            load_config(cfg)
            assume(within_budget("garbage"))
        before = files_under(root)
        code, err = run_cli(["run", str(cfg), "--quiet", "--no-cache"], capsys)
        check_contract(code, err, before, root)


@FUZZ
@given(content=broken_csvs(), test_fraction=st.sampled_from([0.0, 0.25, 0.5]))
def test_broken_csv_files_keep_the_contract(content, test_fraction, capsys):
    with sandbox() as root:
        data = root / "data.csv"
        data.write_bytes(content)
        cfg = root / "csv.toml"
        cfg.write_text(
            f"[data]\nsource = {json.dumps(str(data))}\n"
            f"test_fraction = {test_fraction}\n"
            "[train]\nmax_epochs = 3\n[output]\nplots = false\nmetric = 'cost'\n"
        )
        with contextlib.suppress(Exception):
            from jaxperc.experiment.problem import prepare

            prepare(load_config(cfg))
            assume(within_budget("csv"))
        before = files_under(root)
        argv = ["run", str(cfg), "--quiet", "--no-cache", "--set"]
        code, err = run_cli([*argv, f"output.dir={root / 'runs'}"], capsys)
        check_contract(code, err, before, root)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-run")
    cfg = folder / "tiny.toml"
    cfg.write_text(toml_text(BASE))
    os.environ["JAXPERC_CACHE_DIR"] = "off"
    try:
        assert main(["run", str(cfg), "--quiet", "--out", str(folder / "run")]) == 0
    finally:
        del os.environ["JAXPERC_CACHE_DIR"]
    return folder / "run"


DAMAGE = st.sampled_from(["delete", "truncate", "garbage", "empty"])


@settings(FUZZ, max_examples=1000 if NIGHTLY else 100)
@given(
    target=st.sampled_from(sorted(RUN_FILES)),
    damage=DAMAGE,
    cut=st.integers(0, 400),
    garbage=st.binary(max_size=40),
    status=st.sampled_from(["completed", "interrupted", "running"]),
    command=st.sampled_from(["resume", "predict"]),
)
def test_broken_run_folders_keep_the_contract(
    finished_run, target, damage, cut, garbage, status, command, capsys
):
    with sandbox() as root:
        run = root / "run"
        shutil.copytree(finished_run, run)
        info = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**info, "status": status}))
        path = run / target
        if damage == "delete":
            path.unlink()
        elif damage == "truncate":
            path.write_bytes(path.read_bytes()[:cut])
        elif damage == "garbage":
            path.write_bytes(garbage)
        else:
            path.write_bytes(b"")
        inputs = root / "in.csv"
        inputs.write_text("x1,x2\n0.5,1.0\n-1,2\n")
        if command == "resume":
            if status != "completed" and target == "params.npz":
                assume(within_budget("resume"))  # this resume trains
            argv = ["run", "--resume", str(run), "--quiet", "--no-cache"]
        else:
            argv = ["predict", str(run), "--input", str(inputs)]
        before = files_under(root)
        code, err = run_cli(argv, capsys)
        check_contract(code, err, before, root, runs=command == "resume")
