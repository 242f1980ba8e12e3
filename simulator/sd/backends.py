"""Which vector backend ``"auto"`` picks: the one measured faster on this machine.

The engine computes N runs at once either with numpy (the generated array code, one numpy call
per operation) or with XLA (the same code compiled by JAX, :mod:`simulator.sd.xla`). Which is faster
depends on the CPU: numpy's float64 ``exp``/``log`` are SIMD loops on a CPU with AVX-512 and
scalar C-library calls without it, XLA always vectorises them but costs seconds to compile once
per process and kind of call. No choice measured on one machine holds on another, so ``"auto"``
is decided from a short measurement on the machine it runs on:

* numpy and XLA each run two ensembles of the real model (:data:`SIZES` runs, every lever,
  assumption and uncertain constant varied), warm, best of :data:`REPEATS`; a straight line
  through the two gives each backend's cost per call and per run;
* XLA's one-off cost — importing JAX (timed in a child process, so that it is counted even
  where JAX is already loaded) plus tracing and compiling the first call, with JAX's persistent
  compilation cache off so that it is a real compile — is measured once as well.

A long-lived process (the app, a notebook, a script: :func:`choose` with ``use=None``) amortises
the compile and compares the warm cost of an ensemble of :data:`TYPICAL_RUNS` runs; a one-off
process (a command, ``use=(calls, runs per call)``) adds XLA's one-off cost to XLA's side.

The measurement (short, but not free: it runs both backends and compiles XLA once) is cached as
JSON in ``$GUANGYUAN_CACHE`` (default ``~/.cache/guangyuan-sim``), keyed by :func:`fingerprint`:
the CPU model and flags, the Python, numpy, jax and jaxlib versions and the SHA-256 of the
engine's source. A file that cannot be read, is not valid, or was measured under another
fingerprint is measured again and replaced (atomically); a cache directory that cannot be
written only costs the measurement once per process. Which backend is picked never changes a
result beyond rounding (``tests/test_backends.py`` states the tolerances).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

CACHE_ENV = "GUANGYUAN_CACHE"
CACHE_NAME = "backend-timing.json"
FORMAT = 1                      # version of the cache file's layout
SIZES = (1000, 10_000)          # runs of the two measured ensembles: the commands' range
REPEATS = 3                     # warm calls of each; the fastest counts (others share the CPU)
TYPICAL_RUNS = 1000             # a long-lived process's ensemble: the app's uncertainty draws
#: Source files whose change can change the relative speed of the backends.
SOURCES = ("engine.py", "xla.py", "schedule.py", "backends.py")

_lock = threading.Lock()
_memo: dict[str, Timing] = {}   # per cache file, once read or measured in this process


@dataclass(frozen=True)
class Timing:
    """Seconds measured on this machine: a warm call of ``sizes[k]`` runs on each backend, and
    XLA's one-off cost (importing JAX, tracing and compiling a first call)."""
    sizes: tuple[int, int]
    numpy_s: tuple[float, float]
    xla_s: tuple[float, float]
    xla_setup_s: float

    def call_seconds(self, backend: str, runs: int) -> float:
        """Estimated seconds of one warm call of ``runs`` runs: through the two measured points,
        straight on above them, and below the smaller towards the line's cost of a call of no
        runs (0 if the line would make that negative)."""
        (n0, n1), (t0, t1) = self.sizes, self.numpy_s if backend == "numpy" else self.xla_s
        per_run = max((t1 - t0) / (n1 - n0), 0.0)
        if runs >= n0:
            return t0 + per_run * (runs - n0)
        empty = max(t0 - per_run * n0, 0.0)
        return empty + (t0 - empty) * runs / n0

    def seconds(self, backend: str, runs: int, calls: int = 1, one_off: bool = False) -> float:
        """Estimated seconds of ``calls`` calls of ``runs`` runs each on ``backend``, with XLA's
        one-off cost if ``one_off``."""
        setup = self.xla_setup_s if one_off and backend == "xla" else 0.0
        return setup + calls * self.call_seconds(backend, runs)

    def faster(self, use: tuple[int, int] | None = None) -> str:
        """``"numpy"`` or ``"xla"``, whichever is estimated faster for ``use`` (``(calls, runs
        per call)`` of a one-off process; None: a long-lived process, warm calls of
        :data:`TYPICAL_RUNS` runs)."""
        calls, runs = use if use is not None else (1, TYPICAL_RUNS)
        cost = {b: self.seconds(b, runs, calls, one_off=use is not None) for b in ("numpy", "xla")}
        return "xla" if cost["xla"] < cost["numpy"] else "numpy"

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Any) -> Timing:
        """The timing written by :meth:`to_dict`; ValueError for anything else."""
        if not isinstance(data, Mapping) or set(data) != {f.name for f in dataclasses.fields(cls)}:
            raise ValueError("not a timing record")

        def seconds(x: Any) -> float:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
                    or x < 0:
                raise ValueError(f"not a duration: {x!r}")
            return float(x)

        def pair(x: Any, kind: Callable[[Any], Any]) -> tuple:
            if not isinstance(x, list) or len(x) != 2:
                raise ValueError(f"not a pair: {x!r}")
            return tuple(kind(v) for v in x)

        def runs(x: Any) -> int:
            if type(x) is not int or x < 1:
                raise ValueError(f"not a number of runs: {x!r}")
            return x

        sizes = pair(data["sizes"], runs)
        if sizes[0] >= sizes[1]:
            raise ValueError(f"sizes not increasing: {sizes}")
        return cls(sizes, pair(data["numpy_s"], seconds), pair(data["xla_s"], seconds),
                   seconds(data["xla_setup_s"]))


