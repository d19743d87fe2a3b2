"""Shared machinery of the neural-ODE regularization experiments.

Each experiment trains the same model from the same initialisation with the same data order
under several regularizers (none, global error estimate, global stiffness, local error estimate
at a uniform random time), with a small sweep of weights for each, then measures on held-out
data: the test error, the mean number of vector-field evaluations (NFE) of an unregularized
prediction solve, the training time per epoch (compilation excluded) and the prediction time.
Nothing here asserts; the table is printed and appended to ``benchmarks/RESULTS.md``.
"""

import argparse
import dataclasses
import datetime
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pdejax import (  # noqa: E402
    GlobalRegularization,
    LocalRegularization,
    regularization_schedule,
)

REGULARIZERS = {
    "none": None,
    "global error": ("error", GlobalRegularization()),
    "global stiffness": ("stiffness", GlobalRegularization()),
    "local error": ("error", LocalRegularization()),
}


@dataclasses.dataclass
class Result:
    name: str
    weight: float
    test_error: float
    mean_nfe: float
    epoch_s: float
    predict_s: float
    train_error: float

    def row(self, base: "Result | None") -> str:
        rel = "" if base is None else f"{self.mean_nfe / base.mean_nfe:.2f}x"
        err = "" if base is None else f"{self.test_error / base.test_error:.2f}x"
        ep = "" if base is None else f"{self.epoch_s / base.epoch_s:.2f}x"
        return (
            f"| {self.name} | {self.weight:.3g} | {self.test_error:.4g} ({err}) | "
            f"{self.mean_nfe:.1f} ({rel}) | {self.epoch_s * 1e3:.1f} ({ep}) | "
            f"{self.predict_s * 1e3:.2f} | {self.train_error:.4g} |"
        )


