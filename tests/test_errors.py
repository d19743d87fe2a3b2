"""The error policy: shape messages, positivity checks, non-finite detection inside jit."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from pdejax import check_state_shape, error_if_not_finite
from pdejax.core import check_positive


def test_shape_error_names_the_expected_shape_and_suggests_vmap():
    with pytest.raises(
        ValueError, match=r"Model: `u` has shape \(4, 2, 8\), expected \(2, 8\).*vmap"
    ):
        check_state_shape(jnp.zeros((4, 2, 8)), (2, 8), who="Model")
    with pytest.raises(ValueError, match=r"expected \(1, \*\)"):
        check_state_shape(jnp.zeros((3, 5)), (1, None), who="Model")
    check_state_shape(jnp.zeros((1, 5)), (1, None), who="Model")  # wildcard accepts any size


def test_check_positive():
    with pytest.raises(ValueError, match="`nu` must be positive"):
        check_positive(0.0, name="nu", who="Solver")
    with pytest.raises(ValueError, match="`nu` must be non-negative"):
        check_positive(-1.0, name="nu", who="Solver", allow_zero=True)
    with pytest.raises(ValueError, match="finite"):
        check_positive(jnp.inf, name="nu", who="Solver")
    check_positive(0.0, name="nu", who="Solver", allow_zero=True)
    assert check_positive(0.5, name="nu", who="Solver") == 0.5  # concrete: returned as is
    # a traced value cannot be inspected at construction: it comes back with a run-time check
    f = jax.jit(lambda x: 2 * check_positive(x, name="nu", who="Solver"))
    assert float(f(1.0)) == 2.0
    with pytest.raises(Exception, match="Solver: `nu` must be positive and finite, but a traced"):
        f(-1.0)


def test_error_if_not_finite_raises_inside_jit():
    f = eqx.filter_jit(lambda u: error_if_not_finite(u * 2, "state became non-finite"))
    assert float(f(jnp.ones(3)).sum()) == 6.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="state became non-finite"):
        f(jnp.array([1.0, jnp.nan, 0.0]))
    # under plain jax.jit the same check still stops the program, with a less tidy exception
    g = jax.jit(lambda u: error_if_not_finite(u, "state became non-finite"))
    with pytest.raises(Exception, match="state became non-finite"):
        g(jnp.array([jnp.inf]))
