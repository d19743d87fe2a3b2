"""Validation of per-axis grid parameters, shared by PeriodicGrid and VertexGrid."""

import math
from collections.abc import Sequence

import numpy as np

from ..core.errors import check_positive


def per_axis(value, ndim: int, name: str, cast, who: str) -> tuple:
    """One value per axis from a scalar (repeated) or a sequence of length ``ndim``.

    Example:
        >>> per_axis(1, 3, "domain_length", float, "MyGrid")
        (1.0, 1.0, 1.0)
        >>> per_axis([1.0, 2.0], 3, "domain_length", float, "MyGrid")
        Traceback (most recent call last):
        ValueError: MyGrid: `domain_length` has 2 entries but the grid has 3 axes; give one value per axis or a single value for all.
    """
    values = tuple(value) if isinstance(value, Sequence) else (value,) * ndim
    if len(values) != ndim:
        raise ValueError(
            f"{who}: `{name}` has {len(values)} entries but the grid has {ndim} axes; give one "
            "value per axis or a single value for all."
        )
    return tuple(cast(v) for v in values)


def grid_axes(
    who: str, num_points, domain_length, origin, ndim: int | None, *, min_points: int, why: str
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]:
    """Validated ``(num_points, domain_length, origin)`` tuples of a 1-3 dimensional grid.

    Example (the dimension comes from ``num_points`` when it is a sequence):
        >>> grid_axes("MyGrid", (32, 16), 2.0, 0, None, min_points=2, why="")
        ((32, 16), (2.0, 2.0), (0.0, 0.0))
        >>> grid_axes("MyGrid", 3, 1.0, 0.0, None, min_points=4, why=" (for the FFT)")
        Traceback (most recent call last):
        ValueError: MyGrid: `num_points` must be integers of at least 4 (for the FFT), got 3.
    """
    if isinstance(num_points, Sequence):
        if ndim is not None and ndim != len(num_points):
            raise ValueError(
                f"{who}: `ndim`={ndim} disagrees with `num_points`={tuple(num_points)}."
            )
        ndim = len(num_points)
    elif ndim is None:
        ndim = len(domain_length) if isinstance(domain_length, Sequence) else 1
    if ndim not in (1, 2, 3):
        raise ValueError(f"{who}: `ndim` must be 1, 2 or 3, got {ndim}.")
    points = per_axis(num_points, ndim, "num_points", lambda n: n, who)
    for n in points:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < min_points:
            raise ValueError(
                f"{who}: `num_points` must be integers of at least {min_points}{why}, got "
                f"{num_points!r}."
            )
    lengths = per_axis(domain_length, ndim, "domain_length", float, who)
    check_positive(lengths, name="domain_length", who=who)
    origins = per_axis(origin, ndim, "origin", float, who)
    if not all(math.isfinite(o) for o in origins):
        raise ValueError(f"{who}: `origin` must be finite, got {origin!r}.")
    return tuple(int(n) for n in points), lengths, origins
