"""Which session writes each table of a connection's DuckDB instance: one at a time per table.

DuckDB runs the transactions of one instance optimistically: when two sessions write the same
rows at once — rows of the table itself, or its row in the write log
(:mod:`~sqlml.warehouse.modification_log`), which every write of the table updates — the later one
fails with "Conflict on tuple deletion!". BigQuery queues such writes instead: "Conflicting DML
statements that run outside of a transaction are queued to run later", while "conflicting
transactions are cancelled" (https://cloud.google.com/bigquery/docs/transactions#transaction_concurrency).
So a writer takes its turn on the table here first:

* a statement outside a transaction waits for the writer ahead of it, at most ``timeout`` seconds;
* a session's open transaction keeps the turns it took until it ends (COMMIT or ROLLBACK), and a
  transaction that finds the table taken fails at once: it could only conflict, since what it
  would overwrite was written after it began.

Other processes never conflict: they hold the warehouse file in turn (:mod:`~sqlml.engine.duckdb.instance`).
"""

from __future__ import annotations

import threading
import time

from sqlml.errors import Cancelled, TransactionError

#: Seconds between two looks of a waiting writer at a cancel request.
_POLL = 0.05


class TableWrites:
    """The writer (a statement, or a session's open transaction) holding each table, by name."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holders: dict[str, tuple[object, bool]] = {}  # lower-cased name → (owner, is a transaction)

    def take(self, table: str, owner: object, *, transaction: bool, timeout: float, cancel: threading.Event) -> None:
        """Make ``owner`` the writer of ``table`` (``dataset.table``), waiting for the one ahead.

        Args:
            table: the table, as the statement names it (for messages).
            owner: who writes: any object, compared by identity; taking a table it holds is a no-op.
            transaction: ``owner`` is an open transaction, which fails instead of waiting.
            timeout: seconds to wait for the writer ahead.
            cancel: set to stop waiting (Ctrl-C).

        Raises:
            TransactionError: a transaction found the table taken, or the wait timed out.
            Cancelled: ``cancel`` was set while waiting.
        """
        key = table.lower()
        deadline = time.monotonic() + timeout
        with self._changed:
            while (holder := self._holders.get(key)) is not None and holder[0] is not owner:
                if transaction:
                    raise _conflict(table, holder[1])
                if not self._wait(deadline, cancel, table):
                    raise _timed_out(table, holder[1], timeout)
            self._holders[key] = (owner, transaction)

    def wait_for_others(self, table: str, *, timeout: float, cancel: threading.Event) -> None:
        """Wait until the statements now writing tables other than ``table`` have ended (at most
        ``timeout`` seconds): a write of ``table`` that conflicted with one of them on something
        they share (sqlml's own tables being created) can then run again and succeed."""
        key = table.lower()
        deadline = time.monotonic() + timeout
        with self._changed:
            ahead = {id(holder) for name, (holder, transaction) in self._holders.items() if name != key and not transaction}
            while ahead & {id(holder) for holder, _ in self._holders.values()}:
                if not self._wait(deadline, cancel, table):
                    return

    def _wait(self, deadline: float, cancel: threading.Event, table: str) -> bool:
        """Wait for a turn to end; False once ``deadline`` has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if cancel.is_set():
            raise Cancelled(f"Cancelled while waiting to write {table}; nothing was changed.")
        self._changed.wait(min(remaining, _POLL))
        return True

    def give_back(self, owner: object) -> None:
        """End every turn ``owner`` holds (its statement or transaction ended)."""
        with self._changed:
            for key in [key for key, (holder, _) in self._holders.items() if holder is owner]:
                del self._holders[key]
            self._changed.notify_all()


def _conflict(table: str, by_transaction: bool) -> TransactionError:
    other = "an open transaction of another session" if by_transaction else "another session's statement"
    return TransactionError(
        f"This transaction cannot write {table}: {other} is writing it, and BigQuery cancels a "
        "transaction that conflicts with another write to the same table.",
        hint="Run the transaction again once the other write has ended.",
    )


def _timed_out(table: str, by_transaction: bool, timeout: float) -> TransactionError:
    if by_transaction:
        return TransactionError(
            f"Waited {timeout:g} s to write {table}: an open transaction of another session writes it.",
            hint="COMMIT or ROLLBACK that transaction first (it may be open in another session on this very "
            "thread), or raise the wait with sqlml.connect(..., lock_timeout=SECONDS).",
        )
    return TransactionError(
        f"Waited {timeout:g} s to write {table}: another session's statement is still writing it.",
        hint="Retry once it has finished, or raise the wait with sqlml.connect(..., lock_timeout=SECONDS).",
    )
