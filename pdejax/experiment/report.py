"""The run report: a short Markdown page with where the data came from, the numbers beside the
published ones, and the figures of a training run."""

import re
from pathlib import Path

from ..train.metrics_log import read_metrics
from .plots import plot_training_curve, pyplot


def published(expected: dict) -> tuple[dict[int | None, float], list[str]]:
    """``[expected]`` read as ``{resolution: published figure}`` (``None``: one figure for the
    run) and the notes (every other entry).

    Example:
        >>> published({"paper_rel_l2_s85": 0.0108, "note": "trained at each s"})
        ({85: 0.0108}, ['note: trained at each s'])
    """
    figures, notes = {}, []
    for key, value in expected.items():
        match = re.fullmatch(r"paper_rel_l2(?:_s(\d+))?", key)
        if match and isinstance(value, int | float):
            figures[int(match.group(1)) if match.group(1) else None] = float(value)
        else:
            notes.append(f"{key}: {value}")
    return figures, notes


def _table(config, results: dict) -> str:
    figures, _ = published(config.expected)
    generated = bool(config.data.problem)
    mark = " (on the authors' data)" if generated else ""
    rows = ["| test resolution | pdejax (relative L2, test mean) | published" + mark + " |",
            "|---|---|---|"]  # fmt: skip
    for key, value in results.items():
        if not key.startswith("test_rel_l2@"):
            continue
        s = int(key.split("@")[1])
        paper = figures.get(s, figures.get(None) if s == results["train_resolution"] else None)
        rows.append(f"| s = {s} | {value:.4f} | {'' if paper is None else f'{paper:.4f}'} |")
    return "\n".join(rows)


def write_report(run_dir, config, results, figures: list[str]) -> Path:
    """Write ``report.md`` (with the training curve) into ``run_dir``; ``figures`` are the
    task's own figure files, already written."""
    run_dir = Path(run_dir)
    metrics = run_dir / "metrics.jsonl"
    history = read_metrics(metrics, repair=True) if metrics.exists() else []
    curve = plot_training_curve(run_dir, history, config.train.loss)
    figures = ([curve] if curve else []) + list(figures)
    _, notes = published(config.expected)
    generated = bool(config.data.problem)
    provenance = (
        f"Data {results['data']}; {config.data.num_train} training / {config.data.num_test} "
        "test samples."
    )
    caveat = (
        "The published figures were measured on the authors' data; these data were generated "
        "by pdejax with the settings above, so the columns compare the method, not the data."
        if generated
        else "The published figures were measured on the authors' data files."
    )
    changed = results.get("overrides") or []
    overrides = (
        "Settings changed from the configuration file: "
        + ", ".join(f"`{o}`" for o in changed)
        + "."
        if changed
        else ""
    )
    no_plots = "" if pyplot() is not None else "(matplotlib is not installed: no figures.)"
    text = f"""# {config.name}

{config.description}

{provenance}
{overrides}

Model `{config.model.name}` ({results["num_parameters"]:,} parameters), {results["steps"]}
optimizer steps on {results["num_devices"]} {results["backend"]} device(s), trained at
s = {results["train_resolution"]}; normalizers: inputs {results["normalizers"]["inputs"]},
outputs {results["normalizers"]["outputs"]}.
{_task_line(results)}
{_table(config, results)}

{caveat}
{chr(10).join(f"- {n}" for n in notes)}

Data took {results["data_seconds"]:.1f} s and training {results["train_seconds"]:.1f} s.
{no_plots}
{chr(10).join(f"![{p}]({p})" for p in figures)}
"""
    path = run_dir / "report.md"
    path.write_text(text)
    return path


def _task_line(results: dict) -> str:
    if "input_frames" not in results:
        return ""
    return (f"Task `{results['task']}`: {results['input_frames']} input frames, "
            f"{results['predicted_frames']} predicted (relative L2 over all predicted frames).\n")  # fmt: skip
