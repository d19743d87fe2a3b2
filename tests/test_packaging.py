"""Packaging: every third-party module the package imports is a declared dependency (optional
ones, imported under ``try/except ImportError``, in an extra), and a plain ``pip install`` (no
extras) into a fresh virtual environment trains a tiny model through ``pdejax train``."""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pdejax", "solvers", "surrogates")
# import name -> distribution, where the environment cannot tell (module not installed)
KNOWN = {"orbax": "orbax-checkpoint", "yaml": "pyyaml", "PIL": "pillow", "sklearn": "scikit-learn"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _normalize(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)[1])


def _declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(s) for s in project["dependencies"]}
    extras = {
        extra: {_requirement_name(s) for s in specs}
        for extra, specs in project.get("optional-dependencies", {}).items()
    }
    return core, extras


def _guarded(node, parents) -> bool:
    """Inside the body of a ``try`` whose handlers catch ImportError / ModuleNotFoundError."""
    child = node
    for parent in parents:
        if isinstance(parent, ast.Try) and child in parent.body:
            caught = [ast.unparse(h.type) if h.type else "" for h in parent.handlers]
            if any(c in ("", "ImportError", "ModuleNotFoundError") or "ImportError" in c
                   for c in caught):  # fmt: skip
                return True
        child = parent
    return False


def _third_party_imports():
    """``{top-level module: [(file, guarded), ...]}`` over the package's sources."""
    stdlib = set(sys.stdlib_module_names)
    uses = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            tree = ast.parse(path.read_text())
            parents: dict[ast.AST, ast.AST] = {}
            for parent in ast.walk(tree):
                for child in ast.iter_child_nodes(parent):
                    parents[child] = parent
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                chain, p = [], node
                while p in parents:
                    p = parents[p]
                    chain.append(p)
                scope = next((p for p in chain if isinstance(p, ast.FunctionDef)), None)
                for module in modules:
                    top = module.split(".")[0]
                    if top not in stdlib and top not in ("pdejax", "__future__"):
                        uses.append((top, str(path.relative_to(ROOT)), scope,
                                     _guarded(node, chain)))  # fmt: skip
    # `import m.sub` after a guarded `import m` in the same function (which returned early
    # when m was missing) is guarded too
    safe = {(top, scope) for top, _, scope, guarded in uses if guarded and scope}
    found: dict[str, list[tuple[str, bool]]] = {}
    for top, rel, scope, guarded in uses:
        found.setdefault(top, []).append((rel, guarded or (top, scope) in safe))
    return found


def _distribution(module: str) -> str | None:
    dists = importlib.metadata.packages_distributions().get(module)
    if dists:
        return _normalize(dists[0])
    return _normalize(KNOWN[module]) if module in KNOWN else None


def test_every_third_party_import_is_a_declared_dependency():
    core, extras = _declared()
    optional = set().union(*extras.values())
    problems = []
    for module, uses in sorted(_third_party_imports().items()):
        dist = _distribution(module)
        if dist is None:
            problems.append(f"{module} (in {uses[0][0]}): no installed distribution provides it")
            continue
        required = [f for f, guarded in uses if not guarded]
        if required and dist not in core:
            problems.append(f"{dist} (import {module} in {required[0]}) is not in dependencies")
        elif not required and dist not in core | optional:
            problems.append(f"{dist} (optional import {module} in {uses[0][0]}) is in no extra")
    assert not problems, "; ".join(problems)
    assert {"lineax", "orbax-checkpoint"} <= core
    assert "matplotlib" in extras["plots"] and "matplotlib" not in core


def test_the_import_scan_sees_what_it_must():
    found = _third_party_imports()
    assert ("pdejax/inverse/solve.py", False) in found["lineax"]
    assert found["orbax"] and all(not g for _, g in found["orbax"])
    assert all(guarded for _, guarded in found["matplotlib"])  # plots.py: optional


TINY = """
name = "tiny"
run_dir = "{run}"
[data]
problem = "fno/burgers"
problem_args = {{ num_points = 32, num_steps = 10 }}
num_train = 8
num_test = 4
chunk_size = 4
data_dir = "{data}"
[model]
name = "FNO"
kwargs = {{ in_channels = 1, out_channels = 1, modes = [4], width = 8 }}
[train]
num_epochs = 1
batch_size = 4
[eval]
resolutions = [32]
"""


def test_a_plain_install_without_extras_trains(tmp_path):
    """Build a wheel, ``pip install`` it (no extras) into a fresh venv, ``pdejax train`` a tiny
    config: the command must not need matplotlib or anything else outside the dependencies.
    23-29 s on 2 idle cores with pip's local index and cache (about 70 s under full load)."""
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, env=pip_env)  # fmt: skip
    (wheel,) = wheels.glob("pdejax-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=pip_env)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   env=pip_env, capture_output=True)  # fmt: skip
    probe = subprocess.run([str(python), "-c", "import matplotlib"], capture_output=True,
                           env=pip_env, cwd=tmp_path)  # fmt: skip
    assert probe.returncode != 0, "matplotlib came in without the plots extra"

    config = tmp_path / "tiny.toml"
    config.write_text(TINY.format(run=tmp_path / "run", data=tmp_path / "data"))
    env = dict(pip_env, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false", OMP_NUM_THREADS="1")
    result = subprocess.run([str(venv / "bin" / "pdejax"), "train", str(config)], env=env,
                            cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "results.json").exists()
