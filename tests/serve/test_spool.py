"""The prediction log's spool: durable lines, torn and damaged lines skipped, segments claimed by one
process at a time."""

from __future__ import annotations

import errno
import os

import orjson
import pytest

from sqlml.errors import WarehouseError
from sqlml.serve import spool
from sqlml.serve.spool import Segment, SpoolWriter, segments


def records(path) -> list[dict]:
    segment = Segment.claim(path)
    try:
        return [record for chunk in segment.chunks(1) for record in chunk]
    finally:
        segment.release()


def test_lines_are_numbered_and_the_live_segment_cannot_be_claimed(tmp_path):
    writer = SpoolWriter(tmp_path)
    writer.append({"request_id": "a"})
    writer.append({"request_id": "b"})
    live = writer.path
    assert [orjson.loads(line) for line in live.read_bytes().splitlines()] == [{"seq": 1, "request_id": "a"}, {"seq": 2, "request_id": "b"}]
    assert Segment.claim(live) is None  # its writer holds it
    assert writer.seal() == live and writer.path != live
    assert [r["request_id"] for r in records(live)] == ["a", "b"]
    writer.append({"request_id": "c"})
    assert segments(tmp_path) == [live, writer.path]  # oldest first
    writer.close()
    assert [r["seq"] for r in records(segments(tmp_path)[1])] == [1]  # numbering restarts per segment


def test_an_empty_segment_is_not_sealed_and_is_removed_on_close(tmp_path):
    writer = SpoolWriter(tmp_path)
    assert writer.seal() is None
    writer.close()
    assert segments(tmp_path) == []


def test_a_torn_last_line_and_a_damaged_line_are_skipped_without_losing_the_others(tmp_path):
    path = tmp_path / f"{0:020d}-1-dead{spool.SUFFIX}"
    path.write_bytes(b'{"seq": 1, "r": 1}\n' + b"\x00\x00garbage\n" + b'{"seq": 2, "r": 2}\n' + b'{"seq": 3, "r"')
    segment = Segment.claim(path)
    assert [[r["r"] for r in chunk] for chunk in segment.chunks(1)] == [[1], [2]]  # a line at least per chunk
    assert segment.skipped == 2
    segment.remove()
    assert not path.exists()


def test_a_claimed_segment_is_not_claimed_twice(tmp_path):
    path = tmp_path / f"{0:020d}-1-dead{spool.SUFFIX}"
    path.write_bytes(b'{"seq": 1}\n')
    first = Segment.claim(path)
    assert first is not None and Segment.claim(path) is None
    first.remove()
    assert Segment.claim(path) is None  # gone


def test_a_failed_write_leaves_no_partial_line(tmp_path, monkeypatch):
    writer = SpoolWriter(tmp_path)
    writer.append({"r": 1})
    real_write = os.write

    def disk_full(fd, data):
        real_write(fd, bytes(data[:5]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool.os, "write", disk_full)
    with pytest.raises(WarehouseError, match=r"Cannot write the prediction log spool .*: No space left on device\."):
        writer.append({"r": 2})
    monkeypatch.setattr(spool.os, "write", real_write)
    writer.append({"r": 3})
    assert [orjson.loads(line) for line in writer.path.read_bytes().splitlines()] == [{"seq": 1, "r": 1}, {"seq": 2, "r": 3}]
    writer.close()


def test_a_spool_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(WarehouseError, match=r"Cannot write the prediction log spool .*taken/spool: Not a directory\.\nFree space in .* or fix its permissions"):
        SpoolWriter(tmp_path / "taken" / "spool")


def test_a_partial_write_that_cannot_be_undone_stays_a_line_of_its_own(tmp_path, monkeypatch):
    writer = SpoolWriter(tmp_path)
    real_write = os.write

    def torn(fd, data):
        real_write(fd, bytes(data[:7]))
        raise OSError(errno.EIO, "Input/output error")

    def truncate_fails(fd, size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(spool.os, "write", torn)
    monkeypatch.setattr(spool.os, "ftruncate", truncate_fails)
    with pytest.raises(WarehouseError, match=r"Input/output error\."):
        writer.append({"r": 1})
    monkeypatch.undo()
    writer.append({"r": 2})
    writer.append({"r": 3})
    writer.close()
    segment = Segment.claim(writer.path)
    assert [r["r"] for chunk in segment.chunks(1) for r in chunk] == [2, 3] and segment.skipped == 1
    segment.release()
