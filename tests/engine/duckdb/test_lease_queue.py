"""The queue of waiters for a warehouse file: first come, first served; readers together; the dead
leave no trace."""

from __future__ import annotations

import os

import pytest

from sqlml.engine.duckdb.lease_queue import READ, WRITE, LeaseQueue


@pytest.fixture
def queue(tmp_path):
    return LeaseQueue(tmp_path)


def test_a_writer_waits_for_everyone_ahead_and_everyone_behind_waits_for_it(queue):
    first_reader = queue.enqueue(READ)
    writer = queue.enqueue(WRITE)
    later_reader = queue.enqueue(READ)
    assert queue.is_turn(first_reader)
    assert not queue.is_turn(writer)
    assert not queue.is_turn(later_reader)  # no overtaking the writer
    queue.leave(first_reader)
    assert queue.is_turn(writer) and not queue.is_turn(later_reader)
    queue.leave(writer)
    assert queue.is_turn(later_reader)


def test_readers_go_together(queue):
    readers = [queue.enqueue(READ) for _ in range(3)]
    assert all(queue.is_turn(reader) for reader in readers)
    assert queue.ahead_of(readers[2]) == [(os.getpid(), READ), (os.getpid(), READ)]


def test_the_holder_looks_for_those_it_excludes(queue):
    assert not queue.has_waiters(writers_only=False)
    reader = queue.enqueue(READ)
    assert queue.has_waiters(writers_only=False)  # a writer holding the file yields to a reader
    assert not queue.has_waiters(writers_only=True)  # a reader holding it need not
    writer = queue.enqueue(WRITE)
    assert queue.has_waiters(writers_only=True)
    queue.leave(reader)
    queue.leave(writer)
    assert not queue.has_waiters(writers_only=False)
    assert os.listdir(queue.folder) == []


def test_a_dead_waiters_ticket_is_removed_and_blocks_nobody(queue):
    dead = queue.enqueue(WRITE)
    os.close(dead.fd)  # what the kernel does to the locks of a process that dies
    alive = queue.enqueue(WRITE)
    assert queue.is_turn(alive)
    assert not dead.path.exists() and alive.path.exists()
    queue.leave(alive)


def test_no_ticket_where_none_can_be_written(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    queue = LeaseQueue(not_a_folder)
    assert queue.enqueue(WRITE) is None  # the caller then waits without a place in the queue
    assert not queue.has_waiters(writers_only=False)


def test_other_files_in_the_folder_are_no_waiters(queue):
    queue.folder.mkdir()
    (queue.folder / "notes.txt").write_text("")
    (queue.folder / "a-b-c-w").write_text("")
    assert not queue.has_waiters(writers_only=False)
    ticket = queue.enqueue(WRITE)
    assert queue.is_turn(ticket)
    queue.leave(ticket)
