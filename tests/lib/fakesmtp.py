#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""fakesmtp.py - a scriptable, misbehaving LMTP or SMTP server (standard
library only), for pullmail's delivery tests.

  fakesmtp.py (--unix PATH | --port-file FILE) --out MAILDIR --log FILE
              [--lmtp] [--fault SPEC]... [--auth USER:PASS]
              [--tls-cert CERT --tls-key KEY]

Listens on the unix socket PATH, or on 127.0.0.1 on a free port whose
number it writes to FILE (via a rename, once listening); serves one
connection at a time until SIGTERM (or 300 s).  Every message accepted
(250 after the final dot, for every recipient with LMTP) is written to
MAILDIR/new/ as N.eml: the DATA with dot-stuffing undone and CRLF turned
into LF, exactly the bytes pullmail's Maildir backend would have written.

EHLO/LHLO offers PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES (and
STARTTLS with --tls-cert, AUTH PLAIN with --auth, which is then required
before MAIL).  Faults (each fires once; N counts MAIL commands from 1 over
the server's life, K the connections):

  greeting=CODE         the first connection is greeted CODE (and closed)
  hello=CODE            the first LHLO/EHLO is answered CODE
  mail=CODE@N  rcpt=CODE@N  data=CODE@N
                        MAIL, RCPT (the first of N), DATA of N answered CODE
                        (421 closes the connection after the reply)
  dot=CODE@N            the reply after N's final dot (LMTP: each one)
  dot-split=N           LMTP, two recipients: 250 for the first, 452 for
                        the second after N's final dot
  drop-mid-data=N       the connection closed after part of N's data
  pause-mid-data=N      after part of N's data: "S: paused N" logged, then
                        nothing read or sent until the client goes
  pause-after-dot=N     N stored, then "S: paused after storing N" logged
                        and its 250 never sent (nothing read or sent
                        until the client goes)
  drop-idle=N           the connection closed (as an idle timeout) right
                        after N's transaction, before the next command
  no-pipelining         PIPELINING not offered; a command sent before the
                        reply to the one before is a violation
  chunking              CHUNKING offered: BDAT SIZE [LAST] taken (the
                        DATA faults above apply to it alike)
  no-8bitmime  no-smtputf8
                        not offered; a message using them is a violation

The log (--log) gets one line per event:

  S: connection K          a connection accepted
  C: LINE                  a command (AUTH arguments shown as ***)
  F: SPEC                  a fault fired
  S: accepted N FILE from=<S> to=<R>[,<R>...]   a message stored
  S: data N BYTES          the DATA of N received whole (before the reply)
  S: paused N              pause-mid-data began
  S: closed K              the connection ended
  V: ...                   the client broke a rule: a command before the
                           reply (no-pipelining, or anything after DATA
                           before its 354), 8-bit data without
                           BODY=8BITMIME or to a server without 8BITMIME,
                           SMTPUTF8 missing or not offered, a bare LF in
                           DATA, MAIL without AUTH when required
"""

import argparse
import base64
import os
import signal
import socket
import ssl
import sys
import time


class Drop(Exception):
    pass


class Server:
    def __init__(self, a):
        self.a = a
        self.lmtp = a.lmtp
        self.faults = {}
        self.flags = set()
        for f in a.fault:
            if "=" in f:
                k, v = f.split("=", 1)
                self.faults[k] = v
            else:
                self.flags.add(f)
        self.fired = set()
        self.nmail = 0
        self.nconn = 0
        self.stored = 0
        self.logf = open(a.log, "a", buffering=1) if a.log else None
        os.makedirs(os.path.join(a.out, "new"), exist_ok=True)
        os.makedirs(os.path.join(a.out, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(a.out, "cur"), exist_ok=True)
        self.stored = len(os.listdir(os.path.join(a.out, "new")))

    def log(self, s):
        if self.logf:
            self.logf.write(s + "\n")

    def fault(self, name, n=None):
        """The fault NAME's value if it fires now (for message n)."""
        if name in self.fired:
            return None
        v = self.faults.get(name)
        if v is None:
            return None
        if n is not None:
            if "@" in v:
                code, at = v.split("@", 1)
                if int(at) != n:
                    return None
                v = code
            elif v.isdigit() and name in ("drop-mid-data", "pause-mid-data",
                                          "drop-idle", "dot-split",
                                          "pause-after-dot"):
                if int(v) != n:
                    return None
        self.fired.add(name)
        self.log("F: %s=%s" % (name, self.faults[name]))
        return v

    # ------------------------------------------------------------ I/O
    def readline(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise Drop()
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def pending(self):
        """Bytes the client sent that we have not read yet."""
        if self.buf:
            return True
        try:
            self.sock.setblocking(False)
            try:
                d = self.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                return False
            finally:
                self.sock.setblocking(True)
        except OSError:
            return False
        if not d:
            return False
        self.buf += d
        return True

    def reply(self, code, text, lines=()):
        out = b""
        for l in lines:
            out += b"%d-%s\r\n" % (code, l.encode())
        out += b"%d %s\r\n" % (code, text.encode())
        self.sock.sendall(out)

    def refuse(self, code, what):
        self.reply(int(code), "%s: fault" % what)
        if int(code) == 421:
            raise Drop()

    # ------------------------------------------------------------ session
    def serve(self, sock):
        self.sock = sock
        self.buf = b""
        self.nconn += 1
        self.log("S: connection %d" % self.nconn)
        try:
            self.session()
        except (Drop, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            self.log("S: closed %d" % self.nconn)

    def check_order(self, cmd):
        if "no-pipelining" in self.flags and self.pending():
            self.log("V: %s: sent before the reply to it (no PIPELINING)"
                     % cmd)

    def session(self):
        g = self.fault("greeting")
        if g:
            self.reply(int(g), "not now: fault")
            raise Drop()
        self.reply(220, "fakesmtp ready")
        self.tls = False
        self.authed = self.a.auth is None
        self.reset()
        while True:
            line = self.readline()
            u = line.upper()
            if u.startswith(b"AUTH "):
                parts = line.split(b" ")
                self.log("C: AUTH %s%s" % (parts[1].decode("ascii", "replace"),
                                           " ***" if len(parts) > 2 else ""))
            else:
                self.log("C: " + line.decode("utf-8", "replace"))
            verb = u.split(b" ", 1)[0]
            if verb in (b"LHLO", b"EHLO", b"HELO"):
                self.check_order(verb.decode())
                if (verb == b"LHLO") != self.lmtp:
                    self.reply(500, "wrong protocol")
                    continue
                f = self.fault("hello")
                if f:
                    self.refuse(f, "hello")
                    continue
                caps = ["fakesmtp", "ENHANCEDSTATUSCODES"]
                if "no-pipelining" not in self.flags:
                    caps.append("PIPELINING")
                if "no-8bitmime" not in self.flags:
                    caps.append("8BITMIME")
                if "no-smtputf8" not in self.flags:
                    caps.append("SMTPUTF8")
                if "chunking" in self.flags:
                    caps.append("CHUNKING")
                if self.a.tls_cert and not self.tls:
                    caps.append("STARTTLS")
                if self.a.auth:
                    caps.append("AUTH PLAIN")
                self.reply(250, caps[-1], caps[:-1])
            elif verb == b"STARTTLS":
                self.check_order("STARTTLS")
                if not self.a.tls_cert or self.tls:
                    self.reply(502, "no")
                    continue
                self.reply(220, "go ahead")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.a.tls_cert, self.a.tls_key)
                self.sock = ctx.wrap_socket(self.sock, server_side=True)
                self.tls = True
                self.buf = b""
                self.log("S: TLS")
            elif verb == b"AUTH":
                parts = line.split(b" ")
                if len(parts) != 3 or parts[1].upper() != b"PLAIN":
                    self.reply(504, "PLAIN with an initial response only")
                    continue
                try:
                    _, u_, p_ = base64.b64decode(parts[2]).split(b"\0")
                except Exception:
                    self.reply(501, "bad base64")
                    continue
                if self.a.auth == (u_ + b":" + p_).decode("utf-8", "replace"):
                    self.authed = True
                    self.log("S: AUTH ok %s" % u_.decode())
                    self.reply(235, "ok")
                else:
                    self.log("S: AUTH wrong credentials")
                    self.reply(535, "wrong credentials")
            elif verb == b"MAIL":
                self.mail(line)
            elif verb == b"RCPT":
                self.rcpt(line)
            elif verb == b"DATA":
                self.data()
            elif verb == b"BDAT":
                self.bdat(line)
            elif verb == b"RSET":
                self.check_order("RSET")
                self.reset()
                self.reply(250, "reset")
            elif verb == b"NOOP":
                self.reply(250, "ok")
            elif verb == b"QUIT":
                self.reply(221, "bye")
                raise Drop()
            else:
                self.reply(500, "unknown command")

    def reset(self):
        self.sender = None
        self.rcpts = []
        self.mailn = 0
        self.params = b""
        self.failed = False
        self.chunk = None

    def mail(self, line):
        self.check_order("MAIL")
        self.reset()
        self.nmail += 1
        self.mailn = self.nmail
        if not self.authed:
            self.log("V: MAIL before AUTH")
            self.reply(530, "authentication required")
            self.failed = True
            return
        f = self.fault("mail", self.mailn)
        if f:
            self.failed = True
            self.refuse(f, "MAIL")
            return
        rest = line[10:] if line[:10].upper() == b"MAIL FROM:" else None
        if rest is None or not rest.startswith(b"<") or b">" not in rest:
            self.reply(501, "syntax")
            self.failed = True
            return
        self.sender = rest[1:rest.index(b">")].decode("utf-8", "replace")
        self.params = rest[rest.index(b">") + 1:].upper()
        if b"SMTPUTF8" in self.params and "no-smtputf8" in self.flags:
            self.log("V: SMTPUTF8 asked of a server without it")
        if b"8BITMIME" in self.params and "no-8bitmime" in self.flags:
            self.log("V: BODY=8BITMIME asked of a server without it")
        self.reply(250, "2.1.0 sender ok")

    def rcpt(self, line):
        self.check_order("RCPT")
        if self.sender is None:
            self.reply(503, "no MAIL")
            return
        if not self.rcpts:
            f = self.fault("rcpt", self.mailn)
            if f:
                self.refuse(f, "RCPT")
                return
        rest = line[8:] if line[:8].upper() == b"RCPT TO:" else b""
        if not rest.startswith(b"<") or b">" not in rest:
            self.reply(501, "syntax")
            return
        self.rcpts.append(rest[1:rest.index(b">")].decode("utf-8", "replace"))
        self.reply(250, "2.1.5 recipient ok")

    def data(self):
        # PIPELINING: DATA ends a group; nothing may follow before 354.
        if self.pending():
            self.log("V: data sent before the reply to DATA")
        if self.sender is None or not self.rcpts:
            self.reply(503, "no valid recipients")
            return
        f = self.fault("data", self.mailn)
        if f:
            self.refuse(f, "DATA")
            return
        self.reply(354, "go ahead")
        n = self.mailn
        drop = self.fault("drop-mid-data", n)
        pause = self.fault("pause-mid-data", n)
        body = bytearray()
        got = 0
        while True:
            line = self.readraw()
            got += len(line)
            if (drop or pause) and got > 200:
                if drop:
                    raise Drop()
                self.log("S: paused %d" % n)
                while True:
                    d = self.sock.recv(65536)
                    if not d:
                        raise Drop()
            if not line.endswith(b"\r\n"):
                self.log("V: a line of DATA not ended by CRLF")
                line = line.rstrip(b"\n") + b"\r\n"
            if line == b".\r\n":
                break
            if line.startswith(b"."):
                line = line[1:]
            body += line[:-2] + b"\n"
        self.finish(n, body)

    def finish(self, n, body):
        """The message is whole: check it, reply, store it if accepted."""
        if any(b >= 0x80 for b in body):
            if "no-8bitmime" in self.flags:
                self.log("V: 8-bit data sent to a server without 8BITMIME")
            elif b"8BITMIME" not in self.params:
                self.log("V: 8-bit data without BODY=8BITMIME")
            head = bytes(body).split(b"\n\n", 1)[0]
            if any(b >= 0x80 for b in head):
                if "no-smtputf8" in self.flags:
                    self.log("V: 8-bit header sent to a server without "
                             "SMTPUTF8")
                elif b"SMTPUTF8" not in self.params:
                    self.log("V: 8-bit header without SMTPUTF8")
        self.log("S: data %d %d" % (n, len(body)))
        replies = []
        nrep = len(self.rcpts) if self.lmtp else 1
        f = self.fault("dot", n)
        split = self.fault("dot-split", n)
        for i in range(nrep):
            if f:
                replies.append((int(f), "after the dot: fault"))
            elif split and i > 0:
                replies.append((452, "4.2.2 mailbox full: fault"))
            else:
                replies.append((250, "2.0.0 ok"))
        if all(c == 250 for c, _ in replies):
            self.store(body)
            if self.fault("pause-after-dot", n):
                # Taken, but the 250 never comes: a duplicate is bounded.
                self.log("S: paused after storing %d" % n)
                while True:
                    d = self.sock.recv(65536)
                    if not d:
                        raise Drop()
        out = b"".join(b"%d %s\r\n" % (c, t.encode()) for c, t in replies)
        self.sock.sendall(out)
        self.reset()
        if any(c == 421 for c, _ in replies):
            raise Drop()
        if self.fault("drop-idle", n):
            raise Drop()

    def bdat(self, line):
        """BDAT SIZE [LAST]: SIZE octets, CRLF line ends, no dots."""
        parts = line.split()
        if len(parts) not in (2, 3) or not parts[1].isdigit() or \
                (len(parts) == 3 and parts[2].upper() != b"LAST"):
            self.reply(501, "syntax")
            raise Drop()
        size, last = int(parts[1]), len(parts) == 3
        n = self.mailn
        if "chunking" not in self.flags:
            self.log("V: BDAT to a server without CHUNKING")
        drop = self.fault("drop-mid-data", n)
        pause = self.fault("pause-mid-data", n)
        if self.chunk is None:
            self.chunk = bytearray()
        got = 0
        while got < size:
            if not self.buf:
                d = self.sock.recv(65536)
                if not d:
                    raise Drop()
                self.buf += d
            k = min(size - got, len(self.buf))
            self.chunk += self.buf[:k]
            self.buf = self.buf[k:]
            got += k
            if (drop or pause) and got > 200:
                if drop:
                    raise Drop()
                self.log("S: paused %d" % n)
                while True:
                    if not self.sock.recv(65536):
                        raise Drop()
        if not last:
            self.reply(250, "chunk ok")
            return
        data, self.chunk = bytes(self.chunk), None
        if self.sender is None or not self.rcpts:
            self.reply(503, "no valid recipients")
            return
        if data.replace(b"\r\n", b"").count(b"\n"):
            self.log("V: a bare LF in BDAT")
        self.finish(n, data.replace(b"\r\n", b"\n"))

    def readraw(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise Drop()
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def store(self, body):
        self.stored += 1
        name = "%06d.eml" % self.stored
        tmp = os.path.join(self.a.out, "tmp", name)
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, os.path.join(self.a.out, "new", name))
        self.log("S: accepted %d %s from=<%s> to=%s" % (
            self.mailn, name, self.sender,
            ",".join("<%s>" % r for r in self.rcpts)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--port-file")
    p.add_argument("--out", required=True)
    p.add_argument("--log")
    p.add_argument("--lmtp", action="store_true")
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--auth")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    a = p.parse_args()
    srv = Server(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.alarm(300)
    if a.unix:
        try:
            os.unlink(a.unix)
        except FileNotFoundError:
            pass
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(a.unix + ".new")
        ls.listen(5)
        os.rename(a.unix + ".new", a.unix)
    else:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(5)
        with open(a.port_file + ".tmp", "w") as fh:
            fh.write("%d\n" % ls.getsockname()[1])
        os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = ls.accept()
        srv.serve(c)


if __name__ == "__main__":
    main()
