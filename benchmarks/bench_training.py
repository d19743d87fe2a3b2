"""Training throughput with online data (generated on device in the step) vs an HDF5 file.

Same model (FNO-1D, the paper's Burgers configuration), same problem (FNO-paper Burgers, solved
by pdejax's ETDRK4 Burgers1D), same batch size: the ratio is the cost of generating the data
inside the training step instead of reading it from disk.
"""

import tempfile
from pathlib import Path

import jax
import optax

from benchmarks.harness import Row, time_call

TITLE = "Training throughput: online data vs HDF5 file (FNO-1D on Burgers)"


def run(quick: bool) -> list[Row]:
    import equinox as eqx

    from pdejax import make_problem
    from pdejax.data import generate, load_dataset
    from pdejax.surrogates import FNO
    from pdejax.train import ArrayLoader, OnlineSource, make_train_step, relative_l2_loss

    n, steps, batch, width = (256, 50, 20, 32) if quick else (1024, 200, 20, 64)
    problem = make_problem("fno/burgers", num_points=n, num_steps=steps)
    model = FNO(1, 1, (16,), width, key=jax.random.key(0))
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    repeats = 5 if quick else 10
    rows = []

    with tempfile.TemporaryDirectory() as tmp:
        path = generate(problem, Path(tmp) / "burgers.h5", 4 * batch, chunk_size=batch,
                        progress=False)  # fmt: skip
        ds = load_dataset(path)
        loader = ArrayLoader(ds.inputs, ds.outputs, batch)
        disk_step = make_train_step(relative_l2_loss, optimizer, loader)
        state = {"m": model, "o": opt_state, "i": 0}

        def disk():
            batch_np = loader.batch(state["i"])
            state["i"] += 1
            state["m"], state["o"], v = disk_step(state["m"], state["o"], batch_np)
            jax.block_until_ready(v)

        t_disk = time_call(disk, repeats=repeats, warmup=2)

    source = OnlineSource(problem, batch)
    online_step = make_train_step(relative_l2_loss, optimizer, source)
    state = {"m": model, "o": opt_state, "i": 0}

    def online():
        keys = source.keys(state["i"])
        state["i"] += 1
        state["m"], state["o"], v = online_step(state["m"], state["o"], keys)
        jax.block_until_ready(v)

    t_online = time_call(online, repeats=repeats, warmup=2)
    config = f"s={n}, batch {batch}, FNO modes 16 width {width}, Burgers {steps} ETDRK4 steps"
    rows.append(Row("training, data from HDF5 (in memory)", config, "samples/s",
                    batch / t_disk.median_s, note="reference for the online row"))  # fmt: skip
    rows.append(Row("training, online data (solver in the step)", config, "samples/s",
                    batch / t_online.median_s, peer_name="same training from HDF5",
                    peer=batch / t_disk.median_s,
                    note="speed-up < 1 = cost of generating each batch on device"))  # fmt: skip
    return rows
