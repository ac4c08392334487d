"""The jaxperc command line, in-process through main(argv) and as a real process."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jaxperc
import jaxperc.core.grads
from jaxperc.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
TINY = """
[data]
source = "blobs"
n_samples = 60
noise = 0.5
[train]
max_epochs = 40
[sweep]
seed = [0, 1]
[output]
plots = false
"""
# runs a few seconds: long enough to be stopped after its first checkpoint
LONG = """
[data]
source = "breast_cancer"
[train]
max_epochs = 60000
tol = 0.0
[sweep]
learning_rate = [0.1, 0.5, 1.0, 2.0]
[output]
plots = false
checkpoint_every = 0.05
"""
SHRINK = {  # keep every shipped config to a few epochs and a small grid
    "large_sweep_gpu.toml": [
        "sweep.seed=[0, 1]",
        "sweep.learning_rate=[0.01, 0.1]",
        "data.n_samples=400",
    ],
}


@pytest.fixture(autouse=True)
def no_cache_in_process(monkeypatch):
    monkeypatch.setenv("JAXPERC_CACHE_DIR", "off")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Environment of subprocesses: a shared compilation cache, no TTY progress."""
    out = dict(os.environ)
    out["JAXPERC_CACHE_DIR"] = str(tmp_path_factory.mktemp("xla-cache"))
    return out


