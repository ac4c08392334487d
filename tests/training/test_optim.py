"""Optimizers and learning-rate schedules by name, checked before anything compiles.

Oracles: the update rules written out (gradient descent, heavy-ball momentum) and
the closed forms of the schedules.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxperc.core.model import Params
from jaxperc.errors import JaxpercError
from jaxperc.training.optim import (
    OPTIMIZERS,
    SCHEDULES,
    check_learning_rate,
    make_optimizer,
    make_schedule,
    optimizer_options,
)

G1 = Params(jnp.array([1.0, -2.0], jnp.float32), jnp.array(0.5, jnp.float32))
G2 = Params(jnp.array([0.25, 4.0], jnp.float32), jnp.array(-1.0, jnp.float32))
P0 = Params(jnp.zeros(2, jnp.float32), jnp.zeros((), jnp.float32))


def _assert_params_close(got, want, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(got.w), np.asarray(want.w), rtol=rtol)
    np.testing.assert_allclose(np.asarray(got.b), np.asarray(want.b), rtol=rtol)


def _directions(opt, hp, grads):
    state = opt.init(P0, hp)
    out = []
    for g in grads:
        direction, state = opt.update(g, state, P0, hp, None, None)
        out.append(direction)
    return out


# the optimizers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [o for o in OPTIMIZERS if o not in ("lbfgs", "newton")]
)
def test_every_first_order_optimizer_builds_and_descends(name):
    opt = make_optimizer(name)
    assert opt.name == name and opt.uses_learning_rate
    (direction,) = _directions(opt, {}, [G1])
    # a first step points against the gradient, coordinate by coordinate
    assert (np.sign(np.asarray(direction.w)) == -np.sign(np.asarray(G1.w))).all()
    assert np.sign(float(direction.b)) == -np.sign(float(G1.b))


def test_gd_and_sgd_step_along_minus_the_gradient():
    for name in ("gd", "sgd"):
        first, second = _directions(make_optimizer(name), {}, [G1, G2])
        _assert_params_close(first, Params(-G1.w, -G1.b))
        _assert_params_close(second, Params(-G2.w, -G2.b))


def test_momentum_accumulates_the_gradients():
    # heavy ball: v₁ = g₁, v₂ = β v₁ + g₂, direction = −v (float32, rtol 1e-6)
    beta = 0.8
    opt = make_optimizer("momentum", {"momentum": beta})
    assert opt.float_hparams == ("momentum",)
    hp = {"momentum": beta}
    first, second = _directions(opt, hp, [G1, G2])
    _assert_params_close(first, Params(-G1.w, -G1.b))
    _assert_params_close(second, Params(-(beta * G1.w + G2.w), -(beta * G1.b + G2.b)))


def test_a_swept_option_is_a_per_model_hyperparameter():
    opt = make_optimizer("adam", {"b1": np.array([0.8, 0.9]), "eps": 1e-6})
    assert set(opt.float_hparams) == {"b1", "eps"}
    refused = "optimizer 'adam' has no option 'b3'"
    with pytest.raises(JaxpercError, match=refused):
        make_optimizer("adam", {"b3": np.array([0.8, 0.9])})


def test_lbfgs_picks_its_own_step():
    opt = make_optimizer("lbfgs", {"memory_size": 4})
    assert not opt.uses_learning_rate
    check_learning_rate(opt, 0.1)
    with pytest.raises(JaxpercError, match="do not sweep learning_rate"):
        check_learning_rate(opt, np.array([0.1, 0.2]))
    check_learning_rate(make_optimizer("gd"), np.array([0.1, 0.2]))
    with pytest.raises(JaxpercError, match="remove learning_rate"):
        make_optimizer("lbfgs", {"learning_rate": 0.1})


def test_an_unknown_optimizer_gets_a_did_you_mean():
    with pytest.raises(JaxpercError) as info:
        make_optimizer("adma")
    message = str(info.value)
    assert message.startswith("optimizer='adma' is not known; did you mean 'adam'?")
    assert all(repr(o) in message for o in OPTIMIZERS)


def test_options_are_checked_against_the_optax_signature():
    with pytest.raises(JaxpercError, match="did you mean 'momentum'"):
        make_optimizer("sgd", {"momentom": 0.9})
    with pytest.raises(JaxpercError, match=r"'nesterov' .* must be true or false"):
        make_optimizer("sgd", {"nesterov": 1})
    with pytest.raises(JaxpercError, match=r"'b1' .* must be a finite number"):
        make_optimizer("adam", {"b1": "0.9"})
    with pytest.raises(JaxpercError, match="must be a finite number, got nan"):
        make_optimizer("adam", {"b2": math.nan})
    with pytest.raises(JaxpercError, match=r"'memory_size' .* integer in 0\.\."):
        make_optimizer("lbfgs", {"memory_size": 2.5})
    with pytest.raises(JaxpercError, match="'gd' takes no arguments"):
        make_optimizer("gd", {"momentum": 0.9})
    with pytest.raises(JaxpercError, match=r"learning_rate=\.\.\., not in"):
        make_optimizer("adam", {"learning_rate": 0.1})


def test_whole_numbers_are_read_as_floats_and_integers():
    opt = make_optimizer("adam", {"b1": 0, "b2": 1})  # 0 and 1 read as 0.0, 1.0
    assert set(opt.float_hparams) == {"b1", "b2"}
    make_optimizer("lbfgs", {"memory_size": 3.0})  # a whole float is an integer


def test_every_listed_option_is_accepted_by_its_optimizer():
    samples = {float: 0.5, int: 3, bool: True}
    for name in OPTIMIZERS:
        for key, kind in optimizer_options(name).items():
            make_optimizer(name, {key: samples[kind]})


# schedules -------------------------------------------------------------------------

TOTAL = 200


@pytest.mark.parametrize("name", [None, *SCHEDULES])
def test_every_schedule_builds_and_starts_at_one_unless_warming_up(name):
    factor = make_schedule(name, None, TOTAL)
    start = float(factor(jnp.asarray(0)))
    assert start == (0.0 if name == "warmup_cosine" else 1.0)
    values = np.array([float(factor(jnp.asarray(t))) for t in range(0, TOTAL, 7)])
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()


def test_cosine_halves_midway_and_ends_at_alpha():
    f = make_schedule("cosine", None, TOTAL)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL // 2))), 0.5, atol=1e-6)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL))), 0.0, atol=1e-6)
    g = make_schedule("cosine", {"alpha": 0.2}, TOTAL)
    np.testing.assert_allclose(float(g(jnp.asarray(TOTAL))), 0.2, atol=1e-6)


def test_exponential_halves_every_tenth_of_the_run():
    f = make_schedule("exponential", None, TOTAL)
    for k in (1, 2, 3):
        t = jnp.asarray(k * TOTAL // 10)
        np.testing.assert_allclose(float(f(t)), 0.5**k, rtol=1e-5)


def test_warmup_cosine_peaks_after_a_tenth_and_alpha_is_the_end_value():
    f = make_schedule("warmup_cosine", {"alpha": 0.1}, TOTAL)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL // 20))), 0.5, rtol=1e-5)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL // 10))), 1.0, rtol=1e-6)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL))), 0.1, rtol=1e-5)


def test_linear_falls_to_zero_over_the_run():
    f = make_schedule("linear", None, TOTAL)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL // 4))), 0.75, rtol=1e-6)
    np.testing.assert_allclose(float(f(jnp.asarray(TOTAL))), 0.0, atol=1e-7)


def test_schedules_refuse_unknown_names_and_options():
    with pytest.raises(JaxpercError, match="did you mean 'cosine'"):
        make_schedule("cosin", None, TOTAL)
    with pytest.raises(JaxpercError, match="schedule 'cosine' has no option 'aplha'"):
        make_schedule("cosine", {"aplha": 0.1}, TOTAL)
    with pytest.raises(JaxpercError, match="schedule 'constant' takes no options"):
        make_schedule(None, {"alpha": 0.1}, TOTAL)
    with pytest.raises(JaxpercError, match=r"'decay_steps' .* integer"):
        make_schedule("cosine", {"decay_steps": 2.5}, TOTAL)
