#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""bare.py - the lower bound for the benchmark: a minimal pipelined POP3 client.

usage: bare.py HOST PORT USER PASS CAFILE [--keep SEENFILE] [--window N]

POP3 over implicit TLS, certificate verified with CAFILE for HOST.  USER and
PASS, then (default) STAT and RETR 1..N with a DELE after each RETR,
pipelined with up to N messages in flight; the message bytes are read and
thrown away.  With --keep it sends UIDL instead, RETRs only the messages
whose UID is not in SEENFILE (one UID a line), deletes nothing, and appends
the new UIDs to SEENFILE.  QUIT at the end.  Prints "messages=N bytes=B".
No parsing beyond finding the ends of the replies, no delivery, no fsync:
what any POP3 client must at least do.  (bare.c is the same in C.)
"""
import socket
import ssl
import sys

BUFSZ = 256 * 1024


class Conn:
    def __init__(self, host, port, cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        raw = socket.create_connection((host, int(port)))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw, server_hostname=host)
        self.buf = bytearray()
        self.pos = 0
        self.total = 0

    def fill(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        data = self.s.recv(BUFSZ)
        if not data:
            sys.exit("bare.py: connection closed by the server")
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                ln = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return ln
            self.fill()

    def status(self):
        ln = self.line()
        if not ln.startswith(b"+OK"):
            sys.exit("bare.py: server said: %r" % ln[:100])
        return ln

    def multiline(self, keep=False):
        """Skip (or return) a multi-line body up to CRLF.CRLF."""
        # The status line's CRLF precedes the body: search from there.
        start = self.pos
        search = self.pos - 2
        while True:
            i = self.buf.find(b"\r\n.\r\n", search)
            if i >= 0:
                body = bytes(self.buf[start:i + 2]) if keep else None
                self.total += i + 2 - start
                self.pos = i + 5
                return body
            if not keep:
                # Throw away what was scanned, keeping 4 bytes of context.
                cut = max(len(self.buf) - 4, search)
                self.total += cut - start
                del self.buf[:cut]
                self.pos = start = 0
                search = 0
                data = self.s.recv(BUFSZ)
                if not data:
                    sys.exit("bare.py: connection closed by the server")
                self.buf += data
            else:
                search = max(len(self.buf) - 4, search)
                data = self.s.recv(BUFSZ)
                if not data:
                    sys.exit("bare.py: connection closed by the server")
                self.buf += data

    def send(self, data):
        self.s.sendall(data)


def main():
    args = sys.argv[1:]
    keep = None
    window = 32
    while len(args) > 5:
        if args[-2] == "--keep":
            keep = args[-1]
        elif args[-2] == "--window":
            window = int(args[-1])
        else:
            break
        args = args[:-2]
    if len(args) != 5:
        sys.exit(__doc__)
    host, port, user, password, cafile = args
    c = Conn(host, port, cafile)
    c.status()
    c.send(b"USER %s\r\n" % user.encode())
    c.status()
    c.send(b"PASS %s\r\n" % password.encode())
    c.status()
    if keep is None:
        c.send(b"STAT\r\n")
        n = int(c.status().split()[1])
        todo = list(range(1, n + 1))
        per = b"RETR %d\r\nDELE %d\r\n"
    else:
        try:
            with open(keep, "rb") as f:
                seen = set(f.read().split())
        except FileNotFoundError:
            seen = set()
        c.send(b"UIDL\r\n")
        c.status()
        listing = c.multiline(keep=True)
        todo, new = [], []
        for ln in listing.split(b"\r\n"):
            if ln:
                num, uid = ln.split(b" ", 1)
                if uid not in seen:
                    todo.append(int(num))
                    new.append(uid)
        per = b"RETR %d\r\n"
    sent = done = 0
    c.total = 0
    while done < len(todo):
        if sent < len(todo) and sent - done < window:
            k = min(len(todo), done + window)
            c.send(b"".join(per % ((m, m) if keep is None else (m,))
                            for m in todo[sent:k]))
            sent = k
        c.status()
        c.multiline()
        if keep is None:
            c.status()
        done += 1
    c.send(b"QUIT\r\n")
    c.status()
    if keep is not None and new:
        with open(keep, "ab") as f:
            f.write(b"\n".join(new) + b"\n")
    print("messages=%d bytes=%d" % (len(todo), c.total))


if __name__ == "__main__":
    main()
