"""Running untrusted Python in a bubblewrap sandbox.

The command (built by ``sandbox_command``, pure) is ``prlimit`` → ``bwrap`` →
(as root: ``setpriv`` to the dedicated unprivileged sandbox user, no capabilities,
``no_new_privs``) → the interpreter:

* namespaces: network (only a
  loopback of its own: no socket reaches anything outside, the host's loopback
  included), PID, IPC, UTS and cgroup namespaces; without root a user namespace
  too (further user namespaces disabled); ``--die-with-parent`` and
  ``--new-session``; the environment is cleared;
* filesystem: read-only binds of ``/usr`` (the interpreter and its standard
  library; ``/bin``, ``/lib`` … follow as on the host) and of the interpreter's own
  install tree when it lives elsewhere; a fresh ``/proc`` and ``/dev``; a private,
  size-capped tmpfs ``/tmp``; the user's workspace read-write at ``/workspace``.
  Nothing else exists: no ``/home``, ``/root``, ``/etc``, ``COMPANION_HOME`` or the
  project;
* rlimits: CPU seconds, address space, processes (counted per real user, hence
  the dedicated user), file size and open files;
* a wall-clock timeout kills bwrap's process group; bwrap's init is PID 1 of the
  sandbox's PID namespace and dies with it, and the kernel then kills every process
  left in the namespace, so nothing outlives a run;
* the workspace is checked every quarter second: a run that grows it over the
  user's quota is stopped, and the files it wrote are removed;
* stdout and stderr are read as they come and kept up to the character cap each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from companion.tools.errors import ToolError
from companion.tools.workspace import Workspace

__all__ = ["PythonResult", "PythonSandbox", "SandboxLimits", "sandbox_command"]

_READ = 65_536
#: How often the workspace size is checked during a run.
_WATCH_SECONDS = 0.25


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use."""

    timeout: float = 30.0
    cpu_seconds: int = 30
    memory_bytes: int = 512 * 1024 * 1024
    processes: int = 64
    file_bytes: int = 20 * 1024 * 1024
    tmp_bytes: int = 64 * 1024 * 1024
    open_files: int = 256
    output_chars: int = 10_000


