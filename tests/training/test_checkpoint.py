"""Checkpoint files: bitwise round trip, atomic writes, one-line errors if damaged."""

import io
import zipfile

import numpy as np
import pytest

from jaxperc.errors import CheckpointError, JaxpercError
from jaxperc.training.checkpoint import (
    FORMAT_VERSION,
    RunState,
    atomic_write,
    load_run_state,
    save_run_state,
)


def _state() -> RunState:
    rng = np.random.default_rng(0)
    cost = rng.normal(size=(3, 5)).astype(np.float32)
    cost[1, 3:] = np.nan  # a model that stopped early
    return RunState(
        leaves=(
            rng.normal(size=(4, 2)).astype(np.float32),
            rng.normal(size=4),  # float64
            np.array([0, 4, 1, 0], np.int32),
            np.array([True, False, True, True]),
            np.array([-0.0, np.inf, -np.inf, 1e-45], np.float32),
        ),
        slot_ids=np.array([2, 0, -1, -1]),
        epoch=5,
        chunk=2,
        cost_history=cost,
        accuracy_history=np.zeros((3, 0), np.float32),
    )


def test_round_trip_is_bitwise_in_every_field(tmp_path):
    state = _state()
    path = tmp_path / "checkpoint.npz"
    save_run_state(path, state)
    got = load_run_state(path)
    assert type(got) is RunState and got._fields == state._fields
    assert len(got.leaves) == len(state.leaves)
    arrays = [*zip(got.leaves, state.leaves, strict=True)]
    arrays += [(got.slot_ids, state.slot_ids), (got.cost_history, state.cost_history)]
    arrays += [(got.accuracy_history, state.accuracy_history)]
    for a, b in arrays:
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # NaN, -0.0 and subnormals included
    assert (got.epoch, got.chunk) == (5, 2)
    assert type(got.epoch) is int and type(got.chunk) is int


def test_saving_again_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save_run_state(path, _state())
    save_run_state(path, _state()._replace(epoch=9))
    assert load_run_state(path).epoch == 9
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]


def test_atomic_write_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def fail(f):
        f.write(b"half of the new")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_gives_the_mode_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    atomic_write(tmp_path / "atomic", lambda f: f.write(b"x"))
    assert (tmp_path / "atomic").stat().st_mode == plain.stat().st_mode


def test_atomic_write_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "nowhere" / "out.bin"
    with pytest.raises(JaxpercError, match="cannot write") as info:
        atomic_write(target, lambda f: f.write(b"x"))
    assert str(target) in str(info.value) and "\n" not in str(info.value)


def _damaged(tmp_path, how: str):
    good = tmp_path / "good.npz"
    save_run_state(good, _state())
    data = good.read_bytes()
    bad = tmp_path / f"{how}.npz"
    if how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        bad.write_bytes(np.random.default_rng(1).bytes(2000))
    elif how == "empty":
        bad.write_bytes(b"")
    elif how == "text":
        bad.write_text("epoch = 5\n")
    elif how == "pickled":  # an object array: needs pickle, which is refused
        np.savez(bad, format_version=np.array([{"a": 1}], dtype=object))
    elif how == "missing-field":
        arrays = dict(np.load(good))
        del arrays["cost_history"]
        np.savez(bad, **arrays)
    elif how == "float-epoch":
        arrays = dict(np.load(good))
        arrays["epoch"] = np.float64(5.0)
        np.savez(bad, **arrays)
    elif how == "zip-not-npz":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("hello.txt", "not an array")
        bad.write_bytes(buffer.getvalue())
    return bad


@pytest.mark.parametrize(
    "how",
    ["truncated", "garbage", "empty", "text", "pickled", "missing-field",
     "float-epoch", "zip-not-npz"],
)  # fmt: skip
def test_a_damaged_file_gives_one_line_naming_it(tmp_path, how):
    bad = _damaged(tmp_path, how)
    with pytest.raises(CheckpointError) as info:
        load_run_state(bad)
    message = str(info.value)
    assert message.startswith(f"{bad}: ") and "\n" not in message
    assert "without --resume" in message
    said = message.removeprefix(f"{bad}: ")
    assert "allow_pickle" not in said and "pickle" not in said.lower()


def test_another_format_version_is_named(tmp_path):
    path = tmp_path / "old.npz"
    save_run_state(path, _state())
    arrays = dict(np.load(path))
    arrays["format_version"] = np.int64(FORMAT_VERSION - 1)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=f"format {FORMAT_VERSION - 1} is not"):
        load_run_state(path)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint there"):
        load_run_state(tmp_path / "absent.npz")
