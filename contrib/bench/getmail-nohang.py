#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""Run /usr/bin/getmail (getmail6) with two races fixed, for the benchmark.

getmail6 up to 6.18 forks one child per delivered message and waits for it
with a SIGCHLD handler that notifies a Condition (getmailcore/
baseclasses.py, ForkingBase).  Its wakeup can be lost in two ways, and
getmail then waits `timeout` seconds (180) and stops with "operation error
(waiting child pid N timed out)", so a run of a few thousand messages
almost never completes (getmail6 issue #226; later versions use
multiprocessing instead):

1. the handler is installed only after fork() returns, and a child that
   exits first is never noticed: here SIGCHLD is blocked from just before
   fork() until the handler is installed;
2. the handler runs in the waiting thread itself, so when the signal comes
   between Condition.acquire() and wait(), notify_all() reaches no waiter:
   here the wait re-checks, every 50 ms, whether the handler has reaped the
   child (in the normal case the notification still ends the wait at once).

Nothing else changes.  With a getmail6 that does not fork this way the
patch is not applied.  Usage: getmail-nohang.py [getmail options...]
"""
import inspect
import os
import runpy
import signal
import socket
import sys
import time

GETMAIL = os.environ.get("GETMAIL", "/usr/bin/getmail")
sys.path.insert(0, "/usr/lib/python3/dist-packages")

try:
    import getmailcore.baseclasses as bc

    if "os.fork()" in inspect.getsource(bc.ForkingBase.forkchild):
        class _OsProxy:
            def __getattr__(self, name):
                return getattr(os, name)

            @staticmethod
            def fork():
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
                pid = os.fork()
                if pid == 0:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK,
                                           [signal.SIGCHLD])
                return pid

        _orig_prepare = bc.ForkingBase._prepare_child

        def _prepare_child(self):
            _orig_prepare(self)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])

        _orig_wait = bc.ForkingBase._wait_for_child
        _error = getattr(bc, "getmailOperationError", RuntimeError)

        class _Done:
            def acquire(self, *a):
                return True

            def release(self):
                pass

            def wait(self, *a):
                return True

        def _wait_for_child(self, childpid):
            cond = self._ForkingBase__child_exited
            deadline = time.monotonic() + (socket.getdefaulttimeout() or 60)
            with cond:
                while self._ForkingBase__child_status is None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _error("waiting child pid %d timed out"
                                     % childpid)
                    cond.wait(min(left, 0.05))
            # the original decodes the status; its wait is over already
            self._ForkingBase__child_exited = _Done()
            return _orig_wait(self, childpid)

        bc.os = _OsProxy()
        bc.ForkingBase._prepare_child = _prepare_child
        bc.ForkingBase._wait_for_child = _wait_for_child
except (ImportError, AttributeError, OSError, TypeError):
    pass

sys.argv[0] = GETMAIL
runpy.run_path(GETMAIL, run_name="__main__")
