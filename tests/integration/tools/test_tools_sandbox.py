"""The Python sandbox contains every escape attempt (real bubblewrap, real processes)."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import threading
from pathlib import Path

import pytest

from companion.tools.sandbox import PythonSandbox, SandboxLimits
from companion.tools.workspace import Workspace

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

MB = 1024 * 1024


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "workspaces", file_max_bytes=5 * MB, user_max_bytes=12 * MB)


def _sandbox(workspace: Workspace, **limits: float) -> PythonSandbox:
    base = {"timeout": 10.0, "cpu_seconds": 10, "output_chars": 10_000}
    base.update(limits)
    return PythonSandbox(
        workspace=workspace,
        python=Path("/usr/bin/python3"),
        limits=SandboxLimits(**base),  # type: ignore[arg-type]
        sandbox_user="companion-sandbox",
    )


@pytest.fixture
def sandbox(workspace: Workspace) -> PythonSandbox:
    return _sandbox(workspace)


async def test_runs_code_and_sees_only_what_python_needs(sandbox: PythonSandbox) -> None:
    result = await sandbox.run(
        "alice", "import os\nprint(6 * 7)\nprint(sorted(os.listdir('/')))\nprint(os.getuid())"
    )
    assert result.ok and result.exit_code == 0 and not result.timed_out
    lines = result.stdout.splitlines()
    assert lines[0] == "42"
    top = eval(lines[1])  # a printed list of names
    assert "workspace" in top and "usr" in top
    assert not {"home", "root", "etc", "work", "var", "opt"} & set(top)
    if os.geteuid() == 0:  # runs as the dedicated unprivileged user
        assert int(lines[2]) == pwd.getpwnam("companion-sandbox").pw_uid


async def test_no_socket_reaches_anything_loopback_included(sandbox: PythonSandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    code = f"""
import socket
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 53), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=2)
        print("CONNECTED", host)
    except OSError as exc:
        print("refused", host, type(exc).__name__)
"""
    result = await sandbox.run("alice", code)
    thread.join()
    listener.close()
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count("refused") == 3
    assert accepted == []


async def test_secrets_and_the_project_are_not_readable(
    sandbox: PythonSandbox, tmp_path: Path
) -> None:
    home = tmp_path / "companion-home"
    home.mkdir()
    (home / "secret.txt").write_text("TOP-SECRET")
    code = f"""
for path in ["/etc/shadow", "/etc/passwd", "{home}/secret.txt", "{Path.cwd()}/pyproject.toml",
             "/root/.bashrc", "/proc/1/environ"]:
    try:
        print("READ", path, open(path).read()[:20])
    except OSError as exc:
        print("denied", path, type(exc).__name__)
"""
    result = await sandbox.run("alice", code)
    assert "READ" not in result.stdout.replace("READ /proc/1/environ", "")
    assert "TOP-SECRET" not in result.stdout
    assert result.stdout.count("denied") >= 5


async def test_writes_outside_the_workspace_fail(
    sandbox: PythonSandbox, workspace: Workspace
) -> None:
    code = """
for path in ["/usr/evil", "/evil", "/tmp/ok", "/workspace/notes.txt"]:
    try:
        open(path, "w").write("x")
        print("WROTE", path)
    except OSError as exc:
        print("denied", path, type(exc).__name__)
"""
    result = await sandbox.run("alice", code)
    assert "WROTE /usr/evil" not in result.stdout and "WROTE /evil" not in result.stdout
    assert "WROTE /tmp/ok" in result.stdout  # the private tmpfs
    assert "WROTE /workspace/notes.txt" in result.stdout
    assert [f.path for f in workspace.list_files("alice")] == ["notes.txt"]
    # The private /tmp is gone after the run: the next run does not see it.
    again = await sandbox.run("alice", "import os; print(os.path.exists('/tmp/ok'))")
    assert again.stdout.strip() == "False"


async def test_an_infinite_loop_is_killed_at_the_timeout(workspace: Workspace) -> None:
    sandbox = _sandbox(workspace, timeout=2.0, cpu_seconds=30)
    result = await sandbox.run("alice", "print('started', flush=True)\nwhile True:\n    pass")
    assert result.timed_out and not result.ok
    assert result.stdout.strip() == "started"
    assert result.error and "time limit" in result.error


def _sandbox_processes() -> list[int]:
    uid = pwd.getpwnam("companion-sandbox").pw_uid
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except FileNotFoundError:
                continue
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="the dedicated sandbox user needs root")
async def test_a_fork_loop_is_capped_and_nothing_survives(workspace: Workspace) -> None:
    sandbox = _sandbox(workspace, processes=16, timeout=5.0)
    code = """
