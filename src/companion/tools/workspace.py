"""Per-user workspaces: files confined to the user's folder by construction.

A path is a relative name inside the workspace: no absolute paths, no ``..``, no
empty or hidden-traversal components, and no symbolic link anywhere along it (every
component is checked with ``lstat`` and the final open uses ``O_NOFOLLOW``), so the
server never reads or writes outside the folder even when code in the sandbox
planted a link there. Quotas: one file at most ``file_max_bytes``; a user's files
together at most ``user_max_bytes``. The same folder is ``/workspace`` in the Python
sandbox; when the server runs as root the folder and what it creates belong to the
sandbox user, so sandboxed code can change them.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from companion.tools.errors import ToolError

__all__ = ["Workspace", "WorkspaceFile"]

_MAX_PATH = 255
_MAX_DEPTH = 8
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class WorkspaceFile:
    """One entry of a listing."""

    path: str
    size: int


class Workspace:
    """The workspaces of every user under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        file_max_bytes: int,
        user_max_bytes: int,
        owner: tuple[int, int] | None = None,
    ) -> None:
        self.root = root
        self.file_max_bytes = file_max_bytes
        self.user_max_bytes = user_max_bytes
        self.owner = owner

    # -- folders --------------------------------------------------------------------

    def folder(self, user_id: str) -> Path:
        """The user's folder (a readable, collision-free name for any user id)."""
        digest = hashlib.sha256(user_id.encode()).hexdigest()[:12]
        return self.root / f"{_SAFE.sub('_', user_id)[:60]}-{digest}"

    def prepare(self, user_id: str) -> Path:
        """Create the user's folder (owned by the sandbox user when there is one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        folder = self.folder(user_id)
        if folder.is_symlink():
            raise ToolError("the workspace folder is a symbolic link; refusing to use it")
        folder.mkdir(mode=0o700, exist_ok=True)
        self._own(folder)
        return folder

    def usage(self, user_id: str) -> int:
        """Bytes used by the user's files (links are not followed)."""
        return sum(size for _, size in self._walk(self.folder(user_id)))

    # -- files ----------------------------------------------------------------------

    def resolve(self, user_id: str, path: str) -> Path:
        """The absolute path of ``path`` inside the user's folder, or ``ToolError``."""
        folder = self.prepare(user_id)
        parts = _parts(path)
        current = folder
        for part in parts:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                raise ToolError(f"path {path!r}: symbolic links are not followed")
        resolved = current.resolve()
        if not resolved.is_relative_to(folder.resolve()):
            raise ToolError(f"path {path!r}: outside the workspace")
        return current

    def create(self, user_id: str, path: str, content: str) -> WorkspaceFile:
        """Write ``content`` to ``path`` (replacing it), within both quotas."""
        data = content.encode()
        if len(data) > self.file_max_bytes:
            raise ToolError(
                f"file is {len(data)} bytes; the limit is {self.file_max_bytes} bytes a file"
            )
        target = self.resolve(user_id, path)
        old = target.stat().st_size if target.is_file() else 0
        if self.usage(user_id) - old + len(data) > self.user_max_bytes:
            raise ToolError(f"the workspace is full (quota {self.user_max_bytes} bytes)")
        folder = self.folder(user_id)
        for parent in reversed(target.relative_to(folder).parents):
            directory = folder / parent
            if not directory.exists():
                directory.mkdir(mode=0o700)
                self._own(directory)
            elif not directory.is_dir():
                raise ToolError(f"path {path!r}: {parent} is not a folder")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        self._own(target)
        return WorkspaceFile(_rel(folder, target), len(data))

    def read(self, user_id: str, path: str, *, max_chars: int) -> tuple[str, bool]:
        """The text of ``path`` (at most ``max_chars``) and whether it was cut."""
        target = self.resolve(user_id, path)
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise ToolError(f"path {path!r}: no such file") from None
        except OSError as exc:
            raise ToolError(f"path {path!r}: cannot be opened ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ToolError(f"path {path!r}: not a regular file")
            if info.st_nlink > 1:
                raise ToolError(f"path {path!r}: hard-linked files are not read")
            data = handle.read(max_chars * 4 + 4)
        text = data.decode(errors="replace")
        truncated = len(text) > max_chars or info.st_size > len(data)
        return text[:max_chars], truncated

    def list_files(self, user_id: str) -> list[WorkspaceFile]:
        """Every file of the user, by path."""
        folder = self.prepare(user_id)
        return sorted(
            (WorkspaceFile(_rel(folder, p), size) for p, size in self._walk(folder)),
            key=lambda f: f.path,
        )

    def delete(self, user_id: str, path: str) -> None:
        """Remove a file (or an empty folder); a link is removed, never followed."""
        folder = self.folder(user_id)
        parts = _parts(path)
        parent = self.resolve(user_id, str(PurePosixPath(*parts[:-1]))) if parts[:-1] else folder
        target = parent / parts[-1]
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            raise ToolError(f"path {path!r}: no such file") from None
        if stat.S_ISDIR(info.st_mode):
            try:
                target.rmdir()
            except OSError:
                raise ToolError(f"path {path!r}: folder is not empty") from None
        else:
            target.unlink()

    def enforce_quota(self, user_id: str, *, since: float) -> list[str]:
        """After a sandbox run: remove files it wrote (largest first) while over quota."""
        folder = self.folder(user_id)
        entries = list(self._walk(folder))
        total = sum(size for _, size in entries)
        removed: list[str] = []
        if total <= self.user_max_bytes:
            return removed
        recent = [(p, s) for p, s in entries if os.lstat(p).st_mtime >= since - 1]
        for file, size in sorted(recent, key=lambda e: -e[1]):
            if total <= self.user_max_bytes:
                break
            file.unlink()
            total -= size
            removed.append(_rel(folder, file))
        return removed

    # -- helpers --------------------------------------------------------------------

    def _walk(self, folder: Path) -> list[tuple[Path, int]]:
        found: list[tuple[Path, int]] = []
        for base, _dirs, files in os.walk(folder, followlinks=False):
            for name in files:
                path = Path(base) / name
                try:
                    found.append((path, os.lstat(path).st_size))
                except FileNotFoundError:  # removed while we walked (a running sandbox)
                    continue
        return found

    def _own(self, path: Path) -> None:
        if self.owner is not None:
            os.chown(path, *self.owner, follow_symlinks=False)


def _parts(path: str) -> list[str]:
    if not isinstance(path, str) or not path.strip():
        raise ToolError("path: must be a non-empty relative path")
    if "\x00" in path or "\\" in path:
        raise ToolError(f"path {path!r}: NUL and backslash are not allowed")
    if len(path) > _MAX_PATH:
        raise ToolError(f"path: longer than {_MAX_PATH} characters")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise ToolError(f"path {path!r}: must be relative to the workspace")
    parts = [p for p in pure.parts if p != "."]
    if not parts or any(p == ".." for p in parts):
        raise ToolError(f"path {path!r}: '..' is not allowed")
    if len(parts) > _MAX_DEPTH:
        raise ToolError(f"path {path!r}: deeper than {_MAX_DEPTH} folders")
    return parts


def _rel(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()
