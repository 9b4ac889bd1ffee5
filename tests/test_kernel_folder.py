"""A report's kernels talk over Unix sockets, whose paths hold at most 107 bytes: a deep
temporary folder must not fail every stage ("AF_UNIX path too long")."""

from __future__ import annotations

import shutil
import tempfile

from csi_lib.report.execute import _private_folder


def test_a_deep_temporary_folder_still_gives_short_socket_paths(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    folder = _private_folder()
    try:
        assert len(str(folder / "kernel-ipc-65535")) < 107
        assert folder.is_dir() and oct(folder.stat().st_mode)[-3:] == "700"
        assert not any(deep.iterdir())  # the too-deep attempt left nothing behind
    finally:
        shutil.rmtree(folder)


def test_a_usual_temporary_folder_is_used_as_it_is(monkeypatch):
    # a short folder of its own (pytest's tmp_path under xdist is itself deep)
    usual = tempfile.mkdtemp(prefix="k", dir="/tmp")
    monkeypatch.setattr(tempfile, "tempdir", usual)
    try:
        folder = _private_folder()
        assert str(folder.parent) == usual
    finally:
        shutil.rmtree(usual)
