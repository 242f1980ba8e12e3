"""The interface to PySD: its abstract model of a Vensim file, its Python names, its
translation of a model to Python, and loading that translation.

PySD is imported only where it is needed (a cold import takes a good part of a second): the
names are cached on disk by PySD version and the translation is a build artefact kept beside
the model, keyed by the model file's and PySD's version.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

def pysd_version_bytes() -> bytes:
    """The installed PySD's version file, read without importing PySD (which takes a good part
    of a second): part of the key of what is cached from it on disk."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("pysd")
        if spec is not None and spec.origin:
            return (Path(spec.origin).parent / "_version.py").read_bytes()
    except (ImportError, OSError, ValueError):
        pass
    return b"pysd ?"


_NAMES_FORMAT = "guangyuan-python-names/1"


_names: dict[str, str] | None = None   # Vensim name → PySD name, from the cache file


_names_added: dict[str, str] = {}      # computed in this process, written at exit


def _names_file() -> Path:
    from simulator.sd.backends import cache_file
    return cache_file().parent / "python-names.json"


def _names_key() -> str:
    return hashlib.sha256(_NAMES_FORMAT.encode() + pysd_version_bytes()).hexdigest()


def _known_names() -> dict[str, str]:
    """The names cached on disk for this PySD version; {} if the file is missing, from another
    PySD version or not what :func:`_save_names` writes (then it is rewritten)."""
    global _names
    if _names is None:
        import json
        _names = {}
        try:
            data = json.loads(_names_file().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return _names
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("key") == _names_key() \
                and isinstance(names, dict) \
                and all(isinstance(k, str) and isinstance(v, str) and v.isidentifier()
                        for k, v in names.items()):
            _names = names
    return _names


def _save_names() -> None:
    """Add the names computed in this process to the cache file (atomically; skipped if the
    directory cannot be written)."""
    import json

    from simulator.base.outputs import write_atomic
    if not _names_added:
        return
    names = {**_known_names(), **_names_added}
    path = _names_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"key": _names_key(), "names": names}, ensure_ascii=False,
                                      sort_keys=True))
    except OSError:
        pass


@lru_cache(maxsize=4096)
def python_name(vensim_name: str) -> str:
    """PySD's Python identifier for a Vensim name, made by PySD's own namespace manager
    (``pysd.builders.python.namespace.NamespaceManager``): lower case, spaces as ``_``, accents
    stripped, other characters dropped, ``nvs_`` before a leading digit, ``_1`` after a Python or
    PySD reserved word. The one spelling the engine, the units check, the docs and the tables
    use. Within a model PySD adds ``_1`` to the second of two names that clash; the engine
    refuses such a model (:class:`simulator.sd.engine.EngineError`), so every name of a model it
    runs is exactly this. Names are cached on disk by PySD version (``python-names.json`` in
    ``$GUANGYUAN_CACHE``), so a new process need not import PySD."""
    known = _known_names().get(vensim_name)
    if known is not None:
        return known
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        from pysd.builders.python.namespace import NamespaceManager
    name = NamespaceManager().make_python_identifier(vensim_name)
    if not _names_added:
        import atexit
        atexit.register(_save_names)
    _names_added[vensim_name] = name
    return name


def reference_names(names: dict[str, str]) -> dict[str, str]:
    """How PySD's abstract model spells a reference in an equation → its Python name.

    Parameters
    ----------
    names : dict
        Vensim name → Python name (:func:`python_name`) of every element of the model.

    Returns
    -------
    dict
        PySD's "clean" spelling of each name (lower case, spaces as ``_``, every other
        character kept, so ``R&D stock`` is ``r&d_stock``) → its Python name, and ``time``.
    """
    clean = {name.lower().replace(" ", "_"): ident for name, ident in names.items()}
    clean["time"] = "time"
    return clean


def abstract_model(mdl_file: str | Path):
    """PySD's abstract model of a Vensim file (its public translator: parse, then
    ``get_abstract_model``), the common input of the engine, the units check and the docs."""
    with warnings.catch_warnings():
        # importing PySD's translator may import a deprecated chardet module first
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        from pysd.translators.vensim.vensim_file import VensimFile
        vfile = VensimFile(str(mdl_file))
        vfile.parse()
        return vfile.get_abstract_model()


_translate_lock = threading.Lock()


def _quiet_pysd():
    """Silence the two dependency deprecations PySD 3.14 triggers on every run.

    PySD calls ``DataFrame.set_index(inplace=True)`` (deprecated in pandas 3.1) and imports a
    deprecated chardet module. Neither changes results; everything else still warns.
    """
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message=".*inplace keyword in DataFrame.set_index.*")
    warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
    return ctx


def _pysd():
    ctx = _quiet_pysd()
    try:
        import pysd
    finally:
        ctx.__exit__(None, None, None)
    return pysd


def load_translated(py_file: str | Path):
    """A fresh PySD model object from an already translated file (PySD's own deprecation
    warnings silenced, see :func:`_quiet_pysd`)."""
    ctx = _quiet_pysd()
    try:
        return _pysd().load(str(py_file))
    finally:
        ctx.__exit__(None, None, None)


def doc_limits(doc: pd.DataFrame) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The limits a PySD model's ``doc`` gives from the Vensim units fields: the lower limit of
    every variable that declares one, and ``(min, max)`` of those that declare both."""
    import numpy as np  # (here: the command line reads names from this module without numpy)
    lower: dict[str, float] = {}
    both: dict[str, tuple[float, float]] = {}
    for name, lim in zip(doc["Py Name"], doc["Limits"]):
        if isinstance(lim, tuple) and lim and lim[0] is not None and not np.isnan(lim[0]):
            lower[name] = float(lim[0])
            if len(lim) > 1 and lim[1] is not None and not np.isnan(lim[1]):
                both[name] = (float(lim[0]), float(lim[1]))
    return lower, both


def translated_file(mdl_file: str | Path,
                    build_root: str | Path | None = None) -> Path:
    """Path of the PySD translation of ``mdl_file``, translating it first if needed.

    The translation is keyed on the SHA-256 of the ``.mdl`` and the PySD version, so an edited
    model is translated again and an unchanged one never is.
    """
    pysd = _pysd()
    mdl_file = Path(mdl_file).resolve()
    build_root = Path(build_root) if build_root else mdl_file.parent / ".build"
    digest = hashlib.sha256(mdl_file.read_bytes() + pysd.__version__.encode()).hexdigest()[:16]
    final_dir = build_root / f"{mdl_file.stem}-{digest}"
    target = final_dir / f"{mdl_file.stem}.py"
    if target.exists():
        return target
    with _translate_lock:
        if target.exists():
            return target
        build_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=build_root))
        try:
            shutil.copy2(mdl_file, tmp / mdl_file.name)
            ctx = _quiet_pysd()
            try:
                warnings.simplefilter("error", UserWarning)  # a translation warning is a model bug
                pysd.read_vensim(str(tmp / mdl_file.name), initialize=False)
            finally:
                ctx.__exit__(None, None, None)
            try:
                os.rename(tmp, final_dir)
            except OSError:
                if not target.exists():  # lost a race to another process: theirs is identical
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target
