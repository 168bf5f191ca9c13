#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""A minimal inetd for the test suite's POP3 servers that run one process
per connection (tests/lib/servers/README).

usage: inetd.py --port-file FILE --pid-file FILE --log FILE
                [--bind SRC:DST]... [--syslog FILE --dev-dir DIR]
                -- COMMAND [ARG]...

Listens on 127.0.0.1 on a free port (port 0: the kernel chooses), writes
its number to --port-file (through a rename, once listening) and its own
pid to --pid-file.  For each connection it forks; the child has the socket
as file descriptors 0 and 1, --log (appended) as 2, no other descriptor, the
environment of inetd.py plus REMOTE_ADDR and REMOTE_PORT, and execs
COMMAND.  Children are reaped as they end.

inetd.py makes itself a session leader (setsid) unless it leads a process
group already; each child leads a process group of its own within that
session.  SIGTERM (or SIGINT): stop listening, send SIGTERM to each child's
process group and to every other process of the session, wait until they
are gone (SIGKILL to what is still there after about 5 s), remove
--pid-file and exit 0.

--bind SRC:DST (root only, repeatable): before listening, inetd.py moves
into a private mount namespace of its own (unshare(CLONE_NEWNS), every
mount made private, so nothing propagates back) and bind-mounts SRC over
DST there, in the order given; DST must exist.  Only inetd.py and the
servers it starts see these mounts, and they vanish with the last of
those processes.  This is how a server with compiled-in paths
(/etc/shadow for PAM, /var/mail, ...) is given private copies from the
test's directory.

--syslog FILE --dev-dir DIR (root only): for servers that log only
through syslog(3).  In the private mount namespace, DIR (an empty
directory) becomes a copy of /dev (each device node, directory and
symbolic link of /dev bind-mounted or copied into it) plus a datagram
socket "log" that inetd.py reads, and DIR is bind-mounted over /dev: the
servers' syslog messages go to FILE, one line each ("PRIORITY MESSAGE"),
and nothing outside the namespace changes.

