"""The one error of the readers: :class:`ReadError`, a ``ValueError`` naming the file.

Every failure to read (wrong format, missing field, bad index, truncated or corrupt file) is a
:class:`ReadError`, never an h5py or scipy traceback; ``H5_ERRORS`` lists what h5py and HDF5
raise on corrupt or truncated files, so that the format modules can translate them.
"""

from __future__ import annotations


class ReadError(ValueError):
    """A data file could not be read (wrong format, missing field, truncated, ...).

    A subclass of ``ValueError``; its message starts with the file's path and says what is
    wrong and, where there is one, what would work.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from pdejax.data.readers import ReadError, open_source
        >>> path = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> _ = path.write_text("not data")
        >>> try:
        ...     open_source(path)
        ... except ReadError as err:
        ...     print(isinstance(err, ValueError), "neither HDF5 nor a MATLAB .mat file" in str(err))
        True True
    """


def error(path, message: str) -> ReadError:
    """A :class:`ReadError` whose message is ``"{path}: {message}"``."""
    return ReadError(f"{path}: {message}")


# Exceptions that h5py / HDF5 raise on corrupt or truncated files.
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)
