"""simulator.base.outputs: files are written whole or not at all."""
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from simulator.base import outputs  # noqa: E402


def test_write_atomic_writes_text_and_bytes(tmp_path):
    outputs.write_atomic(tmp_path / "a.txt", "广元\n")
    outputs.write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "广元\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text("old", encoding="utf-8")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(ValueError, match=r"^x: cannot write \(No space left on device\)$"):
        outputs.write_atomic(target, "new", error=ValueError, label="x")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        outputs.write_atomic(tmp_path / "no" / "x.txt", "x")


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        outputs.write_atomic(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o640


def test_save_figure_writes_a_whole_png(tmp_path):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    outputs.save_figure(fig, tmp_path / "f.png", dpi=50)
    plt.close(fig)
    assert Path(tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
