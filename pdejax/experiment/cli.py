"""The ``pdejax`` command line: ``problems``, ``generate``, ``inspect``, ``train``, ``evaluate``,
``demo``.

Every user error is one line on stderr, ``pdejax CMD: error: ...``, naming the file, key or
value and the fix, with exit status 2 (``--debug`` shows the traceback instead); a run-time
failure inside a solve (a CFL or non-finite check) is reduced to its message, and warnings
(a damaged checkpoint skipped, a partial metrics line cut) are one line each. The CLI is one of
the few places where the core imports :mod:`pdejax.solvers` (through the problem registry) and
:mod:`pdejax.surrogates` (through the model registry).
"""

import argparse
import json
import logging
import os
import sys
import tomllib
import warnings
from pathlib import Path

DEMO_CONFIG = Path(__file__).parent / "demo.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pdejax", description="pdejax command line")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    problems = sub.add_parser(
        "problems", parents=[common], help="list the registered problems and their arguments"
    )
    problems.add_argument("name", nargs="?", help="show one problem only")

    gen = sub.add_parser(
        "generate", parents=[common], help="generate a data set from a named problem"
    )
    gen.add_argument("problem", help="registered problem name, e.g. fno/burgers")
    gen.add_argument("output", type=Path, help="HDF5 file to write")
    gen.add_argument("--num-samples", type=int, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--chunk-size", default="auto", help="samples per batch, or auto")
    gen.add_argument("--set", dest="overrides", action="append", default=[],
                     help="problem argument, e.g. --set num_points=1024")  # fmt: skip

    inspect = sub.add_parser(
        "inspect", parents=[common], help="print what pdejax sees in a data file"
    )
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--format", default=None, help="the layout, if not auto-detected")
    inspect.add_argument("--inputs", nargs="*", default=None, help="fields as input channels")
    inspect.add_argument("--outputs", nargs="*", default=None, help="fields as output channels")
    inspect.add_argument("--split", default=None, help="train, valid or test (The Well, PDEArena)")

    train = sub.add_parser(
        "train", parents=[common], help="train a surrogate from a TOML experiment file"
    )
    train.add_argument("config", type=Path)
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       help="override a config entry, e.g. --set train.num_epochs=5")  # fmt: skip
    train.add_argument("--smoke", action="store_true",
                       help="the same resolution with a few samples and one epoch (a check)")  # fmt: skip

    ev = sub.add_parser("evaluate", parents=[common], help="evaluate a trained run directory")
    ev.add_argument("run_dir", type=Path)
    ev.add_argument("--resolutions", type=int, nargs="*", default=None)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="the main job: generate Burgers data, train an FNO, evaluate, report",
    )
    demo.add_argument("--set", dest="overrides", action="append", default=[])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prefix = f"pdejax {args.command}"
    if not args.debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no XLA log noise around our lines
        # a run-time check that fires inside jit is also logged with its traceback by JAX's
        # callback machinery; the one line below says it all
        logging.getLogger("jax._src.callback").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():  # restored on return: main() may run inside a program
        if not args.debug:
            warnings.showwarning = lambda message, category, *rest, **kw: print(
                f"{prefix}: warning: {message}", file=sys.stderr
            )
        try:
            return _dispatch(args)
        except KeyboardInterrupt:
            print(f"{prefix}: interrupted; rerun the same command to resume.", file=sys.stderr)
            return 130
        except Exception as err:  # noqa: BLE001 - every error ends as one line unless --debug
            if args.debug:
                raise
            print(f"{prefix}: error: {_one_line(err)}", file=sys.stderr)
            return 2 if isinstance(err, ValueError | OSError | FloatingPointError) else 1


def _one_line(err: BaseException) -> str:
    from ..core.errors import runtime_message

    if type(err).__name__ in ("JaxRuntimeError", "XlaRuntimeError", "EquinoxRuntimeError"):
        return runtime_message(err)
    text = " ".join(str(err).split()) or type(err).__name__
    if not isinstance(err, ValueError | OSError | FloatingPointError | RuntimeError):
        text = f"{type(err).__name__}: {text} (rerun with --debug for the traceback)"
    return text


def _problem_args(name: str, overrides: list[str]) -> dict:
    from ..data.problems import problem_parameters

    known = problem_parameters(name)
    kwargs = {}
    for o in overrides:
        key, sep, raw = o.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set {o!r} must look like `argument=value`.")
        if key not in known:
            raise ValueError(
                f"--set {key}: {name!r} has no argument {key!r}; its arguments are "
                f"{', '.join(known)} (see `pdejax problems {name}`)."
            )
        try:
            kwargs[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(
                f"--set {key}={raw}: {raw!r} is not a value (a number, true/false, or a quoted "
                f"string); the default is {known[key]!r}."
            ) from None
    return kwargs


def _dispatch(args) -> int:
    if args.command == "problems":
        from ..data.problems import available_problems, describe_problem

        names = [args.name] if args.name else available_problems()
        print("\n\n".join(describe_problem(n) for n in names))
    elif args.command == "generate":
        from ..data.generate import generate
        from ..data.problems import make_problem

        chunk = args.chunk_size if args.chunk_size == "auto" else _positive_int(args.chunk_size)
        if args.num_samples < 1:
            raise ValueError(f"--num-samples must be positive, got {args.num_samples}.")
        problem = make_problem(args.problem, **_problem_args(args.problem, args.overrides))
        path = generate(problem, args.output, args.num_samples, seed=args.seed, chunk_size=chunk)
        print(f"wrote {path}")
    elif args.command == "inspect":
        from ..data.readers import open_source

        with open_source(args.file, args.format, inputs=args.inputs, outputs=args.outputs,
                         split=args.split) as source:  # fmt: skip
            print(source.describe())
    elif args.command in ("train", "demo"):
        from .config import load_config, smoke_config
        from .runner import run_directory, run_experiment

        path = DEMO_CONFIG if args.command == "demo" else args.config
        config = load_config(path, overrides=args.overrides)
        if getattr(args, "smoke", False):
            config = smoke_config(config)
        results = run_experiment(config, overrides=args.overrides)
        run_dir = run_directory(config)
        if results.pop("finished", False):
            print(
                f"{run_dir} holds a finished run of this configuration (results.json, report.md); "
                f"nothing to train. `pdejax evaluate {run_dir}` evaluates it again; "
                "`--set run_dir=...` trains anew elsewhere."
            )
        print(json.dumps(results, indent=2))
        print(f"report: {run_dir / 'report.md'}")
    elif args.command == "evaluate":
        from .reload import evaluate_run

        for s in args.resolutions or []:
            if s < 2:
                raise ValueError(f"--resolutions: {s} is not a resolution (at least 2 points).")
        print(json.dumps(evaluate_run(args.run_dir, args.resolutions), indent=2))
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"--chunk-size must be a positive integer or auto, got {text!r}.")
    return value


if __name__ == "__main__":
    sys.exit(main())