def train_and_evaluate(
    *,
    name: str,
    weight: float,
    model,
    loss_fn: Callable,  # (model, batch, regularization, key) -> (data loss, reg dict)
    predict_fn: Callable,  # (model, inputs) -> (error per sample, nfe per sample)
    train_data,
    test_data,
    num_epochs: int,
    batch_size: int,
    learning_rate: float,
    key,
    final_weight_fraction: float = 1.0,
    warmup_fraction: float = 0.0,
) -> Result:
    """Train with Adam (cosine-decayed learning rate) and evaluate; data order fixed by ``key``.

    The regularization weight follows :func:`pdejax.regularization_schedule`, decaying
    geometrically from ``weight`` to ``weight * final_weight_fraction`` over the training, after
    a linear ramp from 0 over the first ``warmup_fraction`` of it."""
    kind, reg = (None, None) if REGULARIZERS[name] is None else REGULARIZERS[name]
    num_train = jax.tree.leaves(train_data)[0].shape[0]
    steps_per_epoch = max(1, num_train // batch_size)
    schedule = optax.cosine_decay_schedule(learning_rate, num_epochs * steps_per_epoch, 0.05)
    optim = optax.adam(schedule)
    opt_state = optim.init(eqx.filter(model, eqx.is_inexact_array))
    total_steps = num_epochs * steps_per_epoch
    warmup_steps = int(round(warmup_fraction * total_steps))
    weight_at = regularization_schedule(
        weight,
        final_weight=weight * final_weight_fraction,
        decay_steps=max(1, total_steps - warmup_steps),
        warmup_steps=warmup_steps,
    )

    @eqx.filter_jit
    def step(model, opt_state, batch, key, count):
        def total(m):
            data_loss, regs = loss_fn(m, batch, reg, key)
            extra = 0.0 if kind is None else weight_at(count) * regs[kind]
            return data_loss + extra, data_loss

        (_, data_loss), grads = eqx.filter_value_and_grad(total, has_aux=True)(model)
        updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, data_loss

    epoch_times = []
    for epoch in range(num_epochs):
        key, perm_key = jr.split(key)
        perm = np.asarray(jr.permutation(jr.fold_in(perm_key, epoch), num_train))
        t0 = time.perf_counter()
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            batch = jax.tree.map(lambda x, idx=idx: x[idx], train_data)
            count = jnp.asarray(epoch * steps_per_epoch + i)
            model, opt_state, data_loss = step(model, opt_state, batch, jr.fold_in(key, i), count)
        jax.block_until_ready(data_loss)
        epoch_times.append(time.perf_counter() - t0)
    epoch_s = statistics.median(epoch_times[1:]) if num_epochs > 1 else epoch_times[0]

    predict = eqx.filter_jit(predict_fn)
    errors, nfe = predict(model, test_data)
    jax.block_until_ready(errors)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        jax.block_until_ready(predict(model, test_data))
        times.append(time.perf_counter() - t0)
    train_errors, _ = predict(model, train_data)
    return Result(
        name=name,
        weight=weight,
        test_error=float(jnp.mean(errors)),
        mean_nfe=float(jnp.mean(nfe)),
        epoch_s=epoch_s,
        predict_s=statistics.median(times),
        train_error=float(jnp.mean(train_errors)),
    )


def schedule_text(args) -> str:
    """The regularization-weight schedule of ``--warmup``/``--final-fraction``, for the table."""
    parts = []
    if args.warmup > 0:
        parts.append(f"ramped up linearly over the first {args.warmup:.0%} of training")
    if args.final_fraction != 1.0:
        parts.append(f"decayed geometrically to {args.final_fraction:.0%} by the end")
    if not parts:
        return "constant regularization weight, "
    return "regularization weight " + " then ".join(parts) + ", "


# the short names of the command-line flags -> the regularizers' names in the tables
SHORT_NAMES = {"error": "global error", "stiffness": "global stiffness", "local": "local error"}


def parse_weights(specs: list[str] | None, default: dict[str, list[float]]):
    """``--weights error=0.01,0.03 stiffness=0.1 local=1`` -> the sweep's weights (the
    unregularized row is always kept)."""
    if not specs:
        return default
    weights = {"none": [0.0]}
    for spec in specs:
        key, _, values = spec.partition("=")
        if key not in SHORT_NAMES or not values:
            raise SystemExit(
                f"--weights: expected NAME=w1,w2 with NAME in {list(SHORT_NAMES)}, got {spec!r}"
            )
        weights[SHORT_NAMES[key]] = [float(v) for v in values.split(",")]
    return weights


def select_regularizers(weights: dict[str, list[float]], only: list[str] | None):
    """``--only local`` (short names as ``--weights``, or full names such as "local error")
    -> the sweep restricted to those regularizers; the unregularized row is always kept."""
    if not only:
        return weights
    wanted = {SHORT_NAMES.get(name, name) for name in only}
    unknown = wanted - set(SHORT_NAMES.values())
    if unknown:
        raise SystemExit(
            f"--only: unknown regularizer(s) {sorted(unknown)}; use {list(SHORT_NAMES)}"
        )
    return {k: v for k, v in weights.items() if k == "none" or k in wanted}


def sweep_parser(description: str, *, final_fraction: float | None = None):
    """The flags every experiment takes: ``--quick``, ``--no-write``, ``--epochs``, ``--only``,
    ``--weights``; with ``final_fraction`` (its default), also the weight schedule's
    ``--warmup`` and ``--final-fraction``. Add the experiment's own flags to the result."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--no-write", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument(
        "--only", nargs="*", default=None, help="regularizers to run: error, stiffness, local"
    )
    parser.add_argument("--weights", nargs="*", default=None,
                        help="sweep, e.g. error=0.01,0.1 stiffness=0.1 local=1")  # fmt: skip
    if final_fraction is not None:
        parser.add_argument("--warmup", type=float, default=0.0, help="weight ramp-up fraction")
        parser.add_argument("--final-fraction", type=float, default=final_fraction,
                            help="final weight / initial weight (geometric decay)")  # fmt: skip
    return parser


def sweep_weights(args, default: dict[str, list[float]]) -> dict[str, list[float]]:
    """The sweep: ``default``, replaced by ``--weights`` and restricted by ``--only``."""
    return select_regularizers(parse_weights(args.weights, default), args.only)


def command(script: str, argv: list[str] | None) -> str:
    """The command line that reproduces this run, for the table (``--no-write`` left out)."""
    used = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--no-write"]
    return f"`python experiments/{script}{' ' + ' '.join(used) if used else ''}`"


def run_sweep(weights: dict[str, list[float]], **kwargs) -> list[Result]:
    """Train every regularizer at every weight (same initial model, same data order)."""
    results = []
    for name, ws in weights.items():
        for w in ws:
            r = train_and_evaluate(name=name, weight=w, **kwargs)
            print(
                f"  {name:17s} w={w:<8.3g} test {r.test_error:.4g}  NFE {r.mean_nfe:.1f}  "
                f"epoch {r.epoch_s * 1e3:.1f} ms  predict {r.predict_s * 1e3:.2f} ms",
                flush=True,
            )
            results.append(r)
    return results


def best_per_regularizer(results: list[Result], tolerance: float = 0.10) -> list[Result]:
    """Per regularizer, the weight with the fewest NFE whose test error is within
    ``tolerance`` of the unregularized model's (else the one with the lowest error)."""
    base = next(r for r in results if r.name == "none")
    chosen = [base]
    for name in [n for n in REGULARIZERS if n != "none"]:
        rs = [r for r in results if r.name == name]
        if not rs:
            continue
        ok = [r for r in rs if r.test_error <= (1 + tolerance) * base.test_error]
        chosen.append(
            min(ok, key=lambda r: r.mean_nfe) if ok else min(rs, key=lambda r: r.test_error)
        )
    return chosen


HEADER = (
    "| regularizer | weight | test error (vs none) | mean NFE at prediction (vs none) | "
    "train ms/epoch (vs none) | predict ms (test set) | train error |\n"
    "|---|---|---|---|---|---|---|"
)


def report(title: str, config: str, results: list[Result], *, quick: bool, write: bool) -> str:
    base = next(r for r in results if r.name == "none")
    best = best_per_regularizer(results)
    lines = [HEADER] + [r.row(None if r is base else base) for r in best]
    sweep = [HEADER] + [r.row(None if r is base else base) for r in results]
    verdict = []
    for r in best[1:]:
        ok = (
            base.mean_nfe / r.mean_nfe >= 1.5
            and r.test_error <= 1.1 * base.test_error
            and r.epoch_s <= 1.2 * base.epoch_s
        )
        verdict.append(
            f"- {r.name}: NFE reduced {base.mean_nfe / r.mean_nfe:.2f}x, test error "
            f"{r.test_error / base.test_error:.2f}x, train time/epoch "
            f"{r.epoch_s / base.epoch_s:.2f}x -> "
            f"{'meets' if ok else 'does NOT meet'} the target (>=1.5x fewer NFE, <=1.1x error, <=1.2x training time)"
        )
    from benchmarks.harness import machine_description

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (smoke) run" if quick else "full run"
    text = (
        f"\n## {title} — {stamp}, {mode}\n\n{config}\n\nMachine: {machine_description()}\n\n"
        "Best weight per regularizer (fewest NFE with test error within 10% of none):\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(verdict)
        + "\n\nFull weight sweep:\n\n"
        + "\n".join(sweep)
        + "\n"
    )
    print(text, flush=True)
    if write:
        results_md = ROOT / "benchmarks" / "RESULTS.md"
        if not results_md.exists():
            results_md.write_text("# Benchmark results\n\nAppended by `make bench`; newest last.\n")
        with results_md.open("a") as f:
            f.write(text)
    return text
