"""Collectives in a compiled XLA program: what a sharded computation communicates.

Read the text of ``jax.jit(f).lower(*args).compile().as_text()``. Counts are static: an op inside
a while loop (``lax.scan``, ``fori_loop``, a CG iteration) is counted once. The bytes of an op
are those of its *result on one device* (tuple results summed; for an asynchronous ``*-start`` op
only the result buffer). For an ``all-to-all`` over ``g`` devices a device sends ``(g - 1) / g``
of those bytes; for a ``collective-permute`` all of them; an ``all-reduce`` of ``b`` bytes moves
about ``2 (g - 1) / g * b`` per device in a ring.

Example:
    >>> import jax, jax.numpy as jnp
    >>> text = jax.jit(lambda u: 2 * u).lower(jnp.ones(8)).compile().as_text()
    >>> collective_counts(text)   # one device: nothing to communicate
    {}
"""

import re

DTYPE_BYTES = {"pred": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4,
               "u32": 4, "f32": 4, "s64": 8, "u64": 8, "f64": 8, "c64": 8, "c128": 16}  # fmt: skip
COLLECTIVES = ("all-gather", "all-to-all", "all-reduce", "reduce-scatter", "collective-permute",
               "collective-broadcast", "ragged-all-to-all")  # fmt: skip
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(?P<type>\([^()]*\)|[\w]+\[[^\]]*\](?:\{[^}]*\})?)\s+"
    r"(?P<op>[a-z][\w\-]*)\(",
    re.M,
)
_ARRAY = re.compile(r"(?P<dtype>[a-z]+\d*)\[(?P<dims>[\d,]*)\]")


def _arrays(type_text):
    out = []
    for m in _ARRAY.finditer(type_text):
        if m["dtype"] in DTYPE_BYTES:
            dims = tuple(int(d) for d in m["dims"].split(",") if d)
            n = 1
            for d in dims:
                n *= d
            out.append((m["dtype"], dims, n * DTYPE_BYTES[m["dtype"]]))
    return out


def collectives(hlo_text: str) -> list[tuple[str, list[tuple[str, tuple[int, ...]]], int]]:
    """``[(op, arrays, bytes)]``, one entry per collective instruction in text order; ``arrays`` is
    the list of ``(dtype, shape)`` of its result (several for tuple-shaped results).

    Example:
        >>> line = "  %ag = f32[8,64]{1,0} all-gather(f32[1,64]{1,0} %p), dimensions={0}"
        >>> collectives(line)
        [('all-gather', [('f32', (8, 64))], 2048)]
    """
    found = []
    for m in _INSTRUCTION.finditer(hlo_text):
        op = m["op"]
        if op.endswith("-done"):
            continue
        base = op[: -len("-start")] if op.endswith("-start") else op
        if base not in COLLECTIVES:
            continue
        arrays = _arrays(m["type"])
        if op.endswith("-start"):
            arrays = arrays[-1:]
        found.append((base, [(dt, shape) for dt, shape, _ in arrays], sum(a[2] for a in arrays)))
    return found


def collective_bytes(hlo_text: str) -> dict[str, int]:
    """``{op: total result bytes per device}`` over all collectives in the program.

    Example:
        >>> text = '''
        ...   %a = c64[1,4,34]{2,1,0} all-to-all(c64[1,4,34]{2,1,0} %x), dimensions={1}
        ...   %r = f64[] all-reduce(f64[] %s), to_apply=%add'''
        >>> collective_bytes(text)
        {'all-to-all': 1088, 'all-reduce': 8}
    """
    totals: dict[str, int] = {}
    for op, _, nbytes in collectives(hlo_text):
        totals[op] = totals.get(op, 0) + nbytes
    return totals


def collective_counts(hlo_text: str) -> dict[str, int]:
    """``{op: number of instructions}``.

    Example:
        >>> collective_counts("  %r = f64[] all-reduce(f64[] %s), to_apply=%add")
        {'all-reduce': 1}
    """
    counts: dict[str, int] = {}
    for op, _, _ in collectives(hlo_text):
        counts[op] = counts.get(op, 0) + 1
    return counts


def all_gathers(hlo_text: str) -> list[tuple[list[tuple[str, tuple[int, ...]]], int]]:
    """``[(arrays, result bytes)]`` of every all-gather instruction (see :func:`collectives`).

    Example:
        >>> all_gathers("  %ag = f32[8,4]{1,0} all-gather(f32[1,4]{1,0} %q), dimensions={0}")
        [([('f32', (8, 4))], 128)]
    """
    return [(arrays, nbytes) for op, arrays, nbytes in collectives(hlo_text) if op == "all-gather"]


def field_sized_all_gathers(
    hlo_text: str, field_bytes: int
) -> list[tuple[list[tuple[str, tuple[int, ...]]], int]]:
    """All-gathers whose result holds at least ``field_bytes`` (e.g. one global field): what a
    sharded solver step should not contain.

    Example:
        >>> text = "  %ag = f32[8,64]{1,0} all-gather(f32[1,64]{1,0} %p), dimensions={0}"
        >>> len(field_sized_all_gathers(text, 2048)), len(field_sized_all_gathers(text, 4096))
        (1, 0)
    """
    return [g for g in all_gathers(hlo_text) if g[1] >= field_bytes]


_COMPUTATION = re.compile(r"^(?:ENTRY\s+)?%?(?P<name>[\w.\-]+)\s.*\{\s*$", re.M)
_CALLED = re.compile(
    r"(?:calls|to_apply|body|condition|true_computation|false_computation)=%?([\w.\-]+)"
    r"|branch_computations=\{([^}]*)\}"
)


def _computations(hlo_text):
    """``{name: text}`` of every computation in an HLO module's text."""
    blocks, name, lines = {}, None, []
    for line in hlo_text.splitlines():
        m = _COMPUTATION.match(line) if name is None else None
        if m:
            name, lines = m["name"], []
        elif name is not None and line.strip() == "}":
            blocks[name] = "\n".join(lines)
            name = None
        elif name is not None:
            lines.append(line)
    return blocks


def while_bodies(hlo_text: str) -> list[str]:
    """The text of every while-loop body (``lax.scan``, ``fori_loop``, a CG iteration), with the
    computations it calls (conditionals, reductions) appended: what one iteration runs.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = jax.jit(lambda u: jax.lax.fori_loop(0, 3, lambda i, v: 2 * v, u))
        >>> len(while_bodies(f.lower(jnp.ones(4)).compile().as_text()))
        1
    """
    blocks = _computations(hlo_text)
    out = []
    for body in re.findall(r"\bwhile\(.*?body=%?([\w.\-]+)", hlo_text):
        seen, todo, texts = set(), [body], []
        while todo:
            name = todo.pop()
            if name in seen or name not in blocks:
                continue
            seen.add(name)
            texts.append(blocks[name])
            for one, many in _CALLED.findall(blocks[name]):
                todo.extend([one] if one else [n.strip().lstrip("%") for n in many.split(",")])
        out.append("\n".join(texts))
    return out


__all__ = [
    "COLLECTIVES",
    "all_gathers",
    "collective_bytes",
    "collective_counts",
    "collectives",
    "field_sized_all_gathers",
    "while_bodies",
]
