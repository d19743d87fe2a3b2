"""The text of :meth:`Source.describe <pdejax.data.readers.Source.describe>` (``pdejax inspect
FILE``): the file, its format, every field, the selected inputs and outputs with their shapes,
times, coordinates, attributes and the notes on how the file was read.
"""

from __future__ import annotations

import json

import numpy as np


def describe(src, lay) -> str:
    """A human-readable account of the source ``src`` read from the layout ``lay``."""
    lines = [f"file:        {src.path}"]
    if lay.files and len(lay.files) > 1:
        lines.append(
            f"             {len(lay.files)} files: "
            + ", ".join(p.name for p in lay.files[:5])
            + (" ..." if len(lay.files) > 5 else "")
        )
    lines.append(
        f"format:      {src.format}" + (f" ({lay.description})" if lay.description else "")
    )
    if src.split:
        lines.append(f"split:       {src.split}")
    lines.append(f"samples:     {src.num_samples}")
    lines.append("fields:")
    width = max(len(n) for n in src.fields) if src.fields else 0
    for name, info in src.fields.items():
        chans = ""
        if info.channels and info.channels != (name,):
            chans = f"  -> channels {', '.join(info.channels)}"
        lines.append(
            f"  {name:<{width}}  {info.kind:<16} per sample {str(info.shape):<18} "
            f"{info.dtype:<8} {info.stored}{chans}"
        )
    in_desc = ", ".join(src.inputs)
    if src.is_trajectory and src.output_start:
        in_desc += "  (frame 0)"
    lines.append(f"inputs:      {in_desc}  -> per sample {src.input_shape}")
    out_desc = ", ".join(src.outputs)
    if src.is_trajectory:
        out_desc += f"  (frames {src.output_start}..{src.num_frames - 1})"
    lines.append(f"outputs:     {out_desc}  -> per sample {src.output_shape}")
    if src.is_trajectory:
        lines.append(f"trajectory:  {src.num_frames} frames per sample (read_trajectories)")
    if src.trajectory_times is not None:
        lines.append(f"times:       {_summary(src.trajectory_times)}")
    if src.coordinates is not None:
        names = src.coordinate_names or tuple(f"axis_{i}" for i in range(len(src.coordinates)))
        for n, c in zip(names, src.coordinates):
            lines.append(f"coordinate:  {n}: {_summary(c)}")
    else:
        lines.append("coordinates: none in the file")
    if src.parameters:
        lines.append("attributes:")
        for k, v in src.parameters.items():
            text = json.dumps(v)
            lines.append(f"  {k} = {text if len(text) <= 100 else text[:97] + '...'}")
    for note in src.notes:
        lines.append(f"note:        {note}")
    return "\n".join(lines)


def _summary(values) -> str:
    values = np.asarray(values).ravel()
    if values.size == 0:
        return "(empty)"
    if values.size <= 6:
        return f"{values.size} values {np.array2string(values, precision=4, separator=', ')}"
    return f"{values.size} values from {values[0]:.6g} to {values[-1]:.6g}"
