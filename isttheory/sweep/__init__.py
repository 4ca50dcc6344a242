"""Parameter sweeps on Dask: ``isttheory sweep SPEC.toml``.

:mod:`.spec` parses the TOML grid into cells with stable ids and per-cell seeds,
:mod:`.cell` computes one cell (constants, exact limits, Monte Carlo), :mod:`.store`
streams finished cells to disk so a sweep resumes after any interruption, and
:mod:`.runner` distributes the cells over a ``dask.distributed`` cluster.
"""

from .cell import build_problem, run_cell
from .runner import SweepReport, run_sweep
from .spec import Cell, SweepSpec, load_spec, parse_spec

__all__ = ["Cell", "SweepReport", "SweepSpec", "build_problem", "load_spec", "parse_spec", "run_cell", "run_sweep"]
