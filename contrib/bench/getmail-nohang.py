#!/usr/bin/python3
"""Run /usr/bin/getmail (getmail6) with one race fixed, for the benchmark.

getmail6 up to 6.18 forks one child per delivered message and installs its
SIGCHLD handler in the parent only after fork() returns (getmailcore/
baseclasses.py, ForkingBase.forkchild/_prepare_child).  When the child
exits first -- common on a fast machine delivering small messages -- the
signal is lost, getmail waits `timeout` seconds (180) for it and then stops
with "operation error (waiting child pid N timed out)": a run of a few
thousand messages almost never completes (getmail6 issue #226; later
versions use multiprocessing instead).  Here SIGCHLD is blocked from just
before fork() until the handler is installed, so it cannot be lost; nothing
else changes.  With a getmail6 that does not fork this way the patch is not
applied.  Usage: getmail-nohang.py [getmail options...]
"""
import inspect
import os
import runpy
import signal
import sys

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

        bc.os = _OsProxy()
        bc.ForkingBase._prepare_child = _prepare_child
except (ImportError, AttributeError, OSError, TypeError):
    pass

sys.argv[0] = GETMAIL
runpy.run_path(GETMAIL, run_name="__main__")
