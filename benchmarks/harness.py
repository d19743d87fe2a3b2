"""Timing and reporting shared by every benchmark case.

Rules (from the project's standards): medians over repeats, compile time reported separately,
ratios against a peer measured in the same process run, results appended to
``benchmarks/RESULTS.md`` with date, machine and versions. Nothing here asserts a speed.
"""

import dataclasses
import datetime
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax

RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclasses.dataclass
class Timing:
    median_s: float
    min_s: float
    repeats: int
    compile_s: float | None = None

    def __str__(self):
        c = "" if self.compile_s is None else f", compile {self.compile_s:.2f} s"
        return f"{fmt_seconds(self.median_s)} (median of {self.repeats}{c})"


def fmt_seconds(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _block(x):
    return jax.block_until_ready(x)


def time_jax(fn: Callable, *args, repeats: int = 7, min_time: float = 0.0) -> Timing:
    """Compile ``jax.jit(fn)`` for ``args`` (timed apart), then time ``repeats`` calls.

    ``fn`` must be jittable with array arguments (close over models or use
    ``eqx.filter_jit`` and pass ``fn`` already compiled-ready). Each timed call blocks until the
    result is ready; the median is reported.
    """
    jitted = jax.jit(fn)
    t0 = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    compile_s = time.perf_counter() - t0
    _block(compiled(*args))  # warm-up: first execution may allocate
    return _repeat(lambda: _block(compiled(*args)), repeats, min_time, compile_s)


def time_jax_pair(fn_a: Callable, fn_b: Callable, *args, repeats: int = 7) -> tuple[Timing, Timing]:
    """Time two jittable functions of the same ``args`` with their calls interleaved
    (a, b, a, b, ...), so that drift in the machine's speed (other load, frequency scaling)
    falls on both alike and their ratio is fair; each compiled and warmed up first."""
    compiled = []
    for fn in (fn_a, fn_b):
        t0 = time.perf_counter()
        c = jax.jit(fn).lower(*args).compile()
        compile_s = time.perf_counter() - t0
        _block(c(*args))
        compiled.append((c, compile_s))
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for (c, _), out in zip(compiled, times):
            t = time.perf_counter()
            _block(c(*args))
            out.append(time.perf_counter() - t)
    return tuple(
        Timing(statistics.median(ts), min(ts), len(ts), cs) for ts, (_, cs) in zip(times, compiled)
    )


def time_call(fn: Callable[[], object], *, repeats: int = 7, warmup: int = 1, min_time=0.0):
    """Time a no-argument callable (a peer's step, a scipy solve); warm-up calls not counted."""
    for _ in range(warmup):
        fn()
    return _repeat(fn, repeats, min_time, None)


def _repeat(fn, repeats, min_time, compile_s) -> Timing:
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return Timing(statistics.median(times), min(times), len(times), compile_s)


@dataclasses.dataclass
class Row:
    """One line of a results table: our measurement next to the peer's, same configuration."""

    case: str
    config: str
    metric: str  # what the number means, e.g. "sample-steps/s" or "s per solve"
    ours: float
    peer_name: str | None = None
    peer: float | None = None
    higher_is_better: bool = True
    accuracy: str = ""
    compile_s: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Speed-up over the peer (>1 means pdejax is faster)."""
        if self.peer is None or self.peer == 0 or self.ours == 0:
            return None
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours


def _num(x):
    if x is None:
        return "-"
    return f"{x:.4g}"


def markdown_table(rows: Sequence[Row]) -> str:
    head = (
        "| case | config | metric | pdejax | compile (s) | peer | peer value | speed-up | "
        "accuracy | note |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r.case} | {r.config} | {r.metric} | {_num(r.ours)} | {_num(r.compile_s)} | "
        f"{r.peer_name or '-'} | {_num(r.peer)} | "
        f"{'-' if r.ratio is None else f'{r.ratio:.2f}x'} | {r.accuracy} | {r.note} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    pkgs = [
        "jax",
        "jaxlib",
        "equinox",
        "diffrax",
        "exponax",
        "jax-cfd",
        "torch",
        "neuraloperator",
        "scipy",
    ]
    versions = ", ".join(f"{p} {v}" for p in pkgs if (v := _version(p)))
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return (
        f"{platform.node() or 'host'}: {cpu}, {os.cpu_count()} cores, jax backend "
        f"{jax.default_backend()} ({devices}), OMP_NUM_THREADS={threads}; {versions}"
    )


def append_results(title: str, rows: Sequence[Row], *, quick: bool, path: Path = RESULTS) -> str:
    """Append a dated table to RESULTS.md and return the Markdown written."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (smoke) run" if quick else "full run"
    text = f"\n## {title} — {stamp}, {mode}\n\nMachine: {machine_description()}\n\n"
    text += markdown_table(rows)
    if not path.exists():
        path.write_text("# Benchmark results\n\nAppended by `make bench`; newest last.\n")
    with path.open("a") as f:
        f.write(text)
    return text
