"""The figures of a run report: training curve, predictions against truth, errors over time.

matplotlib is an optional dependency (the ``plots`` extra); without it the report is written
without figures and says so.
"""

from pathlib import Path

import numpy as np

from .tasks import first_batch_predictions


def pyplot():
    """``matplotlib.pyplot`` with the file backend, or ``None`` when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curve(run_dir: Path, history: list[dict], loss_name: str) -> str | None:
    plt = pyplot()
    if plt is None or not history:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.semilogy([h["epoch"] for h in history], [h["train_loss"] for h in history], label="train")
    evals = [h for h in history if any(k.startswith("test_rel_l2") for k in h)]
    for key in sorted({k for h in evals for k in h if k.startswith("test_rel_l2")}):
        ax.semilogy([h["epoch"] for h in evals if key in h], [h[key] for h in evals if key in h],
                    "o-", label=key.replace("test_rel_l2@", "test, s="))  # fmt: skip
    ax.set(xlabel="epoch", ylabel=f"{loss_name} loss / test relative L2", title="training")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run_dir / "training_curve.png", dpi=110)
    plt.close(fig)
    return "training_curve.png"


def plot_operator(run_dir: Path, predict, a_test, u_test, num_samples: int) -> list[str]:
    """Input, truth, prediction and error of a few test samples (first channel).

    1-d: one row per sample, input on the left, truth and prediction overlaid in the middle,
    the error on the right, all labelled. 2-d: one row per sample of four images with axes
    and colorbars. Other dimensions: no figure.
    """
    plt = pyplot()
    spatial = a_test.shape[2:]
    if plt is None or len(spatial) not in (1, 2):
        return []
    k = max(1, min(num_samples, len(a_test)))
    pred = first_batch_predictions(predict, a_test, k)
    a, u = np.asarray(a_test[:k]), np.asarray(u_test[:k])
    if len(spatial) == 1:
        fig, axes = plt.subplots(k, 3, figsize=(13, 2.6 * k), squeeze=False)
        x = np.linspace(0, 1, spatial[0], endpoint=False)
        for i in range(k):
            axes[i, 0].plot(x, a[i, 0], color="0.3", label="input")
            axes[i, 1].plot(x, u[i, 0], lw=1.8, label="truth")
            axes[i, 1].plot(x, pred[i, 0], "--", lw=1.3, label="prediction")
            axes[i, 2].plot(x, pred[i, 0] - u[i, 0], color="C3", label="prediction - truth")
            for j, title in enumerate(("input", "truth and prediction", "error")):
                axes[i, j].set(xlabel="x", ylabel="value", title=f"test sample {i}: {title}")
                axes[i, j].legend(fontsize=8)
    else:
        fig, axes = plt.subplots(k, 4, figsize=(15, 3.4 * k), squeeze=False)
        for i in range(k):
            shared = {"vmin": u[i, 0].min(), "vmax": u[i, 0].max()}  # truth and prediction alike
            panels = (("input", a[i, 0], {}), ("truth", u[i, 0], shared),
                      ("prediction", pred[i, 0], shared),
                      ("prediction - truth", pred[i, 0] - u[i, 0], {"cmap": "RdBu_r"}))  # fmt: skip
            for j, (title, field, kw) in enumerate(panels):
                im = axes[i, j].imshow(field.T, origin="lower", extent=(0, 1, 0, 1), **kw)
                axes[i, j].set(xlabel="x", ylabel="y", title=f"test sample {i}: {title}")
                fig.colorbar(im, ax=axes[i, j], fraction=0.046)
    fig.tight_layout()
    fig.savefig(run_dir / "predictions.png", dpi=100)
    plt.close(fig)
    return ["predictions.png"]


def plot_frames(
    run_dir: Path, predict, a_test, u_test, num_samples: int, history: int
) -> list[str]:
    """First and last predicted frame of test sample 0 (truth, prediction, error, with
    colorbars) and the relative L2 per predicted frame (mean over the plotted samples)."""
    plt = pyplot()
    if plt is None or a_test.ndim - 2 not in (1, 2):
        return []
    k = max(1, min(num_samples, len(a_test)))
    pred = first_batch_predictions(predict, a_test, k)
    c = a_test.shape[1] // history
    n = u_test.shape[1] // c
    pred = pred.reshape(k, n, c, *pred.shape[2:])
    true = np.asarray(u_test[:k]).reshape(pred.shape)
    err = np.linalg.norm((pred - true).reshape(k, n, -1), axis=-1)
    err = (err / np.linalg.norm(true.reshape(k, n, -1), axis=-1)).mean(0)
    fig = plt.figure(figsize=(14, 7.5))
    grid = fig.add_gridspec(3, 3)
    for col, j in enumerate((0, n - 1)):
        lim = np.abs(true[0, j, 0]).max()
        panels = (("truth", true[0, j, 0]), ("prediction", pred[0, j, 0]),
                  ("prediction - truth", pred[0, j, 0] - true[0, j, 0]))  # fmt: skip
        for row, (what, field) in enumerate(panels):
            ax = fig.add_subplot(grid[row, col])
            title = f"{what}, predicted frame {j + 1}"
            if field.ndim == 1:  # 1-d frames: lines over x
                ax.plot(np.linspace(0, 1, field.size, endpoint=False), field, label=what)
                ax.set(title=title, xlabel="x", ylabel="value")
                ax.legend(fontsize=8)
                continue
            scale = lim if row < 2 else np.abs(field).max()
            im = ax.imshow(field.T, origin="lower", cmap="RdBu_r", vmin=-scale, vmax=scale,
                           extent=(0, 1, 0, 1))  # fmt: skip
            ax.set(title=title, xlabel="x", ylabel="y")
            fig.colorbar(im, ax=ax, fraction=0.046)
    ax = fig.add_subplot(grid[:, 2])
    ax.semilogy(np.arange(1, n + 1), err, "o-")
    ax.set(xlabel="predicted frame", ylabel="relative L2", title=f"error over time ({k} samples)")
    fig.tight_layout()
    fig.savefig(run_dir / "frames.png", dpi=100)
    plt.close(fig)
    return ["frames.png"]
