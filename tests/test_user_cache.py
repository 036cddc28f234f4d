"""sqlml.user_cache: one root for sqlml's per-user caches and one privacy check, used by the
remembered statements and the compiled forests alike."""

from __future__ import annotations

import os
import stat

import pytest

from sqlml import user_cache
from sqlml.ml.compiled import cache as compiled_cache
from sqlml.sql import known_statements
from sqlml.sql.known_statements import Known


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLML_CACHE_DIR", str(tmp_path / "root"))
    monkeypatch.delenv("SQLML_COMPILE_CACHE", raising=False)
    monkeypatch.delenv("SQLML_STATEMENT_CACHE", raising=False)
    known_statements.forget_all()
    yield tmp_path / "root"
    known_statements.forget_all()


def mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_root_is_sqlml_cache_dir_else_the_platforms_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLML_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache.root() == tmp_path / "mine"
    monkeypatch.delenv("SQLML_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache.root() == tmp_path / "xdg" / "sqlml"


def test_a_folder_is_made_owner_only_at_every_level_below_the_top(root):
    folder = user_cache.private_folder(root / "a" / "b", root)
    assert folder == root / "a" / "b"
    assert [mode(p) for p in (root, root / "a", folder)] == [0o700, 0o700, 0o700]


@pytest.mark.parametrize("bits", [0o750, 0o705, 0o720, 0o777])
def test_a_folder_group_or_others_may_use_is_refused_and_left_as_it_is(root, bits):
    folder = user_cache.private_folder(root / "c", root)
    folder.chmod(bits)
    assert user_cache.private_folder(root / "c", root) is None
    assert not user_cache.trusted(folder, root)
    assert mode(folder) == bits  # never loosened nor tightened


def test_a_folder_above_must_not_be_writable_by_others_but_may_be_readable(root):
    folder = user_cache.private_folder(root / "c", root)
    root.chmod(0o755)  # what mkdir -p made of earlier versions' roots
    assert user_cache.trusted(folder, root)
    root.chmod(0o777)  # anyone could swap c for a folder of theirs
    assert not user_cache.trusted(folder, root)
    root.chmod(0o700)


def test_a_folder_or_file_of_another_owner_is_refused(root, monkeypatch):
    folder = user_cache.private_folder(root / "c", root)
    (folder / "f").touch(mode=0o600)
    assert user_cache.trusted(folder / "f") and user_cache.trusted(folder, root)
    monkeypatch.setattr(os, "getuid", lambda: 12345)  # the files belong to someone else
    assert not user_cache.trusted(folder, root)
    assert not user_cache.trusted(folder / "f")


def test_files_must_be_owner_only_and_links_are_refused(root, tmp_path):
    folder = user_cache.private_folder(root / "c", root)
    (folder / "f").touch(mode=0o600)
    (folder / "open").touch(mode=0o644)
    assert user_cache.trusted(folder / "f")
    assert not user_cache.trusted(folder / "open")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (root / "link").symlink_to(elsewhere)
    assert not user_cache.trusted(root / "link", root)
    assert not user_cache.trusted(elsewhere, root)  # not below the top
    assert user_cache.private_folder(elsewhere, root) is None


def test_statements_and_compiled_forests_share_the_root_and_the_check(root):
    known_statements.remember("SELECT 1", "bigquery", Known("SELECT 1", "SELECT"))
    assert known_statements.cache_folder().parent == root / "statements"
    assert compiled_cache.cache_dir() == root / "compiled"
    compiled_cache.write("0" * 64, "v", b"code")
    assert compiled_cache.read("0" * 64, "v") == b"code"
    known_statements.forget_all()
    assert known_statements.lookup("SELECT 1", "bigquery") == Known("SELECT 1", "SELECT")
    root.chmod(0o777)  # the root turns writable by others: neither cache is used any more
    known_statements.forget_all()
    assert known_statements.lookup("SELECT 1", "bigquery") is None
    assert compiled_cache.cache_dir() is None
    assert compiled_cache.read("0" * 64, "v") is None
    root.chmod(0o700)
