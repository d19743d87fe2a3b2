"""The error policy of pdejax in one place (see ``docs/design.md``, "Errors").

- static configuration: :class:`ValueError` at construction, naming the argument and the fix;
- call-time shapes: :class:`ValueError` with the expected shape and a hint to :func:`jax.vmap`;
- data-dependent failures inside ``jit``: :func:`equinox.error_if`, whose return value must be used.
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from equinox.internal import unvmap_any
from jax.sharding import AxisType
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, PyTree


def check_state_shape(
    u: Array, expected: Sequence[int | None], *, who: str, name: str = "u"
) -> None:
    """Raise a :class:`ValueError` unless ``u.shape`` matches ``expected``.

    ``None`` in ``expected`` matches any size along that axis.

    Shapes are static under ``jit``, so this check costs nothing at run time. The message
    distinguishes the common mistake of passing a batch (one extra leading axis) and suggests
    :func:`jax.vmap` for it.

    Example:
        >>> import jax.numpy as jnp
        >>> check_state_shape(jnp.zeros((1, 8)), (1, None), who="Demo")  # passes
        >>> check_state_shape(jnp.zeros((4, 1, 8)), (1, 8), who="Demo")
        Traceback (most recent call last):
        ...
        ValueError: Demo: `u` has shape (4, 1, 8), expected (1, 8). It looks like a batch of 4 states...
    """
    expected = tuple(None if n is None else int(n) for n in expected)
    shape = tuple(jnp.shape(u))
    if _matches(shape, expected):
        return
    shown = "(" + ", ".join("*" if n is None else str(n) for n in expected) + ")"
    if len(shape) == len(expected) + 1 and _matches(shape[1:], expected):
        hint = (
            f" It looks like a batch of {shape[0]} states: pdejax models take one sample, "
            f"so map over the batch with `jax.vmap({who.lower()})(batch)` or `eqx.filter_vmap`."
        )
    elif len(shape) == len(expected) - 1 and _matches(shape, expected[1:]):
        hint = f" The channel axis is missing: pass `{name}[None]` for a single channel."
    else:
        hint = " States are channels first, (C, *spatial), unbatched; use `jax.vmap` for batches."
    raise ValueError(f"{who}: `{name}` has shape {shape}, expected {shown}.{hint}")


def _matches(shape, expected) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def check_dtype(u: Array, *, who: str, name: str = "u") -> None:
    """Raise a :class:`ValueError` unless ``u`` holds real floating values (float32 or float64).

    Spectral transforms and solvers need real floating states: integers would be truncated,
    half precision is not supported by the FFT, and a complex state is not a physical field.
    Dtypes are static under ``jit``, so the check costs nothing at run time.

    Example:
        >>> import jax.numpy as jnp
        >>> check_dtype(jnp.zeros(3), who="Demo")  # passes
        >>> check_dtype(jnp.zeros(3, jnp.int32), who="Demo")
        Traceback (most recent call last):
        ...
        ValueError: Demo: `u` has dtype int32; pdejax states are float32 or float64. Cast it, e.g. `u.astype(jnp.float32)`.
    """
    dtype = jnp.result_type(u)
    if dtype not in (jnp.dtype("float32"), jnp.dtype("float64")):
        raise ValueError(
            f"{who}: `{name}` has dtype {dtype}; pdejax states are float32 or float64. Cast "
            f"it, e.g. `{name}.astype(jnp.float32)`."
        )


def check_positive(value, *, name: str, who: str, allow_zero: bool = False):
    """Check a scalar parameter (or a sequence of them) at construction; return it.

    A concrete value is checked now: a :class:`ValueError` naming ``name``. A traced value (a
    parameter built inside ``jit`` or ``vmap``, e.g. ``jax.vmap`` over viscosities) cannot be
    inspected, so the returned value carries a run-time check (:func:`equinox.error_if`) whose
    message names ``name``: store the return value, or the check is removed. The check is data,
    not a static property, so new values do not recompile; concrete values cost nothing.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> check_positive(0.1, name="nu", who="Demo")
        0.1
        >>> f = jax.vmap(lambda nu: check_positive(nu, name="nu", who="Demo") * 2)
        >>> try:
        ...     f(jnp.array([0.1, -0.1]))
        ... except Exception as err:
        ...     print(runtime_message(err))
        Demo: `nu` must be positive and finite, but a traced value (from jit or vmap) is not; check the values passed in.
    """
    what = "non-negative" if allow_zero else "positive"
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value)):
        leaves = [jnp.asarray(x) for x in jax.tree_util.tree_leaves(value)]
        bad = jnp.any(jnp.stack([jnp.any(~_ok(x, allow_zero)) for x in leaves]))
        return error_if(
            value,
            bad,
            f"{who}: `{name}` must be {what} and finite, but a traced value (from jit or vmap) "
            "is not; check the values passed in.",
        )
    values = np.asarray(value, dtype=float)
    if np.any(~_ok(values, allow_zero)):
        raise ValueError(f"{who}: `{name}` must be {what} and finite, got {value!r}.")
    return value


def _ok(x, allow_zero: bool):
    xp = np if isinstance(x, np.ndarray) else jnp
    return xp.isfinite(x) & ((x >= 0) if allow_zero else (x > 0))


def error_if_not_finite(tree: PyTree[Array], msg: str) -> PyTree[Array]:
    """Return ``tree`` unchanged, raising at run time (also under ``jit``) if any leaf is non-finite.

    Use the return value: an unused :func:`equinox.error_if` is removed by dead-code elimination.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = jax.jit(lambda u: error_if_not_finite(jnp.log(u), "log of a negative number"))
        >>> bool(jnp.all(f(jnp.ones(2)) == 0))
        True
        >>> try:
        ...     f(-jnp.ones(2))
        ... except Exception as e:
        ...     print("log of a negative number" in str(e))
        True
    """
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]
    ok = jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)
    return error_if(tree, ~ok, msg)


def error_if(tree: PyTree[Array], pred: Array, msg: str) -> PyTree[Array]:
    """:func:`equinox.error_if` that also works on fields sharded over devices.

    Returns ``tree`` unchanged, raising at run time with ``msg`` if any element of ``pred`` is
    true (under ``jax.vmap``: of any sample). Use the return value, or the check is removed.

    Unsharded (one device, or no mesh) this *is* ``eqx.error_if(tree, pred, msg)``. When the
    arrays live on a mesh of several devices, ``eqx.error_if`` would run its callback on device 0
    inside a conditional that returns ``tree``: XLA gathers the whole field onto device 0 for it
    ("Involuntary full rematerialization"), the output loses its sharding, and when the check
    fires the other devices wait in a collective for device 0 until the process aborts. Here the
    predicate is first reduced to one replicated boolean, the callback runs on *every* device
    (``shard_map`` over the mesh, on that scalar), and ``tree`` is tied to the check by
    subtracting its zero result: no field enters the conditional, nothing is gathered, the
    sharding is kept, and every device raises together.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = jax.jit(lambda u: error_if(u, u < 0, "Demo: negative value."))
        >>> bool(jnp.all(f(jnp.ones(2)) == 1))
        True
        >>> try:
        ...     f(-jnp.ones(2)).block_until_ready()
        ... except Exception as err:
        ...     print(runtime_message(err))
        Demo: negative value.
    """
    leaves = jax.tree_util.tree_leaves(tree)
    inexact = [x for x in leaves if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    mesh = _mesh_of([*leaves, pred])
    if mesh is None or not inexact or not isinstance(pred, jax.core.Tracer):
        return eqx.error_if(tree, pred, msg)
    pred = unvmap_any(jnp.any(pred))  # one boolean for the whole batch, replicated

    def check(p):
        return eqx.error_if(jnp.zeros((), jnp.result_type(inexact[0])), p, msg)

    shard_map = jax.shard_map(check, mesh=mesh, in_specs=P(), out_specs=P(), check_vma=False)
    zero = shard_map(pred)
    tie = lambda x: x - zero.astype(x.dtype) if any(x is y for y in inexact) else x  # noqa: E731
    return jax.tree_util.tree_map(tie, tree)


def _mesh_of(arrays):
    """The multi-device (non-manual) mesh the traced ``arrays`` live on, or None."""
    for x in arrays:
        if not isinstance(x, jax.core.Tracer):
            continue
        mesh = getattr(getattr(jax.typeof(x), "sharding", None), "mesh", None)
        if mesh is None or mesh.empty or mesh.size == 1:
            continue
        if any(t == AxisType.Manual for t in mesh.axis_types):
            return None  # inside shard_map callbacks already run on every device
        return mesh
    return None


def runtime_message(error: BaseException) -> str:
    """The one line a user needs from a run-time check that fired inside ``jit``.

    An :func:`equinox.error_if` failure reaches Python as a long ``JaxRuntimeError`` or
    ``EquinoxRuntimeError`` text (the message, then tracebacks and advice on debugging
    equinox); this returns just the message that the check was given.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = jax.jit(lambda u: error_if_not_finite(u, "Demo: the state is not finite."))
        >>> try:
        ...     f(jnp.array([jnp.nan]))
        ... except Exception as err:
        ...     print(runtime_message(err))
        Demo: the state is not finite.
    """
    lines = [s.strip() for s in str(error).splitlines() if s.strip()]
    for marker in ("EquinoxRuntimeError:", "XlaRuntimeError:", "INTERNAL:"):
        for line in lines:
            if marker in line:
                text = line.split(marker, 1)[1].strip()
                if text:
                    return text
    return lines[0] if lines else type(error).__name__
