"""Exception hierarchy of isttheory.

Every user mistake raises a subclass of :class:`ISTError` with a one-line
message; the CLI prints that line and exits with code 2. Anything else that
escapes is a bug in isttheory, not in the user's input.
"""

from __future__ import annotations


class ISTError(Exception):
    """Base class of every error isttheory raises on purpose."""


class ProblemError(ISTError, ValueError):
    """A quadratic problem (1)/(12) is malformed."""


class ShapeError(ProblemError):
    """Arrays have inconsistent or wrong shapes."""


class NonFiniteError(ProblemError):
    """NaN or infinity where a finite number is required."""


class NotSymmetricError(ProblemError):
    """Some `L_i` is not symmetric within the stated tolerance."""


class NotPSDError(ProblemError):
    """Some `L_i` (or a sketch matrix) is not positive semidefinite."""


class SingularError(ProblemError):
    """`L̄` is singular where `x* = L̄⁻¹ b̄` (or `L̄⁻¹`) is needed."""


class ProblemFileError(ISTError, ValueError):
    """A problem or sketch file cannot be read: malformed, truncated, pickled."""


class SketchError(ISTError, ValueError):
    """A sketch is malformed or cannot be used with this problem."""


class SketchSpecError(SketchError):
    """A CLI sketch spec string is not understood (unknown name, bad parameter)."""


class IncompatibleSketchError(SketchError):
    """The sketch needs a relation between `n` and `d` (e.g. `d = q·n`) or
    positive diagonals that the problem does not have."""


class ParameterError(ISTError, ValueError):
    """A run parameter (γ, K, R, seed, local steps, ...) is invalid."""


class DatasetError(ParameterError):
    """A data set name is unknown, or the data set cannot serve the request (a classification loss on a
    regression target)."""


class NetworkShapeError(ParameterError):
    """A two-layer network (:mod:`isttheory.network`) does not fit its run: the hidden size is not a positive
    multiple of the number of clients (IST deals the neurons in equal blocks), or the network's input or
    output size is not the data's."""


class ResourceError(ISTError, MemoryError):
    """The requested computation is estimated not to fit in memory."""


class EnumerationTooLargeError(SketchError):
    """Exact enumeration of a sketch's support was asked for where it is too large."""


class SweepSpecError(ISTError, ValueError):
    """A sweep spec (TOML) is malformed, or an output folder holds a different sweep."""


class SchedulerError(ISTError, ConnectionError):
    """The Dask scheduler given with ``--scheduler`` cannot be reached, does not answer as a Dask scheduler
    within the handshake timeout, or has no worker within the worker timeout."""


class WorkerVersionError(SchedulerError):
    """A Dask worker runs another isttheory, NumPy or SciPy version than the client (or cannot import them):
    its cells would not be the client's results, so the sweep is refused before anything is computed."""


class WorkerEnvironmentError(ISTError, RuntimeError):
    """A worker cannot compute a cell for a reason of its own, not of the cell's parameters (a shipped sketch
    file whose content does not match the hash in the cell id, a file it cannot read): the cell is a failure
    that a rerun retries, never a stored result."""


class LemmaError(ISTError, ValueError):
    """A lemma file or statement is malformed: bad syntax, an unknown name, a bad range."""


class SearchTimeLimitError(ISTError, TimeoutError):
    """A lemma search with an instance budget ran past its wall-clock ``time_limit`` (the pytest plugin's
    guard): the search stops and says so instead of returning an outcome that depends on the machine."""


class ConvergenceError(ISTError, ArithmeticError):
    """An iterative eigen-solver stopped before its stopping rule certified the result (e.g. the power
    iteration for the mean-square rate, whose Collatz–Wielandt bracket was still too wide)."""


class UnreliableMeanWarning(UserWarning):
    """A Monte Carlo mean of :func:`~isttheory.simulate.simulate` is unreliable: the method does not converge
    in mean square (exact ``ms_rate >= 1``), or the runs are so heavy-tailed that one run carries most of
    the mean. Reruns with other seeds give wildly different means (0.5 one time, 150 the next)."""


class RegistryError(ISTError, ValueError):
    """A claim cannot be registered: its id is already taken (a plugin registering twice, or two plugins)."""


class CheckError(ISTError, RuntimeError):
    """A Monte Carlo check of a bound could not run as designed: a simulation at a step size its theorem
    allows diverged, or kept no iterates."""
