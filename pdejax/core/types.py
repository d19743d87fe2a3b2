"""The shape vocabulary used on every public signature.

One place for the names, so that an annotation reads the same in every module:
a single sample is channels first, ``(C, *spatial)``; a trajectory stacks time on the left,
``(T, C, *spatial)``; a batch is added on the left by :func:`jax.vmap` and never appears here.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Complex, Float, Int, PyTree

State = Float[Array, "C *spatial"]
"""One unbatched state, channels first."""

Trajectory = Float[Array, "T C *spatial"]
"""A sequence of states, time first."""

Field = Float[Array, "*spatial"]
"""A scalar field on a grid, no channel axis."""

SpectralField = Complex[Array, "*modes"]
"""A field in `rfftn` layout: the last axis holds the non-negative frequencies only."""

Scalar = Float[Array, ""]
"""A 0-d array: physical and numerical parameters (``nu``, ``dt``) are stored this way."""

ScalarLike = Float[ArrayLike, ""]


def to_precision(tree: PyTree, dtype) -> PyTree:
    """Cast the floating and complex arrays of ``tree`` to the precision of the real ``dtype``
    (float32 -> float32 / complex64, float64 -> float64 / complex128); other leaves unchanged.

    Used by prepared steppers, whose coefficients are computed once in the parameters' dtype,
    so that a state of another precision keeps its own (a ``lax.scan`` carry must not change
    type), e.g. a float32 state with float64 parameters under ``jax_enable_x64``.

    Example (float64 coefficients for a float32 state; integers and Python scalars unchanged):
        >>> import jax.numpy as jnp
        >>> tree = (jnp.ones(3, jnp.float64), jnp.ones(3, jnp.complex128),
        ...         jnp.arange(3, dtype=jnp.int32), 0.5)
        >>> [getattr(x, "dtype", x) for x in to_precision(tree, jnp.float32)]
        [dtype('float32'), dtype('complex64'), dtype('int32'), 0.5]
    """
    real = jnp.dtype(dtype)
    cplx = jnp.result_type(real, jnp.complex64)

    def cast(x):
        if not isinstance(x, jax.Array | jnp.ndarray):
            return x
        if jnp.issubdtype(x.dtype, jnp.complexfloating):
            return x.astype(cplx)
        if jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(real)
        return x

    return jax.tree.map(cast, tree)


__all__ = [
    "Array",
    "ArrayLike",
    "Bool",
    "Complex",
    "Field",
    "Float",
    "Int",
    "PyTree",
    "Scalar",
    "ScalarLike",
    "SpectralField",
    "State",
    "Trajectory",
]