# --------------------------------------------------------------------------------------------
# What the measurement depends on

def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of ``/proc/cpuinfo`` (empty where there is none)."""
    out: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.strip():
            if out:
                break
            continue
        key, _, value = line.partition(":")
        out.setdefault(key.strip(), value.strip())
    return out


def simd_level(flags: set[str]) -> str:
    """The widest SIMD instruction set among the CPU's ``flags`` (x86 names as in
    ``/proc/cpuinfo``; ARM's ``asimd``/``sve``), or ``"unknown"``."""
    for flag, level in (("avx512f", "avx512f"), ("avx2", "avx2"), ("avx", "avx"),
                        ("sse4_2", "sse4.2"), ("sse4_1", "sse4.1"), ("sse2", "sse2"),
                        ("sve2", "sve2"), ("sve", "sve"), ("asimd", "neon")):
        if flag in flags:
            return level
    return "unknown"


def machine() -> dict[str, Any]:
    """The CPU as far as floating-point speed and last bits go: model, widest SIMD level, a hash
    of every CPU flag, and the SIMD features numpy dispatches to on it."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    cpu = (info.get("model name") or info.get("Hardware") or platform.processor()
           or platform.machine() or "unknown")
    try:  # numpy's own view (as np.show_runtime() prints it): which SIMD kernels it runs here
        from numpy._core import _multiarray_umath as umath
        found = [k for k in umath.__cpu_dispatch__ if umath.__cpu_features__.get(k)]
        missing = [k for k in umath.__cpu_dispatch__ if not umath.__cpu_features__.get(k)]
        numpy_simd = (f"baseline {' '.join(umath.__cpu_baseline__) or '-'}; found "
                      f"{' '.join(found) or '-'}; not found {' '.join(missing) or '-'}")
    except (ImportError, AttributeError):
        numpy_simd = "unknown"
    return {"cpu": cpu, "arch": platform.machine(), "simd": simd_level(flags),
            "flags_sha256": hashlib.sha256(" ".join(sorted(flags)).encode()).hexdigest()[:16],
            "numpy_simd": numpy_simd}


def _version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def fingerprint() -> dict[str, Any]:
    """What a measurement holds for: this machine, the library versions, the engine's source."""
    here = Path(__file__).resolve().parent
    source = hashlib.sha256()
    for name in SOURCES:
        source.update((here / name).read_bytes())
    return {"format": FORMAT, "machine": machine(), "python": platform.python_version(),
            "numpy": _version("numpy"), "jax": _version("jax"), "jaxlib": _version("jaxlib"),
            "engine_sha256": source.hexdigest()[:16]}


