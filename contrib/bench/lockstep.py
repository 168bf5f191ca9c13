#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""lockstep.py - lock-step (no PIPELINING) fetch time per message.

usage: lockstep.py PULLMAIL... [--messages N] [--size BYTES] [--runs R]
                   [--pipelining no|yes]

Serves N messages of about BYTES each from a small POP3 server on
127.0.0.1 that answers the way popa3d and Solid POP3 do: no PIPELINING in
CAPA, Nagle's algorithm on, and every reply written in two pieces (its
status line, then the rest).  The second piece waits for the client's
acknowledgement of the first; a client that delays its ACKs (Linux does,
up to 40 ms, in an exchange of small requests and replies) waits that long
for every message.  Each PULLMAIL given (several builds, to compare) fetches
all N into a fresh Maildir R times (delete mode, no TLS); prints the median
wall time and the time per message.  Standard library only.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def serve(lsock, msgs):
    while True:
        try:
            conn, _ = lsock.accept()
        except OSError:
            return
        threading.Thread(target=session, args=(conn, msgs),
                         daemon=True).start()


def session(conn, msgs):
    f = conn.makefile("rb")
    deleted = set()

    def reply(status, rest=b""):
        conn.sendall(status + b"\r\n")
        if rest:
            conn.sendall(rest)

    reply(b"+OK lockstep ready")
    while True:
        line = f.readline()
        if not line:
            break
        words = line.strip().split(b" ")
        cmd = words[0].upper()
        if cmd == b"CAPA":
            reply(b"+OK", b"USER\r\nUIDL\r\nTOP\r\n.\r\n")
        elif cmd in (b"USER", b"PASS", b"NOOP"):
            reply(b"+OK")
        elif cmd == b"STAT":
            reply(b"+OK %d %d" % (len(msgs), sum(map(len, msgs))))
        elif cmd == b"LIST":
            reply(b"+OK", b"".join(b"%d %d\r\n" % (i + 1, len(m))
                                   for i, m in enumerate(msgs)) + b".\r\n")
        elif cmd == b"UIDL":
            reply(b"+OK", b"".join(b"%d uid-%d\r\n" % (i + 1, i + 1)
                                   for i in range(len(msgs))) + b".\r\n")
        elif cmd == b"RETR":
            m = msgs[int(words[1]) - 1]
            reply(b"+OK %d octets" % len(m), m + b".\r\n")
        elif cmd == b"DELE":
            deleted.add(int(words[1]))
            reply(b"+OK")
        elif cmd == b"QUIT":
            reply(b"+OK bye")
            break
        else:
            reply(b"-ERR unknown")
    conn.close()


def message(i, size):
    head = (b"From: bench@example.org\r\nTo: you@example.org\r\n"
            b"Subject: lockstep %d\r\nMessage-ID: <ls-%d@example.org>\r\n"
            b"\r\n" % (i, i))
    line = b"the quick brown fox jumps over the lazy dog 0123456789\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pullmail", nargs="+")
    ap.add_argument("--messages", type=int, default=50)
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pipelining", default="no")
    a = ap.parse_args()
    msgs = [message(i + 1, a.size) for i in range(a.messages)]
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port = lsock.getsockname()[1]
    threading.Thread(target=serve, args=(lsock, msgs), daemon=True).start()
    print("%d messages of %d bytes, lock-step server on port %d, %d runs"
          % (a.messages, a.size, port, a.runs))
    for pm in a.pullmail:
        times = []
        for _ in range(a.runs):
            d = tempfile.mkdtemp(prefix="pm-lockstep.")
            try:
                conf = os.path.join(d, "config")
                with open(conf, "w") as f:
                    f.write("[bench]\nhost = 127.0.0.1\nport = %d\n"
                            "tls = none\nallow_plaintext = yes\nuser = u\n"
                            "password = \"p\"\nmaildir = %s/Maildir\n"
                            "pipelining = %s\n" % (port, d, a.pipelining))
                os.chmod(conf, 0o600)
                env = dict(os.environ, HOME=d, XDG_STATE_HOME=d + "/state")
                t0 = time.monotonic()
                r = subprocess.run([pm, "-C", conf], env=env,
                                   stdin=subprocess.DEVNULL)
                t = time.monotonic() - t0
                n = len(os.listdir(os.path.join(d, "Maildir", "new")))
                if r.returncode != 0 or n != a.messages:
                    sys.exit("lockstep.py: %s exited %d, %d of %d delivered"
                             % (pm, r.returncode, n, a.messages))
                times.append(t)
            finally:
                shutil.rmtree(d)
        med = statistics.median(times)
        print("%-40s median %7.3f s  %6.2f ms/message  (min %.3f, max %.3f)"
              % (pm, med, med * 1000 / a.messages, min(times), max(times)))


if __name__ == "__main__":
    main()
