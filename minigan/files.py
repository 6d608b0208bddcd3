"""``atomic_file``: write a file so that nobody ever finds half of it.

    with atomic_file("ckpt.npz") as f:   # f: a binary file, open under a temporary name
        f.write(data)                    # leaving the block puts the complete file at the path

A program can be killed, or lose power, at any moment. Writing straight into ``path`` could leave
half a file there: a checkpoint that cannot be loaded, a download that fails its checksum, a cut-off
image. So every file minigan writes (checkpoints, IDX files, downloads, plots) is written this way:

1. into a temporary file in the same folder, named ``.<name>.<host>.<pid>.<random>.tmp``;
2. flushed and ``os.fsync``-ed, so the bytes are on the disk and not only in the system's cache;
3. renamed over ``path`` with ``os.replace``: a rename within one file system is atomic, so
   ``path`` holds the old file or the new one, never a mix (hence the same folder);
4. then the folder is fsync-ed too, so that the rename itself survives a power cut (POSIX only,
   and best effort: the file is complete either way).

When the block raises (a full disk, a failed checksum, Ctrl-C), the temporary file is removed and
``path`` is left as it was. A writer killed outright (``kill -9``, a power cut) cannot clean up,
which is why the temporary's name holds its machine and process id: the next ``atomic_file`` for
the same path removes it once that process is gone, or once it is a day old when that cannot be
checked (another machine, or Windows).

Standard library only: this module sits at the bottom of minigan, below everything that writes.
"""
import contextlib
import os
import re
import socket
import time
import uuid

STALE_AFTER_S = 24 * 3600  # a temporary this old is orphaned even if its writer cannot be checked
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"  # a name without dots
# The middle of a temporary's name, host.pid.random; the oldest checkpoints' form had the random part only.
_TEMPORARY = re.compile(r"(?:(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.)?[0-9a-f]{12}")


@contextlib.contextmanager
def atomic_file(path):
    """Open a temporary file beside ``path`` for binary writing; on leaving the ``with`` block
    without an error, make it ``path`` (replacing any file there). ``f.name`` is the temporary's
    path, e.g. to read back what was written before it becomes ``path``. The folder must exist."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_orphaned_temporaries(folder, base)
    temporary = os.path.join(folder, f".{base}.{_HOST}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temporary, "xb") as f:  # "x": fail rather than share a name with another writer
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
        os.replace(temporary, path)
    except BaseException:  # BaseException: Ctrl-C must not leave the temporary behind either
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make a rename in ``folder`` durable; best effort, the file itself is complete already."""
    if os.name != "posix":  # Windows cannot open a folder as a file
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder
    finally:
        os.close(fd)


def _remove_orphaned_temporaries(folder, base):
    """Remove the temporaries that earlier writes of ``folder/base`` left when they were killed."""
    prefix = f".{base}."
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        match = _TEMPORARY.fullmatch(name[len(prefix):-len(".tmp")])
        if match is None:
            continue  # another file's temporary (".ckpt.npz.bak..."), or a file we did not write
        file = os.path.join(folder, name)
        try:
            # A pid only means something on its own machine, and a live writer's file must stay.
            writer_gone = match["host"] == _HOST and not _process_exists(int(match["pid"]))
            if writer_gone or time.time() - os.path.getmtime(file) > STALE_AFTER_S:
                os.remove(file)
        except OSError:
            pass  # removed meanwhile, or not ours to remove: cleaning up is best effort


def _process_exists(pid):
    if os.name != "posix":
        return True  # on Windows os.kill would end the process; the age rule applies instead
    try:
        os.kill(pid, 0)  # signal 0 checks that the process exists and sends nothing
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        pass  # PermissionError: it exists but another user runs it
    return True
