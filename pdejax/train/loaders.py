"""Training data: in-memory mini-batches (:class:`ArrayLoader`) and on-device generation inside
the training step (:class:`OnlineSource`).

Both are reproducible and resumable: batch ``s`` is a pure function of the seed and ``s``, so a
resumed run sees exactly the batches an uninterrupted one would.
"""

from concurrent.futures import Future, ThreadPoolExecutor

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..data.problems import Problem


class _EpochOrder:
    """The sample order of epoch ``e``: ``numpy.random.default_rng([seed, e]).permutation``, a
    pure function of the seed and the epoch, so a resumed run sees the same batches; batch ``s``
    is a sorted slice of it (sorted: a file reads its rows in order). Incomplete last batches are
    dropped."""

    def __init__(self, num_samples: int, batch_size: int, seed: int, shuffle: bool, who: str):
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or not 0 < batch_size <= num_samples
        ):
            raise ValueError(
                f"{who}: `batch_size` must be in [1, {num_samples}] (the number of training "
                f"samples), got {batch_size!r}."
            )  # fmt: skip
        self.num_samples, self.batch_size, self.seed, self.shuffle = (
            num_samples, batch_size, seed, shuffle,
        )  # fmt: skip
        self._cached_epoch = None

    @property
    def batches_per_epoch(self) -> int:
        return self.num_samples // self.batch_size

    def _order(self, epoch: int) -> np.ndarray:
        if self._cached_epoch != epoch:  # one permutation per epoch, not per step
            rng = np.random.default_rng([self.seed, epoch])
            n = self.num_samples
            self._cached_order = rng.permutation(n) if self.shuffle else np.arange(n)
            self._cached_epoch = epoch
        return self._cached_order

    def selection(self, step: int) -> np.ndarray:
        epoch, index = divmod(step, self.batches_per_epoch)
        order = self._order(epoch)
        return np.sort(order[index * self.batch_size : (index + 1) * self.batch_size])


class ArrayLoader(_EpochOrder):
    """Mini-batches of in-memory arrays, reshuffled every epoch (see :class:`StreamingLoader`
    for data read from disk batch by batch, in the same order).

    Example:
        >>> import numpy as np
        >>> loader = ArrayLoader(np.arange(8.0)[:, None], np.zeros((8, 1)), 4, seed=0)
        >>> loader.batches_per_epoch, loader.batch(0)[0].shape
        (2, (4, 1))
    """

    def __init__(self, inputs, targets, batch_size: int, *, seed: int = 0, shuffle: bool = True):
        if len(inputs) != len(targets):
            raise ValueError("ArrayLoader: `inputs` and `targets` need the same number of samples.")
        super().__init__(len(inputs), batch_size, seed, shuffle, "ArrayLoader")
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        sel = self.selection(step)
        return self.inputs[sel], self.targets[sel]


class StreamingLoader(_EpochOrder):
    """Mini-batches read on demand by ``read(sorted_positions) -> (inputs, targets)`` (e.g. from
    an HDF5 file), in exactly the order of an :class:`ArrayLoader` on the same data, so a run
    gives the same result in memory or streamed. A background thread reads the next
    ``prefetch`` batches ahead; host memory holds at most ``prefetch + 1`` batches, whatever
    the size of the data.

    Example:
        >>> import numpy as np
        >>> x = np.arange(8.0)[:, None]
        >>> stream = StreamingLoader(lambda i: (x[i], 2 * x[i]), 8, 4, seed=0)
        >>> bool(np.all(stream.batch(1)[0] == ArrayLoader(x, 2 * x, 4, seed=0).batch(1)[0]))
        True
        >>> stream.close()
    """

    def __init__(
        self, read, num_samples: int, batch_size: int, *, seed: int = 0, shuffle: bool = True,
        prefetch: int = 2,
    ):  # fmt: skip
        super().__init__(num_samples, batch_size, seed, shuffle, "StreamingLoader")
        self.read, self.prefetch = read, prefetch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdejax-prefetch")
        self._pending: dict[int, Future] = {}

    def _submit(self, step: int) -> None:
        if step not in self._pending:
            self._pending[step] = self._pool.submit(self.read, self.selection(step))

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        for stale in [s for s in self._pending if s < step]:
            self._pending.pop(stale).cancel()
        for ahead in range(step, step + 1 + self.prefetch):
            self._submit(ahead)
        return self._pending.pop(step).result()

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)


class OnlineSource:
    """Training data generated on device inside the jitted step: no disk involved.

    Batch ``s`` is ``vmap(problem.solve)(vmap(problem.sample_input)(keys))`` with keys folded
    from ``(seed, s)``, so it is reproducible and resumable like an :class:`ArrayLoader`.

    Example:
        >>> import numpy as np
        >>> from pdejax.data import make_problem
        >>> source = OnlineSource(make_problem("fno/burgers", num_points=32, num_steps=4), 2)
        >>> a, u = source.generate(source.keys(step=5))
        >>> a.shape, u.shape, a.dtype
        ((2, 1, 32), (2, 1, 32), dtype('float32'))
        >>> bool(np.array_equal(a, source.generate(source.keys(step=5))[0]))  # reproducible
        True
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


__all__ = ["ArrayLoader", "OnlineSource", "StreamingLoader"]