Standard library only.
"""

import argparse
import ctypes
import errno
import os
import select
import signal
import socket
import stat
import sys
import time

children = set()
stopping = False


def on_term(signo, frame):
    global stopping
    stopping = True


def reap():
    while children:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)


def serve_child(conn, log, argv):
    try:
        os.setpgid(0, 0)
        fd = conn.fileno()
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        logfd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(logfd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(s, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execvp(argv[0], argv)
    except OSError as e:
        try:
            os.write(2, ("inetd.py: cannot run %s: %s\n" % (argv[0], e)).encode())
        except OSError:
            pass
    os._exit(127)


def session_members():
    """Live processes of our session other than ourselves (zombies count
    as gone)."""
    sid, me, pids = os.getsid(0), os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(name))
    return pids


def signal_all(sig, sweep):
    # each child leads a process group of its own: that reaches what it
    # started too
    for pid in list(children):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in session_members() if sweep else []:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_children():
    # Only a session leader may sweep its session: otherwise the session is
    # the caller's.
    sweep = os.getsid(0) == os.getpid()
    signal_all(signal.SIGTERM, sweep)
    # bounded wait, then SIGKILL: stop must leave nothing
    for i in range(1000):
        reap()
        if not children and not (sweep and session_members()):
            return
        if i == 500:
            signal_all(signal.SIGKILL, sweep)
        time.sleep(0.01)


CLONE_NEWNS = 0x00020000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000


def private_mounts(binds):
    libc = ctypes.CDLL(None, use_errno=True)

    def check(rc, what):
        if rc != 0:
            e = ctypes.get_errno()
            sys.exit("inetd.py: %s: %s" % (what, os.strerror(e)))

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None),
          "making / private")
    for spec in binds:
        src, sep, dst = spec.partition(":")
        if not sep or not src or not dst:
            sys.exit("inetd.py: --bind wants SRC:DST, not %r" % spec)
        check(libc.mount(os.fsencode(src), os.fsencode(dst), None, MS_BIND, None),
              "bind-mounting %s over %s" % (src, dst))


def private_dev(devdir):
    """Fill DEVDIR with /dev's entries and a syslog socket; the caller then
    bind-mounts it over /dev."""
    libc = ctypes.CDLL(None, use_errno=True)
    for name in sorted(os.listdir("/dev")):
        src, dst = os.path.join("/dev", name), os.path.join(devdir, name)
        if name == "log":
            continue
        st = os.lstat(src)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
            continue
        if os.path.isdir(src):
            os.mkdir(dst)
            flags = MS_BIND | MS_REC
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            open(dst, "w").close()
            flags = MS_BIND
        else:
            continue
        if libc.mount(os.fsencode(src), os.fsencode(dst), None, flags, None) != 0:
            sys.exit("inetd.py: bind-mounting %s: %s" % (src, os.strerror(ctypes.get_errno())))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # a relative name: a unix socket's path is limited to ~107 bytes
    cwd = os.open(".", os.O_RDONLY)
    os.chdir(devdir)
    sock.bind("log")
    os.fchdir(cwd)
    os.close(cwd)
    os.chmod(os.path.join(devdir, "log"), 0o666)
    if libc.mount(os.fsencode(devdir), b"/dev", None, MS_BIND | MS_REC, None) != 0:
        sys.exit("inetd.py: bind-mounting %s over /dev: %s" % (devdir, os.strerror(ctypes.get_errno())))
    return sock


SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def syslog_line(data):
    text = data.decode("utf-8", "replace").rstrip("\n\0")
    pri = "?"
    if text.startswith("<") and ">" in text[:5]:
        n, text = text[1:].split(">", 1)
        if n.isdigit():
            pri = SEVERITIES[int(n) & 7]
    return "%s %s\n" % (pri, text.replace("\n", " "))


def main():
    ap = argparse.ArgumentParser(description="minimal inetd for tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--bind", action="append", default=[])
    ap.add_argument("--syslog")
    ap.add_argument("--dev-dir")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not argv:
        ap.error("no COMMAND")

    # Signals only wake up select() (through the wakeup pipe); reaping and
    # stopping are done in the loop.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    if bool(a.syslog) != bool(a.dev_dir):
        ap.error("--syslog and --dev-dir go together")
    logsock = None
    if a.bind or a.syslog:
        private_mounts(a.bind)
    if a.syslog:
        logsock = private_dev(a.dev_dir)
        logout = open(a.syslog, "a", buffering=1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        os.setsid()
    except PermissionError:
        pass  # already a process group leader: stays in the caller's session
    signal.signal(signal.SIGCHLD, lambda s, f: None)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    with open(a.pid_file + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.pid_file + ".tmp", a.pid_file)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(a.port_file + ".tmp", a.port_file)

    while not stopping:
        reap()
        try:
            r, _, _ = select.select([ls, wake_r] + ([logsock] if logsock else []), [], [], 1.0)
        except InterruptedError:
            continue
        if logsock in r:
            logout.write(syslog_line(logsock.recv(65536)))
        if wake_r in r:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        if stopping:
            break
        if ls not in r:
            continue
        try:
            conn, peer = ls.accept()
        except OSError as e:
            if e.errno in (errno.EINTR, errno.EAGAIN, errno.ECONNABORTED):
                continue
            raise
        env = os.environ
        env["REMOTE_ADDR"], env["REMOTE_PORT"] = peer[0], str(peer[1])
        # the signal mask keeps a SIGTERM from reaching the child before
        # it has reset its handlers
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
        pid = os.fork()
        if pid == 0:
            ls.close()
            serve_child(conn, a.log, argv)
        children.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
        conn.close()

    ls.close()
    stop_children()
    if logsock:
        # what the last servers said before they ended
        logsock.setblocking(False)
        try:
            while True:
                logout.write(syslog_line(logsock.recv(65536)))
        except BlockingIOError:
            pass
    try:
        os.unlink(a.pid_file)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