@dataclass
class PythonResult:
    """The outcome of one run (the ``run_python`` tool result and the CLI's JSON)."""

    ok: bool
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    truncated: bool = False
    duration_ms: float = 0.0
    error: str | None = None
    removed_for_quota: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``error`` and quota removals only when set)."""
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None or k == "exit_code"}


def _system_dirs() -> list[str]:
    """bwrap arguments recreating /bin, /lib … as on the host (links or read-only binds)."""
    args: list[str] = []
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args


def sandbox_command(
    *,
    bwrap: str,
    python: Path,
    workspace: Path,
    limits: SandboxLimits,
    drop_to: tuple[int, int] | None = None,
) -> list[str]:
    """The full argv of one run; the program is read from stdin.

    ``drop_to`` (uid, gid): the server is root, so bwrap runs privileged (it can
    bind the workspace wherever it lives) and ``setpriv`` switches to the sandbox
    user with no capabilities and ``no_new_privs`` before the interpreter starts.
    Without it bwrap runs as the calling user in a new user namespace, and the
    sandbox may not create further user namespaces.
    """
    real = python.resolve()
    binds = ["--ro-bind", "/usr", "/usr", *_system_dirs()]
    if not real.is_relative_to("/usr"):
        prefix = real.parent.parent  # <prefix>/bin/python3.x
        binds += ["--ro-bind", str(prefix), str(prefix)]
    if drop_to is None:
        identity = ["--unshare-user", "--disable-userns"]
        launcher: list[str] = []
    else:
        identity = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        launcher = [
            "/usr/bin/setpriv",
            f"--reuid={drop_to[0]}",
            f"--regid={drop_to[1]}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    return [
        "prlimit",
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
        bwrap,
        *identity,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/local/bin:/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/workspace",
        "--setenv",
        "LANG",
        "C.UTF-8",
        *binds,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--bind",
        str(workspace),
        "/workspace",
        "--chdir",
        "/workspace",
        *launcher,
        str(python),
        "-I",
        "-B",
        "-",
    ]


class PythonSandbox:
    """``run(user_id, code)`` in the user's workspace; never runs code unsandboxed."""

    def __init__(
        self,
        *,
        workspace: Workspace,
        python: Path,
        limits: SandboxLimits,
        sandbox_user: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.python = python
        # One file may not be larger in the sandbox than the workspace allows.
        self.limits = replace(limits, file_bytes=min(limits.file_bytes, workspace.file_max_bytes))
        self.bwrap = shutil.which("bwrap")
        self._ids = _sandbox_ids(sandbox_user) if os.geteuid() == 0 and sandbox_user else None
        if self._ids is not None:
            workspace.owner = self._ids

    def unavailable(self) -> str | None:
        """Why ``run_python`` cannot run here, or None when it can."""
        if self.bwrap is None:
            return "run_python is disabled: bubblewrap (bwrap) is not installed"
        if shutil.which("prlimit") is None:
            return "run_python is disabled: prlimit (util-linux) is not installed"
        if self._ids is not None and not Path("/usr/bin/setpriv").exists():
            return "run_python is disabled: setpriv (util-linux) is not installed"
        if not self.python.exists():
            return f"run_python is disabled: no interpreter at {self.python}"
        if os.geteuid() == 0 and self._ids is None:
            return "run_python is disabled: the sandbox user could not be created"
        return None

    async def run(self, user_id: str, code: str) -> PythonResult:
        """Run ``code`` and return its result (``ok`` is exit status 0, in time)."""
        reason = self.unavailable()
        if reason is not None:
            return PythonResult(ok=False, error=reason)
        assert self.bwrap is not None
        try:
            folder = self.workspace.prepare(user_id)
        except (ToolError, OSError) as exc:
            return PythonResult(ok=False, error=f"the workspace is not usable: {exc}")
        argv = sandbox_command(
            bwrap=self.bwrap,
            python=self.python,
            workspace=folder,
            limits=self.limits,
            drop_to=self._ids,
        )
        started = time.time()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            cwd="/",
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        cap = self.limits.output_chars * 4 + 4
        assert proc.stdout is not None and proc.stderr is not None
        readers = asyncio.gather(_read_capped(proc.stdout, cap), _read_capped(proc.stderr, cap))
        timed_out = False
        watchdog = asyncio.create_task(self._watch_quota(user_id, proc))
        try:
            await _feed(proc, code.encode())
            await asyncio.wait_for(asyncio.shield(proc.wait()), self.limits.timeout)
        except TimeoutError:
            timed_out = True
        finally:
            watchdog.cancel()
            if proc.returncode is None:
                _kill(proc)
            await proc.wait()
        await asyncio.wait([watchdog])
        over_quota = not watchdog.cancelled() and watchdog.result()
        (out, out_cut), (err, err_cut) = await readers
        result = self._result(out, err, out_cut or err_cut, proc.returncode, timed_out, started)
        removed = await asyncio.to_thread(self.workspace.enforce_quota, user_id, since=started)
        if removed or over_quota:
            result.ok = False
            result.removed_for_quota = removed
            parts = ["the workspace quota was exceeded"]
            if over_quota:
                parts.append("the run was stopped")
            if removed:
                parts.append("files written by this run were removed")
            result.error = "; ".join(parts)
        return result

    async def _watch_quota(self, user_id: str, proc: asyncio.subprocess.Process) -> bool:
        """Stop the run as soon as the user's workspace grows over its quota."""
        while proc.returncode is None:
            await asyncio.sleep(_WATCH_SECONDS)
            try:
                usage = await asyncio.to_thread(self.workspace.usage, user_id)
            except OSError:
                continue
            if usage > self.workspace.user_max_bytes and proc.returncode is None:
                _kill(proc)
                return True
        return False

    def _result(
        self,
        out: bytes,
        err: bytes,
        cut: bool,
        code: int | None,
        timed_out: bool,
        started: float,
    ) -> PythonResult:
        limit = self.limits.output_chars
        stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
        truncated = cut or len(stdout) > limit or len(stderr) > limit
        error = f"killed after the {self.limits.timeout:g} s time limit" if timed_out else None
        return PythonResult(
            ok=code == 0 and not timed_out,
            stdout=stdout[:limit],
            stderr=stderr[:limit],
            exit_code=code,
            timed_out=timed_out,
            truncated=truncated,
            duration_ms=round((time.time() - started) * 1000, 1),
            error=error,
        )


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
    proc.stdin.close()


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Read to the end, keeping at most ``cap`` bytes (the rest is drained)."""
    kept = bytearray()
    cut = False
    while chunk := await stream.read(_READ):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > max(room, 0):
            cut = True
    return bytes(kept), cut


def _kill(proc: asyncio.subprocess.Process) -> None:
    """Kill bwrap's whole process group (the sandbox's PID namespace dies with it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _sandbox_ids(name: str) -> tuple[int, int] | None:
    """The sandbox user's uid and gid, creating the system user if needed (root only)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            return None
        import subprocess

        command = [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent"]
        subprocess.run(
            [*command, "--shell", "/usr/sbin/nologin", name],
            check=False,
            capture_output=True,
        )
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
    return entry.pw_uid, entry.pw_gid
