"""The Botify token on disk: `<data dir>/botify-token`, readable and writable by its owner only.

The file is created with mode 0600 from the start (os.open with the mode, then an atomic rename),
so it is never readable by others, not even for a moment. A file found with wider permissions is
narrowed to 0600 at the app's start-up (`secure_token_file`, called when the Botify app is
loaded), and again whenever it is read. Symbolic links are refused. Messages never contain the
token. The project's .gitignore keeps the file (and every database) out of git wherever the data
folder is.
"""

from __future__ import annotations

import logging
import os
import stat
from contextlib import suppress
from pathlib import Path

from .client import InvalidToken, check_token

log = logging.getLogger("botify")

TOKEN_FILE_NAME = "botify-token"
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_LIMIT = 4096  # a token is at most 200 characters; anything much longer is not one


class TokenStoreError(Exception):
    """The token file cannot be read or written; the message says why and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def token_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / TOKEN_FILE_NAME


def secure_token_file(data_dir: str | os.PathLike) -> bool:
    """Narrow an existing token file to 0600 (True when it had to be); run at start-up.

    Never raises: a file that cannot be checked is reported when the token is read."""
    path = token_path(data_dir)
    if os.name != "posix":
        return False
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or not stat.S_IMODE(info.st_mode) & 0o077:
            return False
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
    except OSError:
        return False
    log.warning("The Botify token file %s was readable by others; its permissions are now 0600.", path)
    return True


def read_token(data_dir: str | os.PathLike) -> str | None:
    """The stored token, or None when there is none. Widens nothing; narrows a too-open file."""
    path = token_path(data_dir)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TokenStoreError(f"Cannot read the Botify token file {path}: {_why(error)}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TokenStoreError(f"{path} is not a regular file; delete it and enter the token again.")
        if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
            log.warning("The Botify token file %s was readable by others; its permissions are now 0600.", path)
        raw = os.read(fd, _READ_LIMIT)
    except OSError as error:
        raise TokenStoreError(f"Cannot read the Botify token file {path}: {_why(error)}.") from None
    finally:
        os.close(fd)
    try:
        return check_token(raw.decode("ascii").strip())
    except (UnicodeDecodeError, InvalidToken):
        raise TokenStoreError(
            f"The Botify token file {path} does not hold a valid token; forget it and enter the token again."
        ) from None


def save_token(data_dir: str | os.PathLike, token: str) -> Path:
    """Store the token (checked first, so a bad one changes nothing) and return the file's path."""
    token = check_token(token)
    path = token_path(data_dir)
    temporary = path.with_name(f".{TOKEN_FILE_NAME}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise TokenStoreError(f"{path} is a symbolic link; delete it and enter the token again.")
        with suppress(FileNotFoundError):
            os.unlink(temporary)  # left over from a crash
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
        try:
            if os.name == "posix":
                os.fchmod(fd, FILE_MODE)  # the umask can only narrow the mode; make it exact
            os.write(fd, (token + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as error:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise TokenStoreError(f"Cannot save the Botify token in {path}: {_why(error)}.") from None
    return path


def delete_token(data_dir: str | os.PathLike) -> bool:
    """Remove the stored token; False when there was none."""
    path = token_path(data_dir)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise TokenStoreError(f"Cannot delete the Botify token file {path}: {_why(error)}.") from None
    return True


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__
