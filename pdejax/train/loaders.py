"""Training data: in-memory mini-batches (:class:`ArrayLoader`) and on-device generation inside
the training step (:class:`OnlineSource`).

Both are reproducible and resumable: batch ``s`` is a pure function of the seed and ``s``, so a
resumed run sees exactly the batches an uninterrupted one would.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..data.problems import Problem


class ArrayLoader:
    """Mini-batches of in-memory arrays, reshuffled every epoch.

    The order of epoch ``e`` is ``numpy.random.default_rng([seed, e]).permutation``: a pure
    function of the seed and the epoch, so a resumed run sees the same batches. Incomplete
    last batches are dropped.
    """

    def __init__(self, inputs, targets, batch_size: int, *, seed: int = 0, shuffle: bool = True):
        if len(inputs) != len(targets):
            raise ValueError("ArrayLoader: `inputs` and `targets` need the same number of samples.")
        if not 0 < batch_size <= len(inputs):
            raise ValueError(
                f"ArrayLoader: `batch_size` must be in [1, {len(inputs)}] (the number of "
                f"samples), got {batch_size}."
            )
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        self.batch_size, self.seed, self.shuffle = batch_size, seed, shuffle

    @property
    def batches_per_epoch(self) -> int:
        return len(self.inputs) // self.batch_size

    def _order(self, epoch: int) -> np.ndarray:
        if getattr(self, "_cached_epoch", None) != epoch:  # one permutation per epoch, not step
            n = len(self.inputs)
            rng = np.random.default_rng([self.seed, epoch])
            self._cached_order = rng.permutation(n) if self.shuffle else np.arange(n)
            self._cached_epoch = epoch
        return self._cached_order

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, index = divmod(step, self.batches_per_epoch)
        order = self._order(epoch)
        sel = np.sort(order[index * self.batch_size : (index + 1) * self.batch_size])
        return self.inputs[sel], self.targets[sel]


class OnlineSource:
    """Training data generated on device inside the jitted step: no disk involved.

    Batch ``s`` is ``vmap(problem.solve)(vmap(problem.sample_input)(keys))`` with keys folded
    from ``(seed, s)``, so it is reproducible and resumable like an :class:`ArrayLoader`.
    """

    def __init__(self, problem: Problem, batch_size: int, *, seed: int = 0, dtype=jnp.float32):
        self.problem, self.batch_size, self.seed, self.dtype = problem, batch_size, seed, dtype
        self.batches_per_epoch = 1  # an "epoch" is one batch of fresh samples

    def keys(self, step: int) -> jax.Array:
        base = jr.fold_in(jr.key(self.seed), step)
        return jr.split(base, self.batch_size)

    def generate(self, keys):
        def one(key):
            a = self.problem.sample_input(key).astype(self.dtype)
            return a, self.problem.solve(a).astype(self.dtype)

        return jax.vmap(one)(keys)


__all__ = ["ArrayLoader", "OnlineSource"]
