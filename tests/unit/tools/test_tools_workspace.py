"""Workspace files are confined by construction and within their quotas."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from companion.tools.errors import ToolError
from companion.tools.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", file_max_bytes=1000, user_max_bytes=2500)


def test_create_read_list_delete(workspace: Workspace) -> None:
    workspace.create("alice", "notes/todo.txt", "buy milk")
    workspace.create("alice", "a.txt", "hello")
    assert [(f.path, f.size) for f in workspace.list_files("alice")] == [
        ("a.txt", 5),
        ("notes/todo.txt", 8),
    ]
    assert workspace.read("alice", "notes/todo.txt", max_chars=100) == ("buy milk", False)
    assert workspace.read("alice", "a.txt", max_chars=3) == ("hel", True)
    workspace.delete("alice", "notes/todo.txt")
    workspace.delete("alice", "notes")
    assert [f.path for f in workspace.list_files("alice")] == ["a.txt"]
    # Another user's workspace is a different folder.
    assert workspace.list_files("bob") == []
    with pytest.raises(ToolError, match="no such file"):
        workspace.read("bob", "a.txt", max_chars=10)


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "/etc/passwd",
        "",
        "a\\b",
        "x\x00y",
        "./..",
        "a/" * 9 + "f",
    ],
)
def test_bad_paths_are_refused_and_nothing_is_written(
    workspace: Workspace, tmp_path: Path, path: str
) -> None:
    with pytest.raises(ToolError):
        workspace.create("alice", path, "x")
    assert not (tmp_path / "escape.txt").exists()
    assert workspace.list_files("alice") == []


def test_symlinks_are_never_followed(workspace: Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    folder = workspace.prepare("alice")
    os.symlink(secret, folder / "link.txt")  # as code in the sandbox could plant
    os.symlink(tmp_path, folder / "dir")
    with pytest.raises(ToolError, match="symbolic link"):
        workspace.read("alice", "link.txt", max_chars=100)
    with pytest.raises(ToolError, match="symbolic link"):
        workspace.create("alice", "link.txt", "overwrite")
    with pytest.raises(ToolError, match="symbolic link"):
        workspace.create("alice", "dir/new.txt", "x")
    assert secret.read_text() == "TOP-SECRET"
    assert not (tmp_path / "new.txt").exists()
    workspace.delete("alice", "link.txt")  # removes the link, not its target
    assert secret.exists() and not (folder / "link.txt").exists()


def test_hard_links_are_not_read(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    folder = workspace.prepare("alice")
    os.link(outside, folder / "hard.txt")
    with pytest.raises(ToolError, match="hard-linked"):
        workspace.read("alice", "hard.txt", max_chars=100)


def test_quotas(workspace: Workspace) -> None:
    with pytest.raises(ToolError, match="limit is 1000 bytes"):
        workspace.create("alice", "big.txt", "x" * 1001)
    workspace.create("alice", "one.txt", "x" * 1000)
    workspace.create("alice", "two.txt", "x" * 1000)
    with pytest.raises(ToolError, match="workspace is full"):
        workspace.create("alice", "three.txt", "x" * 600)
    workspace.create("alice", "one.txt", "x" * 1000)  # replacing counts the old size out
    assert workspace.usage("alice") == 2000
    assert not (workspace.folder("alice") / "three.txt").exists()