def cache_file() -> Path:
    """``$GUANGYUAN_CACHE/backend-timing.json`` (default under ``~/.cache/guangyuan-sim``)."""
    base = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "guangyuan-sim"
    return Path(base) / CACHE_NAME


# --------------------------------------------------------------------------------------------
# Measuring

def _best(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _jax_import_seconds() -> float:
    """Seconds to import JAX in a fresh interpreter (as a command pays it)."""
    code = ("import time; t = time.perf_counter(); import jax, jax.numpy, jax.lax; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure(engine, draws: Callable[[int, int], Mapping[str, Any]]) -> Timing:
    """Time ``engine`` on both backends (see the module docstring). ``draws(n, seed)`` gives n
    parameter sets (:func:`simulator.model.random_draws`)."""
    params = [draws(n, k) for k, n in enumerate(SIZES)]
    numpy_s = []
    for p in params:
        engine.run(p, backend="numpy")  # generates the code once
        numpy_s.append(_best(lambda: engine.run(p, backend="numpy")))
    setup = _jax_import_seconds()
    import jax
    previous = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)  # a real compile, not a disk read
    xla_s = []
    try:
        for k, p in enumerate(params):
            first = _best(lambda: engine.run(p, backend="xla"), repeats=1)
            xla_s.append(_best(lambda: engine.run(p, backend="xla")))
            if k == 0:
                setup += max(first - xla_s[0], 0.0)
    finally:
        jax.config.update("jax_enable_compilation_cache", previous)
    return Timing(SIZES, tuple(numpy_s), tuple(xla_s), setup)


def _read(path: Path, key: Mapping[str, Any]) -> Timing | None:
    """The cached timing if ``path`` holds one measured under ``key``; None if it is missing,
    unreadable, malformed or stale."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("fingerprint") != key:
            return None
        return Timing.from_dict(data.get("timing"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, key: Mapping[str, Any], timing: Timing) -> None:
    """Write the cache atomically; a directory that cannot be written is left alone."""
    text = json.dumps({"fingerprint": key, "timing": timing.to_dict(),
                       "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                      indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)


def timing(engine_factory: Callable[[], Any], draws: Callable[[int, int], Mapping[str, Any]],
           measure_fn: Callable[..., Timing] = measure) -> Timing:
    """This machine's timing: from this process's memory, else the cache file if it is valid
    and current, else measured now (and cached)."""
    path = cache_file()
    with _lock:
        if str(path) in _memo:
            return _memo[str(path)]
        key = fingerprint()
        found = _read(path, key)
        if found is None:
            if sys.stderr is not None and sys.stderr.isatty():
                print("measuring which engine backend is faster on this machine (once, about "
                      f"ten seconds; cached in {path})", file=sys.stderr)
            found = measure_fn(engine_factory(), draws)
            _write(path, key, found)
        _memo[str(path)] = found
        return found


def choose(use: tuple[int, int] | None, engine_factory: Callable[[], Any],
           draws: Callable[[int, int], Mapping[str, Any]]) -> str:
    """What ``"auto"`` means for an Euler ensemble here: ``"numpy"`` without JAX, else the backend
    :class:`Timing` estimates faster for ``use`` (``(calls, runs per call)`` of a one-off
    process; None: a long-lived one)."""
    if importlib.util.find_spec("jax") is None:
        return "numpy"
    return timing(engine_factory, draws).faster(use)
