"""File utilities for long-running jobs: one owner per output, atomic writes, checksums, and
resource checks made before any work starts.

- :class:`RunLock`: an OS-level exclusive lock (``fcntl.flock``) on ``<path>.lock``, held for a
  ``with`` block; a second process is refused at once with the holder's PID, and a lock left by
  a killed process never blocks (the kernel releases ``flock`` locks when their process dies).
- :func:`atomic_write_text`: write a small text file so that readers see the old or the new
  content, never a mix.
- :func:`file_sha256`: the checksum stored next to files that must be verified on resume.
- :func:`check_free_space`: fail before any work, in one line, when a file will not fit.
- :func:`available_host_memory`: what this process may still allocate on the host (the smaller
  of the machine's available memory and a container's cgroup limit).
"""

import errno
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

__all__ = [
    "LockedError",
    "RunLock",
    "atomic_write_text",
    "available_host_memory",
    "check_free_space",
    "existing_ancestor",
    "file_sha256",
    "format_bytes",
]


class LockedError(ValueError):
    """Another live process holds the :class:`RunLock` of a path.

    A :class:`ValueError` (two jobs writing one output is a usage error), so callers that print
    user errors as one line handle it without change."""


class RunLock:
    """An exclusive, OS-level lock that makes one process the owner of an output.

    ``RunLock(path)`` locks the file ``path`` (conventionally ``<output>.lock``, next to the
    output it guards) with ``fcntl.flock`` and writes the owner's PID into it.

    API:
        - ``RunLock(path, *, who="pdejax")``: nothing happens until :meth:`acquire`; ``who``
          prefixes the error message (e.g. ``"generate"``, ``"train"``).
        - :meth:`acquire` (or ``with RunLock(path):``): creates the parent directory and the
          lock file if needed and takes the lock without waiting. If another process holds it,
          raises :class:`LockedError` at once, with one line naming ``path`` and the holder's
          PID. Acquiring a lock this object already holds raises ``RuntimeError``.
        - :meth:`release` (or leaving the ``with`` block, also on an exception): deletes the
          lock file and unlocks. Idempotent.
        - :attr:`held`: whether this object holds the lock; :attr:`path`: the lock file.

    Guarantees: the lock belongs to an open file description, so it is released by the kernel
    when the holder exits for any reason (``SIGKILL`` included); a lock file left behind by a
    killed process therefore does not block, whatever PID it contains (the PID is only read
    for the message, never to decide). Two objects in one process exclude each other too. The
    lock is advisory: it excludes other :class:`RunLock` users, not arbitrary writers. On
    network file systems ``flock`` may be local to one machine.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.h5.lock"
        >>> with RunLock(path, who="demo") as lock:
        ...     path.read_text() == str(os.getpid())
        ...     try:
        ...         RunLock(path, who="demo").acquire()
        ...     except LockedError as err:
        ...         print(str(err).split(";")[0].endswith(f"held by process {os.getpid()}"))
        True
        True
        >>> lock.held, path.exists()
        (False, False)
    """

    def __init__(self, path: str | os.PathLike, *, who: str = "pdejax"):
        self.path = Path(path)
        self.who = who
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "RunLock":
        if self._fd is not None:
            raise RuntimeError(f"RunLock: {self.path} is already held by this object.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise LockedError(self._held_message()) from None
            # the holder before us may have deleted the file between our open and our lock:
            # then we locked an orphan inode, and must lock the file now at the path instead
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            self.path.unlink(missing_ok=True)  # before unlocking, so no one locks a dead file
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def _held_message(self) -> str:
        try:
            text = self.path.read_text().strip()
        except OSError:
            text = ""
        holder = f"process {text}" if text.isdigit() else "another process (PID not yet written)"
        return (
            f"{self.who}: {self.path} is held by {holder}; another job is writing the same "
            "output. Wait for it to finish, stop it, or choose another path."
        )

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({str(self.path)!r}, held={self.held})"


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` through a temporary file renamed into place.

    Example:
        >>> import tempfile, pathlib
        >>> p = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "a.json", "{}")
        >>> p.read_text()
        '{}'
    """
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, target)
    return target


def file_sha256(path: str | os.PathLike, *, block: int = 1 << 22) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (bounded memory).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
        >>> _ = p.write_bytes(b"abc")
        >>> file_sha256(p)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def format_bytes(n: int | float) -> str:
    """``1536 -> '1.5 KiB'``.

    Example:
        >>> format_bytes(5.4 * 2**30)
        '5.4 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def existing_ancestor(path: str | os.PathLike) -> Path:
    """The nearest directory at or above ``path`` that exists (where a new file would land)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path if path.is_dir() else path.parent


def check_free_space(
    path: str | os.PathLike, needed: int, *, who: str, what: str = "the output"
) -> None:
    """Raise a one-line :class:`ValueError` unless the file system of ``path`` (or of its
    nearest existing ancestor; nothing is created) has ``needed`` bytes free.

    Example:
        >>> check_free_space(".", 1, who="demo")  # passes
        >>> try:
        ...     check_free_space(".", 2**50, who="demo")
        ... except ValueError as err:
        ...     print(str(err)[:30])
        demo: . needs about 1024.0 TiB
    """
    free = shutil.disk_usage(existing_ancestor(path)).free
    if free < needed:
        raise ValueError(
            f"{who}: {path} needs about {format_bytes(needed)} of disk ({what}) but only "
            f"{format_bytes(free)} is free there; free some space, choose a path on another "
            "disk, or make the output smaller."
        )


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _inactive_file(stat_path: str, key: str) -> int:
    try:
        for line in Path(stat_path).read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


def _cgroup_headroom() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2, then v1); ``None`` if none."""
    for limit_file, usage_file, stat_file, key in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current",
         "/sys/fs/cgroup/memory.stat", "inactive_file"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
         "/sys/fs/cgroup/memory/memory.stat", "total_inactive_file"),
    ):  # fmt: skip
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is None or usage is None or limit >= 1 << 60:  # "max" or the v1 "unlimited"
            continue
        # reclaimable page cache counts as usage but is available to us
        return max(0, limit - usage + _inactive_file(stat_file, key))
    return None


def available_host_memory() -> int | None:
    """Bytes of host memory this process can still use: the smaller of ``MemAvailable`` in
    ``/proc/meminfo`` (else ``os.sysconf``'s available pages) and the headroom under a cgroup
    memory limit (containers, batch schedulers). ``None`` if the platform says nothing.

    Example:
        >>> available_host_memory() is None or available_host_memory() > 0
        True
    """
    machine = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                machine = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if machine is None:
        try:
            machine = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            machine = None
    limits = [m for m in (machine, _cgroup_headroom()) if m is not None]
    return min(limits) if limits else None
