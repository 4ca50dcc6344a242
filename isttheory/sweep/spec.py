"""Sweep specs: a TOML file naming a grid; its expansion into cells with stable ids and seeds.

The grid is the product of the values under ``[grid]`` (each a scalar or a list);
:data:`EXAMPLE` is a complete spec (``isttheory sweep --example`` prints it).

Axes that a generator does not take are dropped from its cells (a grid may mix
generators). A cell's id is a hash of its parameters, and its Monte Carlo seed
is drawn from ``SeedSequence(sweep.seed, spawn_key=<that hash>)``: a cell's
results depend on nothing but its parameters, so they are the same for any
number of workers, any order of completion, and after any resume. Adding values
to a grid (same seed, runs, iterations and max_d) leaves the existing cells
untouched: rerunning into the same folder computes only the new cells.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import SketchSpecError, SweepSpecError
from ..sketches.spec import check_sketch_spec
from ..validation import FORMS

EXAMPLE = """\
[sweep]
seed = 0                     # entropy of the Monte Carlo seeds

[grid]
generator = "heterogeneous"  # homogeneous, heterogeneous, interpolation,
                             # heterogeneous_structured, low_rank_diagonal
heterogeneity = [0.0, 0.5, 1.0]
n = 4
q = [1, 2]                   # d = q·n (or give d directly, not both)
sketch = ["perm", "precond-perm"]
gamma = [0.01, 0.05, 0.3, 1.0]        # perm needs small steps; precond-perm takes up to 1
form = "sgd"                 # or "ist" (Algorithm 1, merge (6))
local_steps = 1
seed = [0, 1]                # problem-instance seeds

[monte_carlo]
runs = 200
iters = 200

