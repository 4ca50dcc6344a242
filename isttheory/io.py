"""Problem files: JSON and NPZ, never pickle.

JSON: ``{"L": n×d×d, "b": n×d (optional, zeros), "x0": d (optional)}``.
NPZ: arrays named ``L``, optionally ``b`` and ``x0``; loaded with
``allow_pickle=False`` so an object array is refused, not executed.
Structured NPZ (large problems, :class:`~isttheory.structured.LowRankDiagonalProblem`):
``D`` (n×d diagonals) instead of ``L``, optionally ``b``, ``V`` (d×r₀), ``U`` (n×d×r), ``x0``.

Every failure raises :class:`~isttheory.errors.ProblemFileError` or a
:class:`~isttheory.errors.ProblemError` subclass, with a one-line message.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ProblemFileError, ShapeError
from .interrupts import raise_if_interrupted
from .problem import QuadraticProblem, _check_finite
from .structured import LowRankDiagonalProblem

_MAX_DEPTH = 4
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""The first four bytes of a ZIP archive (an NPZ file): a local file header, or an empty archive's end record."""


@dataclass(frozen=True)
class ProblemFile:
    """A problem together with the starting point stored beside it (if any)."""

    problem: QuadraticProblem | LowRankDiagonalProblem
    x0: NDArray[np.float64] | None

    def dense(self, command: str) -> QuadraticProblem:
        """The problem, if it is dense; else a one-line :class:`ProblemFileError` naming ``command``."""
        if not isinstance(self.problem, QuadraticProblem):
            raise ProblemFileError(_needs_dense(command))
        return self.problem


def _needs_dense(command: str) -> str:
    return (f"{command} needs a dense problem file (array L); this file holds a structured "
            "problem (D, V, U), which only 'simulate' accepts")


def _numeric_tree(obj: Any, name: str, depth: int = 0) -> Any:
    """Check a JSON value is a nested list of numbers (bool is not a number)."""
    if depth > _MAX_DEPTH:
        raise ShapeError(f"{name} is nested too deeply for an array")
    if isinstance(obj, bool) or obj is None:
        raise ShapeError(f"{name} holds {json.dumps(obj)} where a number is expected")
    if isinstance(obj, (int, float)):
        if isinstance(obj, int) and abs(obj) > 2**1000:
            raise ShapeError(f"{name} holds an integer too large for a float")
        return obj
    if isinstance(obj, list):
        return [_numeric_tree(v, name, depth + 1) for v in obj]
    raise ShapeError(f"{name} holds a {type(obj).__name__} where a number or list is expected")


