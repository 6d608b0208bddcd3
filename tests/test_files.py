"""atomic_file: the one way minigan writes a file (checkpoints, IDX files, downloads, plots)."""
import os
import stat
import subprocess
import sys

import pytest

from minigan import files
from minigan.files import atomic_file


def test_the_file_appears_only_when_complete(tmp_path):
    path = tmp_path / "out.bin"
    with atomic_file(path) as f:
        f.write(b"first half ")
        assert not path.exists()  # nothing at the path while the file is being written
        temporary = f.name
        assert os.path.dirname(temporary) == str(tmp_path)  # same folder: os.replace is atomic there
        assert os.path.basename(temporary).startswith(".out.bin.") and temporary.endswith(".tmp")
        f.write(b"second half")
    assert path.read_bytes() == b"first half second half"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_an_error_in_the_block_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(type(error)):
        with atomic_file(path) as f:
            f.write(b"half of the new")
            raise error
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_failed_rename_leaves_no_temporary(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        with atomic_file(tmp_path / "out.bin") as f:
            f.write(b"data")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="folders are fsync-ed on POSIX only")
def test_the_file_and_then_its_folder_are_fsynced(tmp_path, monkeypatch):
    synced = []  # for each fsync: was it a folder?
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with atomic_file(tmp_path / "out.bin") as f:
        f.write(b"data")
    assert synced == [False, True]  # the bytes before the rename, the rename after it


@pytest.mark.skipif(os.name != "posix", reason="whether a process is alive is checked on POSIX only")
def test_a_dead_writers_temporary_is_removed_by_the_next_write_of_that_file(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()  # reaped: its pid now names no process
    orphan = tmp_path / f".labels.gz.{files._HOST}.{child.pid}.0123456789ab.tmp"
    other = tmp_path / f".images.gz.{files._HOST}.{child.pid}.0123456789ab.tmp"  # another file's
    orphan.write_bytes(b"half")
    other.write_bytes(b"half")
    with atomic_file(tmp_path / "labels.gz") as f:
        f.write(b"data")
    assert sorted(os.listdir(tmp_path)) == sorted([other.name, "labels.gz"])
