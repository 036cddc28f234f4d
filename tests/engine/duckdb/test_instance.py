"""An instance's hold on the warehouse file: yielded between statements to a waiting process, even
while its own threads keep it busy, and never inside a transaction."""

from __future__ import annotations

import threading
import time

import pytest

from sqlml.engine.duckdb.instance import Instance
from sqlml.engine.duckdb.lease_queue import READ, LeaseQueue


@pytest.fixture
def instance(tmp_path):
    held = Instance(tmp_path, read_only=False, lock_timeout=10, idle_release=60, config=None)
    yield held
    held.close()


def _in_thread(work) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_a_new_statement_waits_while_the_file_is_yielded(instance, tmp_path):
    instance.acquire()  # a statement running on another thread
    waiter = LeaseQueue(tmp_path).enqueue(READ)  # another process asks for the file
    events = []
    second = _in_thread(lambda: (instance.admit(), instance.acquire(), events.append(("leased", instance.is_attached))))
    time.sleep(0.3)
    assert events == [] and instance.is_attached  # not admitted: it would keep the file busy for ever
    instance.release()  # the running statement ends: the file goes to the waiter at once
    time.sleep(0.3)
    assert not instance.is_attached and events == []  # and the new statement queues behind it
    LeaseQueue(tmp_path).leave(waiter)  # the waiter had its turn
    second.join(timeout=10)
    assert events == [("leased", True)]
    instance.release()


def test_a_running_calls_helper_threads_are_never_held_back(instance, tmp_path):
    instance.acquire()  # a call running
    waiter = LeaseQueue(tmp_path).enqueue(READ)
    helper = _in_thread(lambda: (instance.acquire(), instance.release()))  # e.g. reading an input
    helper.join(timeout=5)
    assert not helper.is_alive()  # the call waits for it: holding it back would deadlock
    instance.release()
    assert not instance.is_attached  # the call ended: the file goes to the waiter
    LeaseQueue(tmp_path).leave(waiter)


def test_an_idle_holder_yields_before_its_next_statement(instance, tmp_path):
    instance.acquire()
    instance.release()
    assert instance.is_attached  # idle, within idle_release
    waiter = LeaseQueue(tmp_path).enqueue(READ)
    time.sleep(0.1)  # the idle holder looks at the queue every POLL seconds
    assert not instance.is_attached
    LeaseQueue(tmp_path).leave(waiter)


def test_no_yield_inside_a_transaction(instance, tmp_path):
    instance.acquire()
    instance.acquire(pinned=True)  # BEGIN: held until COMMIT
    instance.release()
    waiter = LeaseQueue(tmp_path).enqueue(READ)
    statement = _in_thread(lambda: (instance.admit(), instance.acquire(), instance.release()))  # a statement in it
    statement.join(timeout=5)
    assert not statement.is_alive()  # admitted at once (a yield would wait for COMMIT)
    time.sleep(0.1)
    assert instance.is_attached
    instance.release(pinned=True)  # COMMIT: now the waiter gets the file
    assert not instance.is_attached
    LeaseQueue(tmp_path).leave(waiter)


def test_one_watcher_thread_per_instance_releases_the_idle_file(tmp_path, monkeypatch):
    # Each idle period used to start a timer thread, and another every POLL seconds while idle.
    instance = Instance(tmp_path, read_only=False, lock_timeout=10, idle_release=0.15, config=None)
    started = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: (started.append(thread), start(thread))[1])
    for _ in range(3):
        for _ in range(50):
            instance.acquire()
            instance.release()
        assert instance.is_attached
        time.sleep(0.4)  # idle past idle_release
        assert not instance.is_attached
    assert len(started) == 1
    instance.close()
    started[0].join(timeout=5)
    assert not started[0].is_alive()
