"""The shape vocabulary used on every public signature.

One place for the names, so that an annotation reads the same in every module:
a single sample is channels first, ``(C, *spatial)``; a trajectory stacks time on the left,
``(T, C, *spatial)``; a batch is added on the left by :func:`jax.vmap` and never appears here.
"""

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
