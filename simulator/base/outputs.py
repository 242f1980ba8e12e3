"""Writing files so that no half-written file ever remains: the one writer of the command line,
the validation report and anything else that writes a user's or the project's files."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: str | bytes, error: type[Exception] = OSError,
                 label: str | None = None) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through a temporary file in the same
    directory and a rename, so that ``path`` holds either its old content or the whole new one.

    The file gets the permissions the umask gives a new file. A failure (missing directory,
    disk full, permission) removes the temporary file and raises ``error`` with a one-line
    message that names ``label`` (default: the path).
    """
    path = Path(path)
    label = label or str(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise error(f"{label}: directory {directory} does not exist")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except OSError as exc:
        raise error(f"{label}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)


def save_figure(fig, path: str | Path, error: type[Exception] = OSError, **kwargs) -> None:
    """``fig.savefig(path, **kwargs)`` through :func:`write_atomic` (format from the suffix)."""
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
    write_atomic(path, buffer.getvalue(), error=error)
