"""``metrics.jsonl``: one JSON record per line, appended as training goes, cut back on resume.

A run killed while writing a line leaves a partial last line; on resume it is cut with a
one-line note (a :class:`MetricsWarning`), and records past the checkpoint that the run resumes
from are dropped, so the file always describes the run that continues. A damaged line that is
not the last one is an error naming the file and the line.
"""

import json
import os
import warnings
from pathlib import Path


class MetricsWarning(UserWarning):
    """A partial last line of ``metrics.jsonl`` was cut on resume.

    Example:
        >>> import pathlib, tempfile, warnings
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> _ = path.write_text('{"step": 1}\\n{"ste')  # killed while writing line 2
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     records = MetricsLog(path).resume(step=1)
        >>> records, caught[0].category.__name__
        ([{'step': 1}], 'MetricsWarning')
        >>> str(caught[0].message).split(": ", 1)[1]  # after the file's path
        'cut a partial last line (line 2, from an interrupted write).'
    """


def read_metrics(path: str | os.PathLike, *, repair: bool = False) -> list[dict]:
    """The records of a ``metrics.jsonl`` file.

    A partial last line (no newline after it, not valid JSON: a write interrupted by a crash)
    is ignored with a :class:`MetricsWarning` when ``repair``, otherwise it is an error, as
    is any other line that is not a JSON object.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> _ = p.write_text('{"step": 1}\\n{"step": 2}\\n{"st')
        >>> [r["step"] for r in read_metrics(p, repair=True)]
        [1, 2]
    """
    path = Path(path)
    text = path.read_text()
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            partial = number == len(lines) and not text.endswith("\n")
            if partial and repair:
                warnings.warn(
                    f"{path}: cut a partial last line (line {number}, from an interrupted write).",
                    MetricsWarning,
                    stacklevel=2,
                )
                break
            raise ValueError(
                f"{path}: line {number} is not a JSON record ({line[:40]!r}); the file is "
                "damaged. Delete the line (or the file, which only holds the training log)."
            ) from None
        records.append(record)
    return records


class MetricsLog:
    """Append-only ``metrics.jsonl`` of a run; only the ``writer`` process touches the file.

    Example (records past the checkpoint a run resumes from are cut from the file):
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> log = MetricsLog(path)
        >>> for step in (10, 20, 30):
        ...     log.append({"step": step, "train_loss": 1 / step})
        >>> [r["step"] for r in log.resume(20)], path.read_text().count("\\n")
        ([10, 20], 2)
        >>> MetricsLog(path, writer=False).append({"step": 40})  # another process: no write
        >>> [r["step"] for r in read_metrics(path)]
        [10, 20]
    """

    def __init__(self, path: str | os.PathLike, *, writer: bool = True):
        self.path = Path(path)
        self.writer = writer

    def resume(self, step: int) -> list[dict]:
        """Records up to ``step`` (the checkpoint resumed from); the file is cut to them."""
        if not self.path.exists():
            return []
        records = [r for r in read_metrics(self.path, repair=True) if r.get("step", 0) <= step]
        if self.writer:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
            os.replace(tmp, self.path)
        return records

    def append(self, record: dict) -> None:
        if not self.writer:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()


__all__ = ["MetricsLog", "MetricsWarning", "read_metrics"]
