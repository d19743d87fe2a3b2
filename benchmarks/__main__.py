"""Run benchmark cases: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each module ``benchmarks/bench_<name>.py`` defines ``TITLE`` and ``run(quick: bool) -> list[Row]``;
every case measures pdejax and its peer in this same process and the table is appended to
``benchmarks/RESULTS.md``. Peers that are not installed are reported as skipped, not failed.
"""

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import jax

from .harness import append_results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--only", nargs="*", default=None, help="run only these case modules")
    parser.add_argument("--no-write", action="store_true", help="print, do not append RESULTS.md")
    args = parser.parse_args(argv)

    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only or n in args.only]
    x64 = jax.config.jax_enable_x64
    for name in names:
        # a case may switch float64 on for itself (Darcy does); the next starts from the default
        jax.config.update("jax_enable_x64", x64)
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {module.TITLE}", flush=True)
        rows = module.run(quick=args.quick)
        if args.no_write:
            from .harness import markdown_table

            print(markdown_table(rows))
        else:
            print(append_results(module.TITLE, rows, quick=args.quick), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
