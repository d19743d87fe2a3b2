"""Placement over devices and processes: the data-parallel mesh and multi-process start-up.

:func:`fit <pdejax.train.fit>` shards every batch over a one-axis mesh ``("batch",)`` and
replicates the model; with several processes (hosts) each places only its own devices' rows.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh


def batch_mesh(devices) -> Mesh:
    """A one-axis mesh ``("batch",)`` over ``devices``.

    Example:
        >>> import jax
        >>> mesh = batch_mesh(jax.devices()[:1])
        >>> mesh.axis_names, mesh.shape["batch"]
        (('batch',), 1)
    """
    return Mesh(np.asarray(devices), ("batch",))


_DISTRIBUTED_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def initialize_distributed(environ=None) -> bool:
    """Join a multi-process (multi-host) run when the environment describes one.

    Explicitly, with ``JAX_COORDINATOR_ADDRESS`` (``host:port`` of process 0),
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` set; or through JAX's own cluster detection
    when a launcher with several tasks is found (Slurm ``SLURM_NTASKS > 1``, Open MPI
    ``OMPI_COMM_WORLD_SIZE > 1``). Otherwise it does nothing, so it is safe to call always. It
    must run before anything else touches JAX. Returns whether a distributed run was started.

    Example:
        >>> initialize_distributed({})  # a single process: nothing to do
        False
    """
    env = os.environ if environ is None else environ
    given = [k for k in _DISTRIBUTED_ENV if env.get(k)]
    if given and len(given) != len(_DISTRIBUTED_ENV):
        missing = sorted(set(_DISTRIBUTED_ENV) - set(given))
        raise ValueError(
            f"initialize_distributed: {', '.join(given)} set but {', '.join(missing)} not; set "
            "all three (coordinator host:port, process count, this process's id) or none."
        )
    if given:
        jax.distributed.initialize(
            env["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(env["JAX_NUM_PROCESSES"]),
            process_id=int(env["JAX_PROCESS_ID"]),
        )
        return True
    if int(env.get("SLURM_NTASKS", "1")) > 1 or int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1:
        jax.distributed.initialize()  # JAX reads the cluster's own variables
        return True
    return False


def place(tree, sharding, multiprocess: bool):
    """Put host values on ``sharding``; with several processes from host numpy copies (each
    process holds the same values and places its own devices' part).

    Example (PRNG keys are placed too, as keys):
        >>> import jax, jax.numpy as jnp
        >>> from jax.sharding import NamedSharding, PartitionSpec
        >>> sharding = NamedSharding(batch_mesh(jax.devices()[:1]), PartitionSpec("batch"))
        >>> x, key = place((jnp.arange(4.0), jax.random.key(0)), sharding, multiprocess=True)
        >>> x.sharding == sharding, x.tolist(), jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        (True, [0.0, 1.0, 2.0, 3.0], True)
    """
    if not multiprocess:
        return jax.device_put(tree, sharding)

    def one(x):
        if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            impl = jax.random.key_impl(x)
            data = jax.device_put(np.asarray(jax.random.key_data(x)), sharding)
            return jax.random.wrap_key_data(data, impl=impl)
        return jax.device_put(np.asarray(x), sharding)

    return jax.tree.map(one, tree)


__all__ = ["batch_mesh", "initialize_distributed", "place"]
