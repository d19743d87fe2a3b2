"""Evaluation of a trained model on held-out data at several resolutions."""

from collections.abc import Iterable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..grids.metrics import relative_l2


def resolution_stride(n: int, s: int) -> int:
    """The stride that takes ``n`` points to ``s``: ``n / s`` on a periodic (cell) grid, or
    ``(n - 1) / (s - 1)`` on a vertex grid that includes both ends (421 -> 85 is stride 5).

    Example:
        >>> resolution_stride(1024, 256), resolution_stride(421, 85)
        (4, 5)
    """
    if isinstance(s, bool) or not isinstance(s, int) or s < 1:
        raise ValueError(f"resolution: {s!r} is not a positive number of points.")
    if s > n:
        raise ValueError(f"resolution: cannot evaluate {n}-point data at {s} points (finer).")
    if n % s == 0:
        return n // s
    if s > 1 and (n - 1) % (s - 1) == 0:
        return (n - 1) // (s - 1)
    raise ValueError(
        f"resolution: cannot subsample {n} points to {s}; use s with {n} = s * stride (a "
        f"periodic grid) or {n} - 1 = (s - 1) * stride (a vertex grid)."
    )


def strided_size(n: int, stride: int) -> int:
    """Points left after taking every ``stride``-th of ``n`` (both ends kept on a vertex grid:
    421 points with stride 5 leave 85, not 84).

    Example:
        >>> strided_size(1024, 4), strided_size(421, 5)
        (256, 85)
    """
    return len(range(0, n, stride))


def resolution_index(shape: tuple[int, ...], s: int) -> tuple:
    """Index that subsamples the spatial axes of ``(S, C, *spatial)`` data to ``s`` points."""
    stride = resolution_stride(shape[-1], s)
    return (Ellipsis,) + (slice(None, None, stride),) * (len(shape) - 2)


@eqx.filter_jit
def batched_forward(model, inputs):
    """``jax.vmap(model)(inputs)``, jitted once per model structure and input shape (module
    level, so every evaluation of a model reuses one compiled program).

    Example:
        >>> import jax.numpy as jnp
        >>> batched_forward(lambda a: 2 * a, jnp.ones((3, 1, 4))).shape
        (3, 1, 4)
    """
    return jax.vmap(model)(inputs)


def evaluate_batches(
    model, batches: Iterable[tuple[np.ndarray, np.ndarray]], resolutions: Sequence[int]
) -> dict[str, float]:
    r"""Mean relative $L^2$ error at each resolution over ``(inputs, targets)`` batches at the
    finest resolution (``(B, C, *spatial)`` each), read once for all resolutions: resolution
    ``s`` takes every :func:`resolution_stride`-th point along every spatial axis, as the FNO
    paper evaluates. Non-finite predictions are an error, never a NaN metric.

    Example:
        >>> import numpy as np
        >>> u = np.ones((2, 1, 8))
        >>> evaluate_batches(lambda a: 2 * a, [(u, u)], [8, 4])
        {'test_rel_l2@8': 1.0, 'test_rel_l2@4': 1.0}
    """
    errors: dict[int, list] = {s: [] for s in resolutions}
    for inputs, targets in batches:
        for s in resolutions:
            index = resolution_index(inputs.shape, s)
            pred = batched_forward(model, jnp.asarray(inputs[index]))
            errors[s].append(np.asarray(jax.vmap(relative_l2)(pred, jnp.asarray(targets[index]))))
    out = {}
    for s, errs in errors.items():
        errs = np.concatenate(errs) if errs else np.zeros(0)
        if not np.all(np.isfinite(errs)):
            raise ValueError(
                f"evaluate: the model's predictions at s = {s} are not finite for "
                f"{int(np.sum(~np.isfinite(errs)))} of {len(errs)} test samples (NaN or inf in "
                "the predictions or in the data); no metric is reported."
            )
        out[f"test_rel_l2@{s}"] = float(errs.mean())
    return out


def evaluate_resolutions(
    model, inputs, targets, resolutions: Sequence[int], *, batch_size: int = 32
) -> dict[str, float]:
    r"""Mean relative $L^2$ error at each resolution of in-memory test data
    ``(S, C, *spatial)`` at the finest resolution (see :func:`evaluate_batches`).

    Example:
        >>> import numpy as np
        >>> u = np.ones((3, 1, 8))
        >>> evaluate_resolutions(lambda a: a, u, u, [4])
        {'test_rel_l2@4': 0.0}
    """
    batches = (
        (inputs[lo : lo + batch_size], targets[lo : lo + batch_size])
        for lo in range(0, len(inputs), batch_size)
    )
    return evaluate_batches(model, batches, resolutions)


__all__ = [
    "batched_forward",
    "evaluate_batches",
    "evaluate_resolutions",
    "resolution_index",
    "resolution_stride",
    "strided_size",
]