def jaxperc_process(args, env, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "jaxperc.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_runs(config, tmp_path, capsys):
    args = ["run", str(config), "--quiet", "--out", str(tmp_path / "run")]
    for item in [
        "train.max_epochs=5",
        "output.plots=false",
        *SHRINK.get(config.name, []),
    ]:
        args += ["--set", item]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "best" in out and "run folder:" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert all(m["epochs"] <= 5 for m in summary["models"])


def test_run_names_a_new_folder_and_applies_overrides(tmp_path, capsys):
    cfg = write(tmp_path / "tiny.toml", TINY)
    args = ["run", str(cfg), "--quiet", "--set", "sweep.learning_rate=[0.1,1.0]"]
    args += ["--set", f"output.dir={tmp_path / 'runs'}", "--set", "train.max_epochs=7"]
    assert main(args) == 0
    assert main(args) == 0  # a second run never reuses the first folder
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(r.name.startswith("tiny-") for r in runs)
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["n_models"] == 4
    assert {m["learning_rate"] for m in summary["models"]} == {0.1, 1.0}
    assert all(m["epochs"] <= 7 for m in summary["models"])
    info = json.loads((runs[0] / "run.json").read_text())
    assert info["command"][:2] == ["jaxperc", "run"] and "--set" in info["command"]
    out = capsys.readouterr().out
    assert "mean [95 % interval, Student t] over seed" in out


def test_out_refuses_a_non_empty_folder(tmp_path, capsys):
    cfg = write(tmp_path / "tiny.toml", TINY)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep")
    assert main(["run", str(cfg), "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not empty" in err
    assert len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path / "taken") == ["x"]


BROKEN = [
    ("[train]\nlearnin_rate = 0.1\n", "train.learnin_rate: not a known key; did you "
     "mean learning_rate?"),
    ("[train]\nmax_epochs = 'x'\n", "train.max_epochs: 'x' must be an integer"),
    ("[train]\nlearning_rate = 0.0\n", "train.learning_rate: 0.0 is out of range"),
    ("[train]\noptimizer = 'adamm'\n", "did you mean 'adam'?"),
    ("[train]\nloss = 'hinge'\n", "train.loss: 'hinge' is not known"),
    ("[model]\nactivation = 'relu'\n", "model.activation: 'relu' is not known"),
    ("[data]\nsource = 'breast_canser'\n", "did you mean 'breast_cancer'?"),
    ("[train]\nschedule = 'cosine_decay'\n", "train.schedule: 'cosine_decay'"),
    ("[sweep]\nclass = 3\n", 'sweep.class: 3 must be "all"'),
    ("[data]\nsource = 'no/such/file.csv'\n", "data.source: "),  # DataError
    ("[data]\nsource = 'iris'\n", 'sweep.class: data set iris has 3 classes'),
    ("[data]\nsource = 'iris'\npositive = 'setosaa'\n",
     'data.positive: iris: no class named "setosaa"; did you mean "setosa"?'),
    ("[data]\nsource = 'blobs'\nn_samples = 1\n", "data.n_samples: n_samples must"),
    ("[data]\nsource = 'iris'\n[sweep]\nclass = ['setosaa']\n",
     "sweep.class: 'setosaa' is not a class of iris; did you mean 'setosa'?"),
    ("[data]\nsource = 'iris'\npositive = 'setosa'\nfeatures = ['petal lenght']\n",
     "data.features: 'petal lenght' is not a feature of iris; did you mean"),
    ("[data]\nsource = 'blobs'\nn_samples = 40\n[train]\nbatch_size = 100000\n",
     "train.batch_size: 100000 exceeds the 30 training samples; use at most 30"),
    ("[train]\noptimizer = 'adam'\n[train.optimizer_kwargs]\nbogus = 1\n",
     "train.optimizer_kwargs.bogus: optimizer 'adam' has no option 'bogus'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_config_exits_2_with_one_line(tmp_path, capsys, text, expected):
    cfg = write(tmp_path / "bad.toml", text)
    runs = tmp_path / "runs"
    code = main(["run", str(cfg), "--quiet", "--set", f"output.dir={runs}"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert lines[0].startswith(f"error: {cfg}: ")
    assert expected in lines[0]
    assert "Traceback" not in err
    assert not runs.exists()


def test_broken_config_as_a_process_prints_no_traceback(tmp_path, env):
    cfg = write(tmp_path / "x.toml", "[train]\nlearnin_rate = 0.1\n")
    proc = jaxperc_process(["run", str(cfg)], env, cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.startswith(
        f"error: {cfg}: train.learnin_rate: not a known key; "
        "did you mean learning_rate? [train] has loss, grad, "
    )
    assert err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_version_and_python_dash_m(env):
    done = subprocess.run(
        [sys.executable, "-m", "jaxperc", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"jaxperc {jaxperc.__version__}"


def test_import_stays_light(env):
    code = (
        "import jaxperc, sys; "
        "assert 'matplotlib' not in sys.modules and 'sklearn' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=120)
    assert done.returncode == 0


def test_datasets_lists_bundled_sets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "breast_cancer" in out and "569" in out and "iris" in out


def test_gradcheck_passes_and_catches_a_wrong_gradient(monkeypatch, capsys, tmp_path):
    assert main(["gradcheck", "--n", "16", "--d", "3", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "gradcheck OK" in out and "max abs diff" in out and "max rel diff" in out
    cfg = write(tmp_path / "tiny.toml", TINY)
    assert main(["gradcheck", str(cfg), "--loss", "bce", "--no-cache"]) == 0
    assert "blobs (60×2)" in capsys.readouterr().out

    right = jaxperc.core.grads.manual_grad

    def wrong(params, x, y, **kw):  # a weight gradient 50 % too large
        g = right(params, x, y, **kw)
        return jaxperc.Params(1.5 * g.w, g.b)

    monkeypatch.setattr(jaxperc.core.grads, "manual_grad", wrong)
    assert main(["gradcheck", "--n", "16", "--d", "3", "--no-cache"]) == 1
    assert "gradcheck FAILED" in capsys.readouterr().out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    cfg = write(folder / "tiny.toml", TINY)
    assert main(["run", str(cfg), "--quiet", "--out", str(folder / "run")]) == 0
    return folder / "run"


def test_predict_writes_probability_and_class(tiny_run, tmp_path, capsys):
    capsys.readouterr()
    from jaxperc.experiment import rundir

    params = rundir.read_params(tiny_run)
    rows = np.array([[0.0, 1.0], [2.0, -1.0], [-3.0, 0.5]])
    csv = tmp_path / "in.csv"
    csv.write_text("x2,x1,other\n" + "".join(f"{b},{a},z\n" for a, b in rows))
    out = tmp_path / "pred.csv"
    assert (
        main(["predict", str(tiny_run), "--input", str(csv), "--output", str(out)]) == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "row,probability,class" and len(lines) == 4
    m = int(params["best"])
    z = (rows - params["mean"]) / params["scale"]
    expected = 1 / (1 + np.exp(-(z @ params["w"][m] + params["b"][m])))
    got = np.array([float(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_allclose(got, expected, rtol=1e-5)  # float32 forward
    classes = [line.split(",")[2] for line in lines[1:]]
    assert classes == [("1" if p >= 0.5 else "0") for p in expected]

    assert (
        main(["predict", str(tiny_run), "--input", str(csv), "--output", str(out)]) == 2
    )
    assert "--force" in capsys.readouterr().err
    assert main(["predict", str(tiny_run), "--input", str(csv), "--model", "1"]) == 0
    assert capsys.readouterr().out.startswith("row,probability,class\n0,")
    assert main(["predict", str(tiny_run), "--input", str(csv), "--model", "9"]) == 2
    bad = write(tmp_path / "bad.csv", "x1,y\n1,2\n")
    assert main(["predict", str(tiny_run), "--input", str(bad)]) == 2
    assert "no column 'x2'" in capsys.readouterr().err


def test_resume_of_a_completed_run_exits_2(tiny_run, capsys):
    assert main(["run", "--resume", str(tiny_run)]) == 2
    assert "already completed" in capsys.readouterr().err


def _wait_for_checkpoint(proc, run_dir: Path) -> None:
    deadline = time.monotonic() + 120
    while not (run_dir / "checkpoint.npz").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)


def _same_results(a: Path, b: Path) -> None:
    with np.load(a / "params.npz") as za, np.load(b / "params.npz") as zb:
        for key in ("w", "b"):
            np.testing.assert_array_equal(za[key], zb[key])  # bitwise on CPU
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    ha, hb = (
        pd.read_parquet(r / "metrics").sort_values(["model", "epoch"]) for r in (a, b)
    )
    assert not ha.duplicated(["model", "epoch"]).any()  # no epoch written twice
    pd.testing.assert_frame_equal(ha.reset_index(drop=True), hb.reset_index(drop=True))
    assert not list(a.rglob("*.tmp"))  # no temporary file outlives the run
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    assert sa["models"] == sb["models"]


@pytest.fixture(scope="module")
def long_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    cfg = write(folder / "long.toml", LONG)
    base = folder / "baseline"
    assert main(["run", str(cfg), "--quiet", "--out", str(base)]) == 0
    return cfg, base


def test_resume_after_sigkill_equals_an_uninterrupted_run(long_config, tmp_path, env):
    cfg, base = long_config
    run_dir = tmp_path / "killed"
    proc = jaxperc_process(["run", str(cfg), "--quiet", "--out", str(run_dir)], env)
    _wait_for_checkpoint(proc, run_dir)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert not (run_dir / "params.npz").exists()
    kept = pd.read_parquet(run_dir / "metrics")  # the history survives the kill
    assert kept["epoch"].max() >= 31 and kept["model"].nunique() == 4

    corrupt = tmp_path / "corrupt"
    shutil.copytree(run_dir, corrupt)
    (corrupt / "checkpoint.npz").write_bytes(b"not a checkpoint")
    assert main(["run", "--resume", str(corrupt), "--quiet"]) == 2
    assert not (corrupt / "params.npz").exists()

    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    _same_results(run_dir, base)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed" and len(info["resumed"]) == 1


def test_ctrl_c_saves_exits_130_and_resumes(long_config, tmp_path, env):
    cfg, base = long_config
    run_dir = tmp_path / "stopped"
    proc = jaxperc_process(["run", str(cfg), "--quiet", "--out", str(run_dir)], env)
    _wait_for_checkpoint(proc, run_dir)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert (run_dir / "checkpoint.npz").exists()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    _same_results(run_dir, base)


def test_mismatched_checkpoint_is_refused(tmp_path, capsys):
    tiny = write(tmp_path / "tiny.toml", TINY)
    run_dir = tmp_path / "mismatch"
    assert main(["run", str(tiny), "--quiet", "--out", str(run_dir)]) == 0
    info = json.loads((run_dir / "run.json").read_text())
    info["status"] = "interrupted"
    (run_dir / "run.json").write_text(json.dumps(info))
    # a checkpoint of another run (1 model on 30 features) in this run's folder
    from jaxperc.experiment.config import config_from_dict
    from jaxperc.experiment.problem import prepare

    problem = prepare(config_from_dict({"train": {"max_epochs": 64, "tol": 0.0}}))
    states = []
    rows = problem.train_idx
    jaxperc.train_models(
        problem.x[rows],
        problem.targets[rows],
        problem.per_model,
        problem.options,
        callback=lambda p: states.append(p.checkpoint()),
    )
    (run_dir / "params.npz").unlink()
    # another run's checkpoint (not this folder's run_id) is refused by its id …
    jaxperc.save_run_state(run_dir / "checkpoint.npz", states[0])
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.npz: belongs to another run" in err
    assert len(err.strip().splitlines()) == 1
    # … and one carrying this folder's id but the wrong shapes by the engine
    tagged = states[0]._replace(tag=info["run_id"])
    jaxperc.save_run_state(run_dir / "checkpoint.npz", tagged)
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint does not match" in err and len(err.strip().splitlines()) == 1
    assert not (run_dir / "params.npz").exists()


def test_float64_config_runs_in_64_bit_without_leaking_it(tmp_path):
    import jax

    cfg = write(tmp_path / "tiny.toml", TINY)
    args = ["run", str(cfg), "--quiet", "--out", str(tmp_path / "run")]
    assert main([*args, "--set", "train.dtype=float64"]) == 0
    with np.load(tmp_path / "run" / "params.npz") as z:
        assert z["w"].dtype == np.float64
    assert not jax.config.jax_enable_x64  # 64-bit only for that command


OVR = """
[data]
source = "iris"
[train]
loss = "bce"
optimizer = "adam"
learning_rate = 0.1
max_epochs = 100
[sweep]
class = "all"
[output]
plots = false
"""


def test_predict_one_vs_rest_names_classes_and_keeps_ids(tmp_path, capsys):
    cfg = write(tmp_path / "ovr.toml", OVR)
    run_dir = tmp_path / "ovr"
    assert main(["run", str(cfg), "--quiet", "--out", str(run_dir)]) == 0
    iris = jaxperc.data.load_dataset("iris")
    header = ",".join(["id", *iris.feature_names])
    rows = [f"p{i}," + ",".join(str(v) for v in iris.x[i]) for i in (0, 60, 120)]
    csv = write(tmp_path / "in.csv", "\n".join([header, *rows]) + "\n")
    capsys.readouterr()
    args = ["predict", str(run_dir), "--input", str(csv)]
    assert main([*args, "--id-column", "id"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "id,class,probability_setosa,probability_versicolor,probability_virginica"
    )
    assert [line.split(",")[0] for line in lines[1:]] == ["p0", "p60", "p120"]
    assert lines[1].split(",")[1] == "setosa"
    probs = np.array([[float(v) for v in line.split(",")[2:]] for line in lines[1:]])
    classes = np.array(["setosa", "versicolor", "virginica"])
    assert [line.split(",")[1] for line in lines[1:]] == list(classes[probs.argmax(1)])
    assert main([*args, "--model", "0"]) == 0
    assert capsys.readouterr().out.startswith("row,probability,class\n0,")
    assert main([*args, "--id-column", "x"]) == 2
    assert "no column 'x'" in capsys.readouterr().err


def test_show_and_compare(tiny_run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["show", str(tiny_run)]) == 0
    out = capsys.readouterr().out
    assert "best 2 of 2 models" in out and f"run folder: {tiny_run}" in out
    cfg = write(tmp_path / "tiny.toml", TINY)
    other = tmp_path / "other"
    args = ["run", str(cfg), "--quiet", "--out", str(other)]
    assert main([*args, "--set", "train.max_epochs=3"]) == 0
    capsys.readouterr()
    table = tmp_path / "cmp.csv"
    assert main(["compare", str(tiny_run), str(other), "--out", str(table)]) == 0
    out = capsys.readouterr().out
    assert "train.max_epochs" in out and "best test_accuracy" in out
    lines = table.read_text().splitlines()
    assert lines[0] == "setting,run,other"
    assert "train.max_epochs,40,3" in lines
    assert main(["compare", str(tiny_run), "--out", str(table)]) == 2  # exists
    assert main(["show", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_same_second_runs_get_distinct_folders_and_names_stay_inside(tmp_path):
    from jaxperc.experiment import rundir

    where = rundir.NewRunFolder(tmp_path / "runs", "exp")
    first, made = rundir.claim_run_dir(where)
    second, _ = rundir.claim_run_dir(where)
    third, _ = rundir.claim_run_dir(where)
    assert made == [tmp_path / "runs", first]
    assert first != second != third
    assert second.name.endswith("-2") or second.name[-6:] != first.name[-6:]
    cfg = write(tmp_path / "tiny.toml", TINY)
    code = main(
        ["run", str(cfg), "--name", "../../x", "--set", f"output.dir={where.root}"]
    )
    assert code == 2
    assert not (tmp_path / "x").exists() and not tmp_path.parent.joinpath("x").exists()


def test_resume_refuses_an_edited_config_and_cleans_temporaries(tmp_path, capsys):
    cfg = write(tmp_path / "tiny.toml", TINY)
    run_dir = tmp_path / "run"
    assert main(["run", str(cfg), "--quiet", "--out", str(run_dir)]) == 0
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    (run_dir / "metrics.csv12345.tmp").write_text("half")
    text = (run_dir / "config.toml").read_text()
    (run_dir / "config.toml").write_text(
        text.replace("learning_rate = 0.1", "learning_rate = 0.5")
    )
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run_dir / 'config.toml'}: differs from the config")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    (run_dir / "config.toml").write_text(text)
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    assert not list(run_dir.glob("*.tmp"))


def test_user_errors_leave_no_runs_folder_and_name_the_file(tmp_path, capsys):
    cfg = write(tmp_path / "tiny.toml", TINY)
    runs = tmp_path / "runs"
    for item in ["train.batch_size=100000", "train.max_epochs=3000000000"]:
        code = main(["run", str(cfg), "--set", item, "--set", f"output.dir={runs}"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"error: {cfg}: --set train."), err
        assert not runs.exists()
    code = main(["run", str(cfg), "--set", "train.optimizer=adam",
                 "--set", "train.optimizer_kwargs.bogus=1",
                 "--set", f"output.dir={runs}"])  # fmt: skip
    assert code == 2 and "has no option 'bogus'" in capsys.readouterr().err


def test_predict_errors_name_the_file(tiny_run, tmp_path, capsys):
    csv = write(tmp_path / "in.csv", "x1,x2\n0,1\n")
    out = tmp_path / "no" / "such" / "pred.csv"
    assert (
        main(["predict", str(tiny_run), "--input", str(csv), "--output", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: cannot write") and ".tmp" not in err
    broken = tmp_path / "broken"
    shutil.copytree(tiny_run, broken)
    (broken / "params.npz").write_bytes(b"garbage")
    assert main(["predict", str(broken), "--input", str(csv)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken / 'params.npz'}: not a readable")
    assert "BadZipFile" not in err and "allow_pickle" not in err


def test_warnings_are_one_line_and_w_error_makes_them_errors(tmp_path, capsys):
    import warnings

    import jaxperc.data

    data = write(tmp_path / "c.csv", "a,b,label\n1,5,x\n2,5,y\n3,5,x\n4,5,y\n")
    cfg = write(
        tmp_path / "c.toml",
        f'[data]\nsource = "{data}"\ntest_fraction = 0.0\n[train]\nmax_epochs = 2\n'
        "[output]\nplots = false\nmetric = 'cost'\n",
    )
    args = ["run", str(cfg), "--quiet", "--out", str(tmp_path / "run")]
    with warnings.catch_warnings():
        warnings.simplefilter("default", jaxperc.data.ConstantFeatureWarning)
        assert main(args) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: constant feature")
    assert '"b"' in err
    assert issubclass(jaxperc.data.ConstantFeatureWarning, jaxperc.JaxpercWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", jaxperc.JaxpercWarning)
        assert main([*args[:-1], str(tmp_path / "run2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: constant feature") and err.count("\n") == 1
    assert not (tmp_path / "run2").exists()
