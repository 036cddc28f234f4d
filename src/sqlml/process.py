"""Which process did some work, and whether that process still exists.

A project run (:mod:`sqlml.project.history`) and a model store writer's staging folder
(:mod:`sqlml.store.layout`) record the identity of the process behind them: host, PID and the
process's start time.
A PID alone cannot tell: the operating system hands PIDs out again, so a run killed long ago
would look alive while an unrelated process has its PID. psutil reads the start time from the
kernel's process table (``/proc/<pid>/stat`` on Linux, ``sysctl`` on macOS and the BSDs).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

import psutil

#: How far two readings of one process's start time may differ: psutil derives it from the boot
#: time, which the kernel recomputes from the wall clock (NTP may move it by a fraction of a
#: second). A PID reused within this window of the first process's start is not a practical case.
START_TIME_TOLERANCE = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class ProcessIdentity:
    """A process, told apart from any later process that gets the same PID.

    Attributes:
        host: the machine's host name.
        pid: the process id on that host.
        started_at: when the process started, naive UTC.
    """

    host: str
    pid: int
    started_at: dt.datetime

    @classmethod
    def current(cls) -> "ProcessIdentity":
        """The identity of this process."""
        return cls(socket.gethostname(), os.getpid(), _started_at(psutil.Process()))

    @property
    def is_local(self) -> bool:
        """Whether the process ran on this machine (only then can its PID be looked up)."""
        return self.host == socket.gethostname()

    def is_gone(self) -> bool:
        """Whether the process certainly no longer runs.

        True when no process on this host has the PID, the one that has it is a zombie (it
        exited and waits for its parent to collect it), or it started at another time (the PID
        was reused). A process on another host is never judged gone: its PID means nothing here.
        """
        if not self.is_local:
            return False
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
            started = _started_at(process)
        except psutil.NoSuchProcess:
            return True
        except psutil.AccessDenied:  # it exists, and belongs to someone else
            return False
        return abs(started - self.started_at) > START_TIME_TOLERANCE

    def describe(self) -> str:
        """``PID 4242 on host-a``, for messages."""
        return f"PID {self.pid} on {self.host}"


def _started_at(process: psutil.Process) -> dt.datetime:
    return dt.datetime.fromtimestamp(process.create_time(), dt.timezone.utc).replace(tzinfo=None)
