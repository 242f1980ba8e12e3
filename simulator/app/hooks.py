"""Two guards the app installs on the Streamlit server it runs in: caches shared by every session
are kept when a session's state is cleared, and scripts are compiled one at a time; and the
registry of what the app script makes once per server process (:data:`PER_PROCESS`).

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

from typing import Any

#: What the app script makes once per server process, by a key it chooses (``once`` in
#: ``app.py``: its cached functions). The script runs again on every interaction; this module
#: is imported once per process, so what it holds outlives the runs.
PER_PROCESS: dict = {}


def keep_shared_caches(session_cls: type, log: Any) -> bool:
    """Make Streamlit's clear-cache message clear only the sending session's state.

    Streamlit (1.40 to at least 1.67) answers a ``clear_cache`` message from any browser with
    ``AppSession._handle_clear_cache_request``, which empties ``st.cache_data`` and
    ``st.cache_resource`` for every session of the server. There is no setting to turn it off
    (``client.toolbarMode`` only hides the menu item). The app's caches hold only recomputable
    results, so clearing them costs time, not correctness; but one visitor should not be able
    to cost every other visitor that time. This replaces the handler of ``session_cls`` (the
    ``AppSession`` class, passed in: this module does not import Streamlit) by one that clears
    only the sending session's state, as the original also does, and logs the request.

    Returns whether the handler is replaced (``False``, with a warning on ``log``, if the
    class has no such handler: a future Streamlit, in which case its own behaviour stands).
    Calling it again changes nothing.
    """
    handler = getattr(session_cls, "_handle_clear_cache_request", None)
    if handler is None:
        log.warning("Streamlit has no AppSession._handle_clear_cache_request: a clear-cache "
                    "message from any visitor empties the shared caches")
        return False
    if getattr(handler, "keeps_shared_caches", False):
        return True

    def clear_own_session(self: Any) -> None:
        log.info("clear-cache message: cleared that session's state; shared caches kept")
        self._session_state.clear()

    clear_own_session.keeps_shared_caches = True  # type: ignore[attr-defined]
    clear_own_session.__doc__ = keep_shared_caches.__doc__
    session_cls._handle_clear_cache_request = clear_own_session
    return True


def serialise_script_compiles(cache_cls: type, lock: Any) -> bool:
    """Make Streamlit's compile of the app script hold ``lock`` (the engine's ``AST_LOCK``).

    Streamlit parses ``app.py`` into Python AST objects (``ScriptCache.get_bytecode``, for its
    "magic" commands); the app generates engine code, which also parses source, in a background
    thread. CPython 3.11 cannot build AST objects in two threads at once (a spurious
    "SystemError: AST constructor recursion depth mismatch", python/cpython#106905), so both
    take the same lock. ``cache_cls`` is Streamlit's ``ScriptCache`` class, passed in (this module
    does not import Streamlit). Returns whether the method is wrapped (``False`` if the class has
    no ``get_bytecode``: a future Streamlit); calling it again changes nothing.
    """
    original = getattr(cache_cls, "get_bytecode", None)
    if original is None:
        return False
    if getattr(original, "holds_ast_lock", False):
        return True

    def get_bytecode(self: Any, script_path: str) -> Any:
        with lock:
            return original(self, script_path)

    get_bytecode.holds_ast_lock = True  # type: ignore[attr-defined]
    get_bytecode.__doc__ = original.__doc__
    cache_cls.get_bytecode = get_bytecode
    return True