import os, time
count = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        count += 1
except OSError as exc:
    print("capped after", count, exc.errno)
"""
    result = await sandbox.run("alice", code)
    assert "capped after" in result.stdout
    assert int(result.stdout.split()[2]) < 16
    for _ in range(100):  # the namespace's processes are reaped by the kernel
        if not _sandbox_processes():
            break
        await asyncio.sleep(0.05)
    assert _sandbox_processes() == []


async def test_a_fork_loop_killed_at_the_timeout_leaves_nothing(workspace: Workspace) -> None:
    sandbox = _sandbox(workspace, processes=16, timeout=2.0)
    code = """
import os, time
for _ in range(8):
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
while True:
    time.sleep(1)
"""
    result = await sandbox.run("alice", code)
    assert result.timed_out
    if os.geteuid() == 0:
        for _ in range(100):
            if not _sandbox_processes():
                break
            await asyncio.sleep(0.05)
        assert _sandbox_processes() == []


async def test_allocating_4_gib_is_refused(sandbox: PythonSandbox) -> None:
    result = await sandbox.run("alice", "block = bytearray(4 * 1024 ** 3)\nprint('allocated')")
    assert not result.ok
    assert "MemoryError" in result.stderr
    assert "allocated" not in result.stdout


async def test_a_megabyte_of_output_is_truncated(sandbox: PythonSandbox) -> None:
    result = await sandbox.run("alice", "import sys\nsys.stdout.write('x' * 1_000_000)")
    assert result.ok and result.truncated
    assert len(result.stdout) == 10_000


async def test_a_huge_file_hits_the_file_quota(
    sandbox: PythonSandbox, workspace: Workspace
) -> None:
    code = "open('/workspace/big.bin', 'wb').write(b'0' * (50 * 1024 * 1024))"
    result = await sandbox.run("alice", code)
    assert not result.ok
    assert "File too large" in result.stderr
    assert (workspace.folder("alice") / "big.bin").stat().st_size <= 5 * MB


async def test_many_files_over_the_user_quota_are_removed(
    sandbox: PythonSandbox, workspace: Workspace
) -> None:
    workspace.create("alice", "keep.txt", "from before")
    code = """
for n in range(5):
    open(f'/workspace/part{n}.bin', 'wb').write(b'0' * (4 * 1024 * 1024))
"""
    result = await sandbox.run("alice", code)
    assert not result.ok and result.removed_for_quota
    assert workspace.usage("alice") <= 12 * MB
    assert "keep.txt" in [f.path for f in workspace.list_files("alice")]


async def test_without_bubblewrap_nothing_runs_unsandboxed(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    sandbox = _sandbox(workspace)
    marker = tmp_path / "ran"
    result = await sandbox.run("alice", f"open({str(marker)!r}, 'w').write('x')")
    assert not result.ok and result.exit_code is None
    assert result.error is not None and "bubblewrap" in result.error
    assert not marker.exists()


async def test_a_run_that_keeps_filling_the_workspace_is_stopped(
    workspace: Workspace,
) -> None:
    sandbox = _sandbox(workspace, timeout=60.0, cpu_seconds=60)
    code = """
import itertools, time
for n in itertools.count():
    open(f'/workspace/fill{n}.bin', 'wb').write(b'0' * (1024 * 1024))
    time.sleep(0.01)
"""
    result = await sandbox.run("alice", code)
    assert not result.ok and not result.timed_out
    assert result.error is not None and "the run was stopped" in result.error
    assert workspace.usage("alice") <= 12 * MB
