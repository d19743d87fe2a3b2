"""The ``pdejax`` command line: ``generate``, ``train``, ``evaluate``, ``demo``.

The CLI is one of the few places where the core imports :mod:`pdejax.solvers` (through the
problem registry) and :mod:`pdejax.surrogates` (through the model registry).
"""

import argparse
import json
import sys
from pathlib import Path

DEMO_CONFIG = Path(__file__).parent / "demo.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdejax", description="pdejax command line")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate a data set from a named problem")
    gen.add_argument("problem", help="registered problem name, e.g. fno/burgers")
    gen.add_argument("output", type=Path, help="HDF5 file to write")
    gen.add_argument("--num-samples", type=int, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--chunk-size", type=int, default=64)
    gen.add_argument("--set", dest="overrides", action="append", default=[],
                     help="problem argument, e.g. --set num_points=1024")  # fmt: skip

    train = sub.add_parser("train", help="train a surrogate from a TOML experiment file")
    train.add_argument("config", type=Path)
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       help="override a config entry, e.g. --set train.num_epochs=5")  # fmt: skip

    ev = sub.add_parser("evaluate", help="evaluate a trained run directory")
    ev.add_argument("run_dir", type=Path)
    ev.add_argument("--resolutions", type=int, nargs="*", default=None)

    demo = sub.add_parser(
        "demo", help="the main job: generate Burgers data, train an FNO, evaluate, report"
    )
    demo.add_argument("--set", dest="overrides", action="append", default=[])

    sub.add_parser("problems", help="list the registered problems")

    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except ValueError as err:
        print(f"pdejax {args.command}: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "problems":
        from ..data.problems import available_problems

        print("\n".join(available_problems()))
    elif args.command == "generate":
        from ..data.generate import generate
        from ..data.problems import make_problem

        kwargs = {}
        for o in args.overrides:
            k, _, v = o.partition("=")
            kwargs[k] = json.loads(v)
        problem = make_problem(args.problem, **kwargs)
        path = generate(problem, args.output, args.num_samples, seed=args.seed,
                        chunk_size=args.chunk_size)  # fmt: skip
        print(f"wrote {path}")
    elif args.command in ("train", "demo"):
        from .config import load_config
        from .runner import run_directory, run_experiment

        path = DEMO_CONFIG if args.command == "demo" else args.config
        config = load_config(path, overrides=args.overrides)
        results = run_experiment(config)
        print(json.dumps(results, indent=2))
        print(f"report: {run_directory(config) / 'report.md'}")
    elif args.command == "evaluate":
        from .runner import evaluate_run

        print(json.dumps(evaluate_run(args.run_dir, args.resolutions), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