[exact]
max_d = 64                   # exact dynamics and constants only up to this d
"""

GENERATOR_AXES: dict[str, tuple[str, ...]] = {
    "homogeneous": ("cond",),
    "heterogeneous": ("heterogeneity", "cond"),
    "interpolation": ("heterogeneity", "cond"),
    "heterogeneous_structured": ("heterogeneity", "cond", "rank"),
    "low_rank_diagonal": ("heterogeneity", "cond", "shared_rank", "client_rank"),
}
"""Generator name → the grid axes it takes besides ``n``, ``d`` and ``seed``."""

AXES: dict[str, tuple[type, ...]] = {
    "generator": (str,), "heterogeneity": (int, float), "cond": (int, float), "rank": (int,),
    "shared_rank": (int,), "client_rank": (int,), "n": (int,), "d": (int,), "q": (int,), "sketch": (str,),
    "gamma": (int, float), "form": (str,), "local_steps": (int,), "seed": (int,), "noise": (int, float),
}
DEFAULTS: dict[str, Any] = {"form": "sgd", "local_steps": 1, "seed": 0, "noise": 0.0}
REQUIRED = ("generator", "n", "sketch", "gamma")
GENERATOR_AXES_ALL = frozenset(a for axes in GENERATOR_AXES.values() for a in axes)
RESULT_FORMAT = 1
"""Version of a cell's result layout; with the package version it enters :attr:`SweepSpec.settings_digest`,
so cells computed by other code are never reused."""
MAX_CELLS = 100_000


@dataclass(frozen=True)
class Cell:
    """One grid point: ``params`` (JSON-ready, canonical), its ``index`` in grid order and ``id``."""

    index: int
    id: str
    params: dict[str, Any]
    mc_seed: int


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep spec; ``text`` is the file's content (stored with the results)."""

    grid: dict[str, list[Any]]
    seed: int = 0
    runs: int = 100
    iters: int = 100
    max_d: int = 64
    text: str = ""
    cells: list[Cell] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    """Content of every sketch file the grid names (``finite:PATH``, ``perm-groups:PATH``) by its SHA-256,
    read once when the spec is expanded: a sweep ships these bytes with its tasks, and a worker checks them
    against the cell's ``sketch_sha256`` (workers need no copy of the files)."""

    @property
    def settings_digest(self) -> str:
        """Hash of what a cell's result depends on besides its parameters: seed, runs, iterations, max_d,
        and the code (package version, result format)."""
        canon = json.dumps({"seed": self.seed, "runs": self.runs, "iters": self.iters, "max_d": self.max_d,
                            "version": __version__, "format": RESULT_FORMAT}, sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    @property
    def digest(self) -> str:
        """Hash of the whole sweep (settings and grid)."""
        canon = json.dumps({"grid": self.grid, "settings": self.settings_digest}, sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec; :class:`SweepSpecError` (one line) on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepSpecError(f"sweep spec {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepSpecError(f"cannot read sweep spec {str(p)!r}: {exc}") from None
    return parse_spec(text, str(p))


def parse_spec(text: str, where: str = "<spec>") -> SweepSpec:
    """Parse TOML text into a :class:`SweepSpec` with its cells expanded."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepSpecError(f"{where} is not valid TOML: {exc}") from None
    unknown = set(raw) - {"sweep", "grid", "monte_carlo", "exact"}
    if unknown:
        raise SweepSpecError(f"{where}: unknown section [{sorted(unknown)[0]}] "
                             "(sections: sweep, grid, monte_carlo, exact)")
    sweep = _table(raw, "sweep", where, {"seed", "name"})
    mc = _table(raw, "monte_carlo", where, {"runs", "iters"})
    ex = _table(raw, "exact", where, {"max_d"})
    if "grid" not in raw:
        raise SweepSpecError(f"{where}: missing section [grid]")
    grid = _grid(_table(raw, "grid", where, set(AXES)), where)
    spec = SweepSpec(grid=grid, seed=_int(sweep.get("seed", 0), "sweep.seed", where, 0),
                     runs=_int(mc.get("runs", 100), "monte_carlo.runs", where, 2),
                     iters=_int(mc.get("iters", 100), "monte_carlo.iters", where, 1),
                     max_d=_int(ex.get("max_d", 64), "exact.max_d", where, 0), text=text)
    object.__setattr__(spec, "cells", expand(spec))
    return spec


FILE_SKETCHES = ("finite", "perm-groups")
"""Sketch families whose parameter is a file: its content enters the cell id (``sketch_sha256``) and travels
with the cell's task."""


def sketch_file(sketch: str) -> str | None:
    """The path in a file sketch spec (``finite:PATH``, ``perm-groups:PATH``), else ``None``."""
    name, sep, path = sketch.strip().partition(":")
    return path if sep and name in FILE_SKETCHES else None


def _table(raw: dict[str, Any], name: str, where: str, allowed: set[str]) -> dict[str, Any]:
    t = raw.get(name, {})
    if not isinstance(t, dict):
        raise SweepSpecError(f"{where}: [{name}] must be a table")
    bad = set(t) - allowed
    if bad:
        raise SweepSpecError(f"{where}: unknown key {sorted(bad)[0]!r} in [{name}] "
                             f"(allowed: {', '.join(sorted(allowed))})")
    return t


def _int(v: Any, name: str, where: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise SweepSpecError(f"{where}: {name} must be an integer >= {lo}; got {v!r}")
    return v


def _grid(g: dict[str, Any], where: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for key, val in g.items():
        vals = val if isinstance(val, list) else [val]
        if not vals:
            raise SweepSpecError(f"{where}: grid.{key} is an empty list")
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, AXES[key]):
                kinds = " or ".join(t.__name__ for t in AXES[key])
                raise SweepSpecError(f"{where}: grid.{key} values must be {kinds}; got {v!r}")
            if isinstance(v, float) and not math.isfinite(v):
                raise SweepSpecError(f"{where}: grid.{key} values must be finite; got {v!r}")
        if len(set(map(repr, vals))) != len(vals):
            raise SweepSpecError(f"{where}: grid.{key} lists a value twice")
        out[key] = vals
    for key in REQUIRED:
        if key not in out:
            raise SweepSpecError(f"{where}: grid.{key} is required")
    if "d" in out and "q" in out:
        raise SweepSpecError(f"{where}: give grid.d or grid.q (d = q*n), not both")
    if "d" not in out and "q" not in out:
        raise SweepSpecError(f"{where}: grid.d or grid.q (d = q*n) is required")
    for name in out["generator"]:
        if name not in GENERATOR_AXES:
            raise SweepSpecError(f"{where}: unknown generator {name!r} (known: {', '.join(GENERATOR_AXES)})")
    for v in out.get("form", []):
        if v not in FORMS:
            raise SweepSpecError(f"{where}: grid.form values must be 'sgd' or 'ist'; got {v!r}")
    for key, lo in (("n", 1), ("d", 1), ("q", 1), ("local_steps", 1), ("seed", 0), ("rank", 0),
                    ("shared_rank", 0), ("client_rank", 0)):
        for v in out.get(key, []):
            if v < lo:
                raise SweepSpecError(f"{where}: grid.{key} values must be >= {lo}; got {v!r}")
    for v in out.get("gamma", []):
        if v <= 0:
            raise SweepSpecError(f"{where}: grid.gamma values must be positive; got {v!r}")
    for v in out.get("cond", []):
        if v < 1:
            raise SweepSpecError(f"{where}: grid.cond values must be >= 1 (a condition number); got {v!r}")
    for v in out["sketch"]:
        try:
            check_sketch_spec(v)
        except SketchSpecError as exc:
            raise SweepSpecError(f"{where}: grid.sketch: {exc}") from None
    taken = {a for g in out["generator"] for a in GENERATOR_AXES[g]}
    for key in sorted(set(out) & GENERATOR_AXES_ALL - taken):
        raise SweepSpecError(f"{where}: grid.{key} is not a parameter of generator(s) "
                             f"{', '.join(out['generator'])}")
    for v in out.get("heterogeneity", []):
        if not 0 <= v <= 1:
            raise SweepSpecError(f"{where}: grid.heterogeneity values must lie in [0, 1]; got {v!r}")
    for v in out.get("noise", []):
        if v < 0:
            raise SweepSpecError(f"{where}: grid.noise values must be >= 0; got {v!r}")
    return out


def cell_key(params: dict[str, Any]) -> tuple[str, tuple[int, ...]]:
    """The cell id (16 hex digits) and the ``spawn_key`` (four 32-bit words) of its parameters."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).digest()
    return digest[:8].hex(), tuple(int.from_bytes(digest[4 * i: 4 * i + 4], "little") for i in range(4))


def expand(spec: SweepSpec) -> list[Cell]:
    """Every cell of the grid, in grid order, without duplicates (axes a generator does not take
    are dropped from its cells)."""
    grid = {**{k: [v] for k, v in DEFAULTS.items()}, **spec.grid}
    keys = sorted(grid)
    total = math.prod(len(grid[k]) for k in keys)
    if total > MAX_CELLS:
        raise SweepSpecError(f"the grid has {total} points; at most {MAX_CELLS} per sweep")
    cells: list[Cell] = []
    seen: set[str] = set()
    by_path: dict[str, str] = {}
    for combo in itertools.product(*(grid[k] for k in keys)):
        raw = dict(zip(keys, combo, strict=True))
        takes = set(GENERATOR_AXES[raw["generator"]])
        params = {k: v for k, v in raw.items() if k not in GENERATOR_AXES_ALL or k in takes}
        if "q" in params:
            params["d"] = params.pop("q") * params["n"]
        if params["form"] == "sgd":
            params["local_steps"] = 1  # local steps belong to Algorithm 1 (form "ist")
        path = sketch_file(str(params["sketch"]))
        if path is not None:
            if path not in by_path:  # each file read once: the hash and the shipped bytes are one reading
                content = _file_content(path)
                by_path[path] = hashlib.sha256(content).hexdigest()
                spec.files[by_path[path]] = content
            params["sketch_sha256"] = by_path[path]
        params = {k: (float(v) if AXES.get(k) == (int, float) else v) for k, v in params.items()}
        cid, spawn = cell_key(params)
        if cid in seen:
            continue
        seen.add(cid)
        state = np.random.SeedSequence(spec.seed, spawn_key=spawn).generate_state(2, np.uint32)
        cells.append(Cell(len(cells), cid, params, int(state[0]) << 32 | int(state[1])))
    return cells


def _file_content(path: str) -> bytes:
    """A sketch file's content: it enters the cell id by its hash, not only its name."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SweepSpecError(f"sketch file {path!r} cannot be read: {exc.strerror}") from None
