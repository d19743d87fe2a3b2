"""Evaluation of a trained model on held-out data at several resolutions."""

from collections.abc import Sequence

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


def evaluate_resolutions(
    model, inputs, targets, resolutions: Sequence[int], *, batch_size: int = 32
) -> dict[str, float]:
    r"""Mean relative $L^2$ error at each resolution, subsampling high-resolution data.

    ``inputs``/``targets`` are ``(S, C, *spatial)`` at the finest resolution; resolution ``s``
    takes every ``N // s``-th point along every spatial axis (as the FNO paper evaluates), so
    ``N`` must be a multiple of ``s`` (or ``N - 1`` of ``s - 1`` for vertex grids that include
    both ends).
    """
    out = {}
    for s in resolutions:
        index = resolution_index(inputs.shape, s)
        a, u = inputs[index], targets[index]
        errs = []
        for lo in range(0, len(a), batch_size):
            pred = batched_forward(model, jnp.asarray(a[lo : lo + batch_size]))
            errs.append(jax.vmap(relative_l2)(pred, jnp.asarray(u[lo : lo + batch_size])))
        errs = np.asarray(jnp.concatenate(errs))
        if not np.all(np.isfinite(errs)):
            raise ValueError(
                f"evaluate: the model's predictions at s = {s} are not finite for "
                f"{int(np.sum(~np.isfinite(errs)))} of {len(errs)} test samples (NaN or inf in "
                "the predictions or in the data); no metric is reported."
            )
        out[f"test_rel_l2@{s}"] = float(errs.mean())
    return out


__all__ = [
    "batched_forward",
    "evaluate_resolutions",
    "resolution_index",
    "resolution_stride",
    "strided_size",
]