def _json_array(obj: Any, name: str, ndim: int) -> NDArray[np.float64]:
    tree = _numeric_tree(obj, name)
    try:
        arr = np.array(tree, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise ShapeError(f"{name} is a ragged list, not a rectangular array") from None
    if arr.ndim != ndim:
        raise ShapeError(f"{name} must be a {ndim}-dimensional array; got shape {arr.shape}")
    return arr


def _x0_array(x0: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    if x0.shape != (d,):
        raise ShapeError(f"x0 must have length d = {d}; got shape {x0.shape}")
    _check_finite(x0, "x0")
    return x0


def problem_from_dict(data: Any) -> ProblemFile:
    """Build a :class:`ProblemFile` from the decoded JSON object."""
    if not isinstance(data, dict):
        raise ProblemFileError("problem JSON must be an object with keys 'L', 'b' (optional), 'x0' (optional)")
    unknown = set(data) - {"L", "b", "x0"}
    if unknown:
        raise ProblemFileError(f"problem JSON has unknown keys {sorted(unknown)}; allowed: L, b, x0")
    if "L" not in data:
        raise ProblemFileError("problem JSON has no 'L' (an n x d x d array)")
    L = _json_array(data["L"], "L", 3)
    b = _json_array(data["b"], "b", 2) if data.get("b") is not None else np.zeros(L.shape[:2])
    problem = QuadraticProblem(L, b)
    x0 = _json_array(data["x0"], "x0", 1) if data.get("x0") is not None else None
    return ProblemFile(problem, None if x0 is None else _x0_array(x0, problem.d))


def problem_to_dict(problem: QuadraticProblem, x0: NDArray[np.float64] | None = None) -> dict[str, Any]:
    """The JSON object of a problem (and optional starting point)."""
    out: dict[str, Any] = {"L": problem.L.tolist(), "b": problem.b.tolist()}
    if x0 is not None:
        out["x0"] = np.asarray(x0, dtype=float).tolist()
    return out


def _reject_constant(token: str) -> float:
    raise ShapeError(f"JSON constant {token} is not a finite number")


def read_problem(path: str | os.PathLike[str], dense_for: str | None = None) -> ProblemFile:
    """Read a problem file, ``.json`` or ``.npz``.

    The format is decided by content (a ZIP signature means NPZ, whatever the name); a file named
    ``*.npz`` without that signature is refused as "not a valid NPZ archive", not parsed as JSON.
    ``dense_for`` names a command that needs a dense problem (array ``L``): a structured archive is then
    refused from its member names alone, before any array is read (:meth:`ProblemFile.dense` says the same
    after the fact)."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
            if head in _ZIP_MAGIC:  # an NPZ archive: np.load reads its members one by one, on demand
                raw = b""
            else:
                raw = head + fh.read()
    except FileNotFoundError:
        raise ProblemFileError(f"problem file not found: {p}") from None
    except IsADirectoryError:
        raise ProblemFileError(f"problem path is a directory, not a file: {p}") from None
    except OSError as exc:
        raise ProblemFileError(f"cannot read problem file {p}: {exc.strerror or exc}") from None
    if head in _ZIP_MAGIC:
        return _read_npz(p, dense_for)
    if p.suffix.lower() == ".npz":  # named NPZ but not a ZIP archive: say so, not "not valid JSON"
        what = "an empty file" if not raw else "no ZIP signature at the start"
        raise ProblemFileError(f"{p} is not a valid NPZ archive ({what})")
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ProblemFileError(f"{p} is neither JSON (not UTF-8 text) nor an NPZ archive") from None
    except json.JSONDecodeError as exc:
        raise ProblemFileError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ProblemFileError(f"{p} is nested too deeply to be a problem file") from None
    return problem_from_dict(data)


MAP_MIN_BYTES = 1 << 26
"""NPZ members stored (not deflated) and at least this large are memory-mapped instead of read."""

_CRC_CHUNK = 1 << 26


def _mapped_member(p: Path, z: Any, name: str) -> NDArray[Any] | None:
    """Member ``name`` of the open NPZ archive ``z`` as a read-only memory map of ``p``, or ``None`` for the
    ordinary read (a small or compressed member, an unusual header, a size or CRC-32 mismatch: ``np.load``
    then reads it and reports any error as before).

    Reading a large member copies it into fresh memory; mapping the page-cached file does not (a 800 MB
    member: seconds of page faults against a fraction of a second). The member's CRC-32 is still checked
    over the mapped bytes. The map stays valid if the file is later replaced (``write_problem`` renames),
    not if it is truncated in place while the problem is in use."""
    try:
        info = z.zip.getinfo(name + ".npy")
    except (KeyError, AttributeError):
        return None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size < MAP_MIN_BYTES or info.flag_bits & 0x1:
        return None
    fmt = np.lib.format
    with open(p, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            return None
        start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") \
            + int.from_bytes(local[28:30], "little")
        fh.seek(start)
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(fh)
            else:
                return None
        except ValueError:  # a malformed header: np.load reports it
            return None
        header = fh.tell() - start
    if dtype.hasobject or dtype.subdtype is not None or dtype.itemsize == 0 \
            or header + math.prod(shape) * dtype.itemsize != info.file_size:
        return None
    raw = np.memmap(p, dtype=np.uint8, mode="r", offset=start, shape=(info.file_size,))
    crc = 0
    for lo in range(0, info.file_size, _CRC_CHUNK):
        crc = zlib.crc32(raw[lo:lo + _CRC_CHUNK].data, crc)
    if crc != info.CRC:
        return None
    data = raw[header:].view(dtype)
    return np.asarray(data.reshape(shape, order="F" if fortran else "C"))


def _read_npz(p: Path, dense_for: str | None = None) -> ProblemFile:
    try:
        with np.load(p, allow_pickle=False) as z:
            names = set(z.files)
            structured = "D" in names and "L" not in names
            if "L" not in names and not structured:
                raise ProblemFileError(f"{p}: NPZ archive has no array 'L' (dense) or 'D' (structured)")
            allowed = {"D", "b", "V", "U", "x0"} if structured else {"L", "b", "x0"}
            unknown = names - allowed
            if unknown:
                raise ProblemFileError(f"{p}: NPZ archive has unknown arrays {sorted(unknown)} "
                                       f"(a {'structured' if structured else 'dense'} problem has "
                                       f"{', '.join(sorted(allowed))})")
            if structured and dense_for is not None:  # refused from the member names: no array is read
                raise ProblemFileError(_needs_dense(dense_for))
            arrays = {}
            for k in names:
                mapped = _mapped_member(p, z, k) if structured else None
                arrays[k] = z[k] if mapped is None else mapped
    except ProblemFileError:
        raise
    except MemoryError:
        raise ProblemFileError(f"{p}: NPZ archive declares an array too large for memory") from None
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise ProblemFileError(f"{p}: NPZ archive holds Python objects (pickle); refusing to load it") from None
        raise ProblemFileError(f"{p}: cannot read NPZ archive: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError) as exc:
        raise ProblemFileError(f"{p}: corrupt or truncated NPZ archive ({type(exc).__name__})") from None
    for k, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise ProblemFileError(f"{p}: member {k!r} of the NPZ archive is not a .npy array")
        if a.dtype.kind not in "biuf":
            raise ProblemFileError(f"{p}: array {k!r} has dtype {a.dtype}, not a real number type")
    if "D" in arrays:
        D = arrays["D"].astype(np.float64, copy=False)
        if D.ndim != 2:
            raise ShapeError(f"D must be a 2-dimensional array (n, d); got shape {D.shape}")
        b = arrays["b"].astype(np.float64, copy=False) if "b" in arrays else np.zeros(D.shape)
        V = arrays["V"].astype(np.float64, copy=False) if "V" in arrays else None
        U = arrays["U"].astype(np.float64, copy=False) if "U" in arrays else None
        sp = LowRankDiagonalProblem.from_owned_arrays(D, b, V, U)  # freshly read: validated without a copy
        x0 = arrays.get("x0")
        return ProblemFile(sp, None if x0 is None else _x0_array(x0.astype(np.float64, copy=False), sp.d))
    L = arrays["L"].astype(np.float64, copy=False)
    if L.ndim != 3:
        raise ShapeError(f"L must be a 3-dimensional array; got shape {L.shape}")
    b = arrays["b"].astype(np.float64, copy=False) if "b" in arrays else np.zeros(L.shape[:2])
    problem = QuadraticProblem(L, b)
    x0 = arrays.get("x0")
    return ProblemFile(problem, None if x0 is None else _x0_array(x0.astype(np.float64, copy=False), problem.d))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename).

    Refuses to start once a Ctrl-C has been seen (see :mod:`isttheory.interrupts`)."""
    raise_if_interrupted()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(tmp, p)
        _fsync_dir(p.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (the folder's entry), where the OS allows opening folders."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on folders
        pass
    finally:
        os.close(fd)


def write_problem(path: str | os.PathLike[str], problem: QuadraticProblem | LowRankDiagonalProblem,
                  x0: NDArray[np.float64] | None = None) -> None:
    """Write a problem file; ``.npz`` suffix gives NPZ, anything else JSON (dense problems only). Atomic."""
    import io as _io

    p = Path(path)
    extra: dict[str, Any] = {} if x0 is None else {"x0": np.asarray(x0, dtype=float)}
    if isinstance(problem, LowRankDiagonalProblem):
        if p.suffix.lower() != ".npz":
            raise ProblemFileError(f"a structured problem is written as NPZ; name the file *.npz, not {p.name}")
        assert problem.V is not None
        arrays: dict[str, Any] = {"D": problem.D, "b": problem.b, "V": problem.V, **extra}
        if problem.U is not None:
            arrays["U"] = problem.U
        buf = _io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(p, buf.getvalue())
    elif p.suffix.lower() == ".npz":
        buf = _io.BytesIO()
        np.savez(buf, **{"L": problem.L, "b": problem.b, **extra})
        atomic_write_bytes(p, buf.getvalue())
    else:
        atomic_write_bytes(p, json.dumps(problem_to_dict(problem, x0)).encode())


def parse_vector(text: str, d: int, name: str = "x0") -> NDArray[np.float64]:
    """Parse a CLI vector: one number (filled to length d) or d comma-separated numbers."""
    parts = [t.strip() for t in text.split(",")]
    if "_" in text:
        raise ShapeError(f"{name} must be plain numbers; got {text!r}")
    try:
        vals = [float(t) for t in parts]
    except ValueError:
        raise ShapeError(f"{name} must be a number or {d} comma-separated numbers; got {text!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise ShapeError(f"{name} has a non-finite entry: {text!r}")
    if len(vals) == 1:
        return np.full(d, vals[0])
    if len(vals) != d:
        raise ShapeError(f"{name} has {len(vals)} entries; the problem has d = {d}")
    return np.array(vals)
