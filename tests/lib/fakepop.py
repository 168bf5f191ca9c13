#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""A scriptable, misbehaving POP3 server for pullmail's fault-injection tests.

usage: fakepop.py --maildir DIR --port-file FILE [--log FILE]
                  [--tls-cert CERT --tls-key KEY [--tls-max 1.2|1.3]]
                  [--fault SPEC]... [--password P]
                  [--sasl "PLAIN XOAUTH2 OAUTHBEARER"] [--token T]
                  [--mode gmail [--session-limit N] | --mode m365]
                  [--enforce-login-delay]

Listens on 127.0.0.1 (a free port, written to FILE once listening) and
serves one connection at a time until killed, or for at most 120 seconds.
The regular files of DIR (names not starting with ".") in sorted name order
are messages 1..N; the UID of a message is its file name.  Deletions are
carried out (the files removed) only at QUIT in the TRANSACTION state.

A fault SPEC is NAME, NAME=ARG, optionally followed by "@all"; without
"@all" a fault applies to the first connection only.  See FAULTS below and
tests/lib/README.  Standard library only.

Pauses, to make "a kill while delivering" happen on cue (K may be 0):
    pause-after-msgs=K  once K messages are sent whole in the connection,
                        the next RETR is not answered; logs "S: paused
                        before RETR NUM, K sent whole"
    pause-mid-msg=K     once K messages are sent whole, the next RETR gets
                        +OK and half of its message; logs "S: paused in
                        RETR NUM after X of Y octets, K sent whole"
The line is written once that much is sent; then silence until the client
leaves (or 600 s), or until fakepop.py gets SIGUSR1 ("S: resumed"; the RETR
is then answered in full).  A test waits for "S: paused", then kills the
client, or signals it and lets the session go on.

OAuth (RFC 7628 and Google's XOAUTH2): --sasl "XOAUTH2 OAUTHBEARER" adds
"SASL XOAUTH2 OAUTHBEARER" to CAPA and enables AUTH for those mechanisms
(AUTH of any other mechanism is refused).  The token can come as an
initial response on the AUTH line or, after "AUTH MECH", following a "+ ";
by default both forms work.  The decoded message must be exactly (^A is
the byte 0x01)
    XOAUTH2      user=u^Aauth=Bearer TOKEN^A^A
    OAUTHBEARER  n,a=u,^Ahost=127.0.0.1^Aport=PORT^Aauth=Bearer TOKEN^A^A
(PORT: the port listened on; --oauth-host changes the host) and TOKEN the
one given with --token (without --token no token is accepted); anything
else is a "V:" line and -ERR, a well-formed message with another token
"S: MECH wrong token" and -ERR [AUTH].  The modes (faults):
    oauth-ir-only    only the initial-response form: "AUTH MECH" alone -ERR
    oauth-no-ir      an initial response gets a bare -ERR (no response
                     code, as from a server without initial responses);
                     only "AUTH MECH", "+ ", token line works
    oauth-error      the token (either form, right or wrong) is answered
                     with "+ " and base64 of {"status":"401",...}; after
                     the client's acknowledgement -ERR [AUTH]; logs whether
                     the acknowledgement was right (an empty line for
                     XOAUTH2, "AQ==" for OAUTHBEARER)
    oauth-bare-plus  the continuation asking for the token is "+" without
                     the space RFC 5034 asks for
    oauth-error-malformed  the token is answered with an error challenge
                     that is not base64 (the JSON as it is); logs
                     "S: MECH cancelled by the client" when the client
                     answers "*", and -ERR
Providers (--mode), as their POP3 services behave:
    gmail   pop.gmail.com: its greeting and CAPA (USER RESP-CODES EXPIRE 0
            LOGIN-DELAY 300 TOP UIDL X-GOOGLE-RICO SASL PLAIN XOAUTH2
            OAUTHBEARER, no PIPELINING); each session lists the oldest
            --session-limit (default 250) messages not popped, a message
            being popped once it was RETRieved whole in a session that
            QUIT (deleted or not: a session that drops pops nothing); LIST
            sizes count LF line ends as one octet (the file's size, below
            the CRLF octets RETR sends); UIDs "GmailId" and 16 hex digits,
            stable (--uid-file still overrides them).  Logs "S: gmail:
            listing K of N not yet popped" and "S: gmail: K popped".
    m365    outlook.office365.com: its greeting and CAPA (TOP UIDL SASL
            PLAIN XOAUTH2 USER, no PIPELINING, no RESP-CODES); AUTH only in
            two steps: an initial response on the AUTH line (any
            mechanism) gets "-ERR Protocol error. Connection is closed. 10"
            and the connection is closed ("S: m365: MECH initial response
            refused, closing"); wrong credentials get "-ERR Logon failure:
            unknown user name or bad password.".
Both log "V: commands pipelined without PIPELINING" as no-pipelining does;
--sasl still chooses the mechanisms offered.
--enforce-login-delay: every login (PASS, AUTH PLAIN) after the first one
accepted gets "-ERR [LOGIN-DELAY] wait 5 minutes between logins" ("S:
login refused: LOGIN-DELAY"), as from a server enforcing its LOGIN-DELAY.
Damaged messages (issue 16's shapes; NUM is the message number):
    short-retr=NUM   the first half of the message, then a proper ".\r\n"
    early-dot=NUM    a "." line (not stuffed) in the middle of the data,
                     then the rest of the message and the terminator
    lf-dot=NUM       the same with a ".\n" line (bare LF)
    extra-after-retr=NUM  the whole message, then "+OK extra" that no
                     command asked for
    append-junk=NUM  the message with 16 KB of lines that are not its own
                     appended before the terminator
Attacks (attacks.sh; K is a count of bytes):
    drop-at-byte=K   close once the K-th byte of the connection (greeting
                     included) is sent, whatever reply it is in; logged as
                     "F: drop-at-byte=K (in the reply to CMD)"
    drop-in-list=K   close inside the LIST listing, after K modulo its
    drop-in-uidl=K   length bytes of it (so any K lands inside; 0: none of
                     it); logged as "F: SPEC (after byte k of n)"
    drop-in-retr=NUM:K  the same inside the reply to RETR NUM (its +OK line
                     and terminator included)
    drop-after-dele=K  close right after answering +OK to the K-th DELE
    wrong-msg=NUM:M  RETR NUM is answered with message M's data ("+OK"
                     with NUM's LIST size; M must exist); no "S: sent NUM"
                     line, so a DELE NUM that follows is a "V:" line
    split-dot=NUM    RETR NUM: the last line end and the terminator sent a
                     byte per TCP segment ("\r", "\n", ".", "\r", "\n",
                     TCP_NODELAY, 0.1 s before each)
    trickle=NUM:K    RETR NUM: the first K bytes of the reply one a second,
                     then the rest at once
    rotate=K         the messages numbered from the (K modulo N)+1-th file
                     in name order on (the files before it come last): the
                     same UIDs in another order than in sessions without it
UIDs: --uid-file FILE maps file names to UIDs, one "NAME<TAB>UID" a line
(UID with Python escapes such as \x01 or \xe9, for bytes a real server
should not send); read again at each login, so a test can change it
between sessions (a UIDL reused, copies sharing one). Unlisted names keep
their own.


The login faults (any mechanism):
    scram-early-ok   AUTH SCRAM-* is answered +OK as soon as the client's
                     first message has come (logged "S: MECH accepted
                     before any proof"): a server that never proves it
                     knows the password
    plus-always      every line before the login but CAPA, STLS, NOOP and
                     QUIT (USER, PASS, APOP, AUTH, each SASL response and
                     the client's "*" cancel alike) is answered "+ " and
                     logged "S: plus-always: + sent" (a SASL response as
                     "C: ***", the cancel as "C: *"); the greeting carries
                     an APOP timestamp; nobody ever logs in
    echo-secret      a refusal that quotes the secret: PASS gets -ERR
                     [AUTH] wrong password ARG; AUTH PLAIN (either form)
                     -ERR [AUTH] bad credentials B64 = DECODED (the NULs
                     as "|"); XOAUTH2 and OAUTHBEARER -ERR [AUTH] token
                     TOKEN refused (B64)
Server quirks (compat.sh):
    utf8             CAPA says UTF8; UTF8 (before the login) is answered
                     +OK and logged "S: UTF8 enabled"; until then a message
                     with 8-bit bytes in its header is sent rewritten into a
                     "does not support Unicode" notice, as Courier does
                     ("S: sent NUM as a Unicode notice")
    utf8-refused     CAPA says UTF8, the UTF8 command gets -ERR
    bare-err         every -ERR is a bare "-ERR", no text (popa3d's way)
    capa-after-login CAPA before the login lacks UIDL and PIPELINING; after
                     it ("S: CAPA after the login") it has them
    pipelining-after-login  the same for PIPELINING alone; logs "S: commands
                     pipelined" once a command arrives before the reply to
                     the one before
    in-use           PASS gets -ERR [IN-USE] (the mailbox is locked)
    lag-deletes      (with @all) QUIT says +OK, but the messages deleted go
                     only when the next session ends ("S: deleted NAME
                     (late)"): a session that logs in at once lists them
                     again, as with Courier
    login-delay      PASS gets -ERR [LOGIN-DELAY]; CAPA says LOGIN-DELAY 300
After QUIT over STLS: "S: close_notify" if the client ended TLS properly,
"S: closed without close_notify" if it just closed the connection.
Transcript lines: "S: output N bytes" (sent in the connection, logged
just before "S: closed C"), "C: AUTH MECH ***" (initial response hidden),
"C: ***" for a token line, "S: MECH accepted (initial
response|continuation)", "S: MECH initial response refused", "S: MECH
without initial response refused", "S: MECH error challenge sent", "S: MECH
error acknowledged correctly", "V: MECH wrong acknowledgement ...", "V: MECH
malformed ...".
A stall (stall-greeting, stall-mid-retr, unterminated-uidl) logs "S:
stalling" once what comes before the silence has been sent.

PLAIN (RFC 4616), with "PLAIN" in --sasl: user u and the --password, as an
initial response or after "+ "; "S: PLAIN accepted (initial
response|continuation)", "S: PLAIN wrong credentials (...)", -ERR [AUTH].

Every AUTH line longer than 255 octets (CRLF excluded; RFC 5034 section 4,
RFC 2449's limit on command lines) is refused with a bare -ERR and logged
as "V: AUTH line of N octets (at most 255 allowed)": an initial response
that would make the line longer must follow a continuation instead.
"""

import argparse
import base64
import binascii
import codecs
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import sys
import time

# name -> kind of argument: None, "num" (a message number), "k" (a count),
# "k0" (a count that may be 0), "numsize" (NUM:SIZE, or NUM:K, NUM:M)
FAULTS = {
    "drop-mid-retr": "num",
    "drop-after-retr": "num",
    "drop-at-dele": "k",
    "drop-before-quit-reply": None,
    "quit-commits-then-drop": None,
    "err-retr": "num",
    "err-dele": "num",
    "stall-mid-retr": "num",
    "stall-greeting": None,
    "lie-size": "numsize",
    "unterminated-uidl": None,
    "greeting-err": None,
    "login-delay": None,
    "auth-err": None,
    "no-uidl": None,
    "no-pipelining": None,
    "pause-after-msgs": "k0",
    "pause-mid-msg": "k0",
    "dup-uid": None,
    "bad-uid": None,
    "long-line": None,
    "nul-in-reply": None,
    "garbage-reply": None,
    "bad-size": None,
    "uidl-unknown-num": None,
    "empty-list-uidl": None,
    "extra-after-pass": None,
    "escape-in-err": None,
    "stls-inject": None,
    "escape-in-capa": None,
    "huge-msg": "num",
    "short-retr": "num",
    "early-dot": "num",
    "lf-dot": "num",
    "extra-after-retr": "num",
    "append-junk": "num",
    "drop-at-byte": "k",
    "drop-in-list": "k",
    "drop-in-uidl": "k",
    "drop-in-retr": "numsize",
    "drop-after-dele": "k",
    "wrong-msg": "numsize",
    "split-dot": "num",
    "trickle": "numsize",
    "rotate": "k",
    "scram-early-ok": None,
    "oauth-ir-only": None,
    "oauth-no-ir": None,
    "oauth-error": None,
    "oauth-bare-plus": None,
    "oauth-error-malformed": None,
    "plus-always": None,
    "echo-secret": None,
    "utf8": None,
    "utf8-refused": None,
    "bare-err": None,
    "capa-after-login": None,
    "pipelining-after-login": None,
    "in-use": None,
    "lag-deletes": None,
}

# faults whose count may be 0 (a byte offset, a rotation)
ZERO_OK = {"drop-at-byte", "drop-in-list", "drop-in-uidl", "rotate"}

USER, PASSWORD = b"u", b"p"
OAUTH_MECHS = (b"XOAUTH2", b"OAUTHBEARER")
OAUTH_ERROR = json.dumps({"status": "401", "schemes": "bearer",
                          "scope": "https://mail.google.com/"},
                         separators=(",", ":")).encode()
# escape-in-capa: terminal escapes (clear screen, set title, bell)
ESC_GREETING = b"fakepop \x1b[2J\x1b]0;pwned\x07ready"
ESC_CAPA = b"X-EVIL \x1b[31mred\x1b[0m\x07"
# plus-always: a greeting timestamp, so that APOP can be tried too
APOP_TS = b"<4711.1700000000@fakepop>"
# plus-always: the commands still answered as usual before the login
PLUS_SPARED = {b"CAPA", b"STLS", b"QUIT", b"NOOP"}
CMD_MAX = 255           # octets in a command line, CRLF excluded (RFC 2449)
SAFETY_NET = 120        # seconds before the server exits by itself
IDLE = 60               # seconds a client may stay silent
STALL = 600             # seconds a stall lasts (or until the client leaves)
LINGER = 2              # seconds to wait for the client to close after a drop
HUGE_BYTES = 256 * 1024 * 1024 # bytes huge-msg sends before giving up
# --mode: providers' POP3 services as they behave (tests/lib/README).
# Gmail's CAPA as pop.gmail.com sends it (fetchmail -v transcripts), in
# its order; M365's as outlook.office365.com sends it after TLS.
GMAIL_CAPA = [b"USER", b"RESP-CODES", b"EXPIRE 0", b"LOGIN-DELAY 300",
              b"TOP", b"UIDL", b"X-GOOGLE-RICO"]
GMAIL_SASL = "PLAIN XOAUTH2 OAUTHBEARER"
M365_CAPA = [b"TOP", b"UIDL", b"SASL", b"USER"]     # b"SASL": the SASL line
M365_SASL = "PLAIN XOAUTH2"
# M365's answer to an initial response on the AUTH line; it then closes
M365_IR_ERR = b"-ERR Protocol error. Connection is closed. 10\r\n"
M365_LOGON_ERR = b"Logon failure: unknown user name or bad password."


class Fault:
    def __init__(self, spec):
        self.spec = spec
        body, _, scope = spec.partition("@")
        if scope not in ("", "all"):
            raise ValueError("bad scope in fault %r" % spec)
        self.all = scope == "all"
        self.name, eq, arg = body.partition("=")
        if self.name not in FAULTS:
            raise ValueError("unknown fault %r" % spec)
        kind = FAULTS[self.name]
        if (kind is None) != (eq == ""):
            raise ValueError("fault %r: argument %s" %
                             (spec, "expected" if kind else "not allowed"))
        self.num = self.size = None
        if kind == "numsize":
            num, _, size = arg.partition(":")
            self.num, self.size = int(num), int(size)
        elif kind is not None:
            self.num = int(arg)
        least = 0 if kind == "k0" or self.name in ZERO_OK else 1
        if (self.num is not None and self.num < least) or \
                (self.size is not None and self.size < 0):
            raise ValueError("fault %r: bad number" % spec)


class Drop(Exception):
    """End the connection now."""


def vis(data):
    """Bytes as printable ASCII for the transcript."""
    return "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else
                   "\\\\" if c == 0x5c else "\\x%02x" % c for c in data)


def wire_form(data):
    """A LF file as sent: CRLF line ends, dot-stuffed; and its LIST size."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    size = sum(len(ln) + 2 for ln in lines)
    body = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                    for ln in lines)
    return body, size, lines


class Server:
    def __init__(self, args):
        self.dir = args.maildir
        self.faults = [Fault(s) for s in args.fault]
        self.lagging = []       # lag-deletes: names deleted, not yet gone
        self.logf = open(args.log, "a", buffering=1, encoding="ascii") \
            if args.log else None
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if args.tls_weak:
                # let this side load a certificate that clients must refuse
                self.tls.set_ciphers("DEFAULT:@SECLEVEL=0")
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)
            self.tls.sni_callback = self.sni
            if args.tls_max:
                self.tls.maximum_version = {
                    "1.2": ssl.TLSVersion.TLSv1_2,
                    "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_max]
        self.retrieved = set()      # UIDs sent completely, any connection
        self.conn_no = 0
        self.password = args.password.encode("utf-8", "surrogateescape")
        sasl = args.sasl
        if sasl is None:
            sasl = {"gmail": GMAIL_SASL, "m365": M365_SASL}.get(args.mode)
        self.sasl = sasl.upper().encode().split() if sasl else []
        self.token = args.token.encode("utf-8", "surrogateescape") \
            if args.token is not None else None
        self.oauth_host = args.oauth_host.encode()
        self.uid_file = args.uid_file
        self.mode = args.mode
        self.session_limit = args.session_limit
        self.popped = set()         # gmail: file names hidden after a QUIT
        self.enforce_delay = args.enforce_login_delay
        self.logins = 0             # logins accepted (load() calls)
        self.port = 0               # set once listening
        # SIGUSR1 ends a pause: the signal's number arrives on this pipe
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGUSR1, lambda signum, frame: None)
        self.usr1 = 0               # SIGUSR1s not yet used by a pause

    def woken(self):
        """Whether a SIGUSR1 came that no pause has used yet."""
        try:
            data = os.read(self.wake_r, 512)
        except BlockingIOError:
            data = b""
        self.usr1 += data.count(bytes([signal.SIGUSR1]))
        if self.usr1 == 0:
            return False
        self.usr1 -= 1
        return True

    def sni(self, sslobj, name, ctx):
        """Log the server name (SNI) the client sent, if any."""
        if name is not None:
            self.log("S: TLS server name " + vis(name.encode("utf-8", "replace")))

    def log(self, line):
        if self.logf:
            self.logf.write(line + "\n")


class Session:
    def __init__(self, srv, sock):
        self.srv = srv
        self.sock = sock
        self.no = srv.conn_no
        self.buf = b""
        self.recvs = 0          # recv calls so far (ordering of arrivals)
        self.in_tls = False
        self.state = "auth"
        self.user = None
        self.utf8 = False
        self.msgs = []          # dicts: name, data, wire, size, lines
        self.deleted = set()
        self.sent_at = {}       # num -> self.recvs when RETR was sent whole
        self.deles = 0
        self.nsent = 0          # messages sent whole in this connection
        self.pipelined_noted = False
        self.line = b""         # the command line being answered
        self.out = 0            # bytes sent in this connection

    # -- faults and I/O

    def fault(self, name, num=None, fire=True):
        for f in self.srv.faults:
            if f.name == name and (f.all or self.no == 1) and \
                    (num is None or f.num is None or f.num == num):
                if fire:
                    self.srv.log("F: " + f.spec)
                return f
        return None

    def send(self, data):
        f = self.fault("drop-at-byte", fire=False)
        if f and self.out + len(data) >= f.num:
            self.sock.sendall(data[:f.num - self.out])
            self.out = f.num
            words = self.line.split(b" ")
            self.srv.log("F: %s (in the reply to %s)" %
                         (f.spec, vis(words[0]) if self.line else
                          "nothing: the greeting"))
            self.hangup()
        self.sock.sendall(data)
        self.out += len(data)

    def send_cut(self, data, name, num=None):
        """Send a reply, or only part of it and close if fault name says."""
        f = self.fault(name, num, fire=False)
        if not f:
            self.send(data)
            return
        k = (f.size if f.size is not None else f.num) % len(data)
        self.srv.log("F: %s (after byte %d of %d)" % (f.spec, k, len(data)))
        if k:
            self.send(data[:k])
        self.hangup()

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        self.recvs += 1
        return data

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Drop()
            try:
                data = self.recv(IDLE)
            except socket.timeout:
                raise Drop()
            if not data:
                raise Drop()
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def log_cmd(self, line):
        if line[:5].upper() == b"PASS ":
            line = line[:4] + b" ***"
        elif line[:5].upper() == b"AUTH ":
            words = line.split(b" ")
            if len(words) > 2:
                line = b" ".join(words[:2]) + b" ***"
        self.srv.log("C: " + vis(line))

    def wait_peer(self, seconds):
        """Read (and log) until the client closes, or for seconds."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                data = self.recv(left)
            except (socket.timeout, OSError):
                return
            if not data:
                return
            self.buf += data
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.log_cmd(line.rstrip(b"\r"))

    def hangup(self):
        """Close the connection now, without answering anything more."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.wait_peer(LINGER)
        raise Drop()

    def stall(self):
        self.srv.log("S: stalling")
        self.wait_peer(STALL)
        raise Drop()

    def ok(self, text=""):
        self.send(b"+OK" + (b" " + text if text else b"") + b"\r\n")

    def err(self, text):
        if self.fault("bare-err", fire=False):
            self.send(b"-ERR\r\n")
            return
        self.send(b"-ERR " + text + b"\r\n")

    def multi(self, first, lines, end=True, cut=None):
        out = [first] + [(b"." + ln if ln.startswith(b".") else ln)
                         for ln in lines]
        data = b"\r\n".join(out) + b"\r\n" + (b".\r\n" if end else b"")
        if cut:
            self.send_cut(data, cut)
        else:
            self.send(data)

    # -- the maildrop

    def delayed(self):
        """--enforce-login-delay: refuse a login after the first one."""
        if not self.srv.enforce_delay or self.srv.logins == 0:
            return False
        self.srv.log("S: login refused: LOGIN-DELAY")
        self.err(b"[LOGIN-DELAY] wait 5 minutes between logins")
        return True

    def load(self):
        self.srv.logins += 1
        names = sorted(n for n in os.listdir(self.srv.dir)
                       if not n.startswith(".") and
                       os.path.isfile(os.path.join(self.srv.dir, n)))
        uids = {}
        if self.srv.uid_file:
            with open(self.srv.uid_file, "rb") as f:
                for ln in f.read().split(b"\n"):
                    if b"\t" in ln:
                        k, v = ln.split(b"\t", 1)
                        uids[k.decode()] = codecs.escape_decode(v)[0]
        f = self.fault("rotate")
        if f and names:
            k = f.num % len(names)
            names = names[k:] + names[:k]
        if self.srv.mode == "gmail":
            # the oldest messages not popped in an earlier session, at
            # most session_limit of them
            left = [n for n in names if n not in self.srv.popped]
            names = left[:self.srv.session_limit]
            self.srv.log("S: gmail: listing %d of %d not yet popped" %
                         (len(names), len(left)))
        for name in names:
            with open(os.path.join(self.srv.dir, name), "rb") as f:
                data = f.read()
            wire, size, lines = wire_form(data)
            uid = uids.get(name)
            if self.srv.mode == "gmail":
                # LF line ends counted as one octet; UIDs of Gmail's form
                size = sum(len(ln) + 1 for ln in lines)
                if uid is None:
                    uid = b"GmailId" + hashlib.sha1(
                        name.encode("utf-8", "surrogateescape")
                    ).hexdigest()[:16].encode()
            self.msgs.append(dict(name=name, wire=wire, size=size,
                                  lines=lines, uid=uid))
        self.srv.log("S: maildrop %d messages" % len(self.msgs))

    def uid(self, num):
        m = self.msgs[num - 1]
        if num == 2 and self.fault("dup-uid", fire=False):
            return self.uid(1)
        if num == 1 and self.fault("bad-uid", fire=False):
            return m["name"][:3].encode() + b"\x01" + m["name"][3:].encode()
        if m["uid"] is not None:
            return m["uid"]
        return m["name"].encode("utf-8", "surrogateescape")

    def size(self, num):
        f = self.fault("lie-size", num, fire=False)
        if f and f.num == num:
            self.srv.log("F: " + f.spec)
            return f.size
        return self.msgs[num - 1]["size"]

    def msgnum(self, args):
        """The message number argument, or None after answering -ERR."""
        try:
            num = int(args[0])
        except (IndexError, ValueError):
            self.err(b"bad message number")
            return None
        if not 1 <= num <= len(self.msgs) or num in self.deleted:
            self.err(b"no such message")
            return None
        return num

    def live(self):
        return [n for n in range(1, len(self.msgs) + 1)
                if n not in self.deleted]

    # -- the session

    def run(self):
        self.srv.log("S: connection %d" % self.no)
        if self.fault("stall-greeting"):
            self.stall()
        if self.fault("greeting-err"):
            self.err(b"[IN-USE] mailbox locked")
            self.hangup()
        if self.fault("long-line"):
            self.send(b"+OK " + b"x" * 4996 + b"\r\n")
        elif self.fault("escape-in-capa", fire=False):
            self.ok(ESC_GREETING)
        elif self.fault("plus-always", fire=False):
            self.ok(b"fakepop ready " + APOP_TS)
        elif self.srv.mode == "gmail":
            self.ok(b"Gpop ready for requests from 127.0.0.1 fakepop")
        elif self.srv.mode == "m365":
            self.ok(b"The Microsoft Exchange POP3 service is ready. "
                    b"[RgBhAGsAZQBQAE8AUAA=]")
        else:
            self.ok(b"fakepop ready")
        while True:
            line = self.readline()
            self.line = line
            tag = self.recvs
            words = line.split(b" ")
            cmd, args = words[0].upper(), [w for w in words[1:] if w]
            if self.state == "auth" and cmd not in PLUS_SPARED and \
                    self.fault("plus-always", fire=False):
                self.plus_always(cmd)
                continue
            self.log_cmd(line)
            handler = getattr(self, "cmd_" + cmd.decode("latin-1"), None)
            if handler is None or \
                    (self.state == "auth") != (cmd in AUTH_CMDS) and \
                    cmd not in ANY_CMDS:
                self.err(b"unknown command or wrong state")
            elif cmd == b"DELE":
                handler(args, tag)
            else:
                handler(args)
            # A second command already here was sent before our reply.
            if b"\n" in self.buf and not self.pipelined_noted and \
                    (self.srv.mode or
                     self.fault("no-pipelining", fire=False)):
                self.pipelined_noted = True
                self.srv.log("V: commands pipelined without PIPELINING")
            elif b"\n" in self.buf and not self.pipelined_noted and \
                    self.state == "transaction" and \
                    self.fault("pipelining-after-login", fire=False):
                self.pipelined_noted = True
                self.srv.log("S: commands pipelined")

    def plus_always(self, cmd):
        """plus-always: any line before the login gets "+ ", even "*"."""
        if cmd in AUTH_CMDS or cmd == b"APOP":
            self.log_cmd(self.line)
        else:
            # a SASL response: it may carry the password or token
            self.srv.log("C: " + ("*" if self.line == b"*" else "***"))
        self.send(b"+ \r\n")
        self.srv.log("S: plus-always: + sent")

    def cmd_CAPA(self, args):
        if self.srv.mode:
            self.capa_mode()
            return
        caps = [b"USER", b"TOP"]
        before = self.state == "auth"
        if self.fault("no-uidl") or \
                before and self.fault("capa-after-login"):
            pass
        else:
            caps.append(b"UIDL")
        if self.fault("no-pipelining") or before and (
                self.fault("capa-after-login") or
                self.fault("pipelining-after-login")):
            pass
        else:
            caps.append(b"PIPELINING")
        if not before:
            self.srv.log("S: CAPA after the login")
        caps.append(b"RESP-CODES")
        if self.fault("utf8") or self.fault("utf8-refused"):
            caps.append(b"UTF8")
        if self.fault("login-delay", fire=False):
            caps.append(b"LOGIN-DELAY 300")
        if self.srv.tls and not self.in_tls and self.state == "auth":
            caps.append(b"STLS")
        if self.srv.sasl:
            caps.append(b"SASL " + b" ".join(self.srv.sasl))
        if self.fault("escape-in-capa"):
            caps.append(ESC_CAPA)
        self.multi(b"+OK capability list follows", caps)

    def capa_mode(self):
        """--mode: the provider's CAPA (no PIPELINING in either)."""
        stls = [b"STLS"] if self.srv.tls and not self.in_tls and \
            self.state == "auth" else []
        sasl = [b"SASL " + b" ".join(self.srv.sasl)] if self.srv.sasl \
            else []
        if self.srv.mode == "gmail":
            caps = GMAIL_CAPA + stls + sasl
            first = b"+OK Capability list follows"
        else:
            caps = []
            for c in M365_CAPA:
                caps += sasl if c == b"SASL" else [c]
            caps += stls
            first = b"+OK"
        self.multi(first, caps)

    def cmd_NOOP(self, args):
        self.ok()

    def cmd_STLS(self, args):
        if not self.srv.tls or self.in_tls:
            self.err(b"STLS not available")
            return
        if self.fault("stls-inject"):
            self.send(b"+OK begin TLS\r\n+OK injected\r\n")
        else:
            self.ok(b"begin TLS")
        self.buf = b""
        self.sock.settimeout(IDLE)
        self.sock = self.srv.tls.wrap_socket(self.sock, server_side=True)
        self.in_tls = True

    def cmd_UTF8(self, args):
        if self.fault("utf8-refused"):
            self.err(b"UTF8 not available")
        elif self.fault("utf8", fire=False):
            self.utf8 = True
            self.srv.log("S: UTF8 enabled")
            self.ok(b"UTF8 enabled")
        else:
            self.err(b"unknown command")

    def cmd_USER(self, args):
        self.user = args[0] if args else b""
        self.ok(b"send PASS" if self.srv.mode == "gmail" else b"")

    def cmd_PASS(self, args):
        if self.user is None:
            self.err(b"USER first")
        elif self.delayed():
            self.user = None
        elif self.fault("login-delay"):
            self.err(b"[LOGIN-DELAY] wait 5 minutes")
        elif self.fault("in-use"):
            self.err(b"[IN-USE] Mailbox is locked by another POP3 session")
        elif self.fault("auth-err"):
            self.err(b"[AUTH] invalid credentials")
        elif self.fault("escape-in-err"):
            self.err(b"\x1b[31mred\x1b]0;title\x07")
        elif self.fault("echo-secret"):
            # as a careless server might: the password it was given
            self.err(b"[AUTH] wrong password " + b" ".join(args) +
                     b" for " + self.user)
        elif self.user == USER and args == [self.srv.password]:
            self.load()
            self.state = "transaction"
            if self.fault("extra-after-pass"):
                # a reply to a command never sent: a fake LIST answer
                self.send(b"+OK logged in\r\n+OK 0 messages\r\n.\r\n")
                return
            self.ok(b"Welcome." if self.srv.mode == "gmail" else
                    b"logged in")
        else:
            self.user = None
            self.err(M365_LOGON_ERR if self.srv.mode == "m365" else
                     b"[AUTH] invalid user name or password")

    def cmd_AUTH(self, args):
        if not args:
            self.err(b"AUTH needs a mechanism")
            return
        if len(self.line) > CMD_MAX:
            # RFC 5034 section 4 (RFC 2449's limit on command lines)
            self.srv.log("V: AUTH line of %d octets (at most %d allowed)" %
                         (len(self.line), CMD_MAX))
            self.err(b"command line too long")
            return
        mech = args[0].upper()
        if mech not in self.srv.sasl:
            self.err(b"unsupported authentication mechanism")
            return
        if self.srv.mode == "m365" and len(args) > 1:
            # Microsoft 365 takes AUTH only in two steps
            self.srv.log("S: m365: %s initial response refused, closing" %
                         mech.decode())
            self.send(M365_IR_ERR)
            self.hangup()
        if mech == b"PLAIN":
            self.plain(args[1] if len(args) > 1 else None)
            return
        if mech.startswith(b"SCRAM-") and self.fault("scram-early-ok"):
            # +OK to the client's first message: no server proof at all
            if len(args) < 2:
                self.send(b"+ \r\n")
                self.sasl_line(False)
            self.srv.log("S: %s accepted before any proof" % mech.decode())
            self.load()
            self.state = "transaction"
            self.ok(b"logged in")
            return
        if mech not in OAUTH_MECHS:
            self.err(b"[SYS/PERM] fakepop does not implement " + mech)
            return
        self.oauth(mech.decode(), args[1] if len(args) > 1 else None)

    def plain(self, ir):
        """PLAIN (RFC 4616): user u, the --password; either form."""
        if self.delayed():
            return
        form = "initial response" if ir is not None else "continuation"
        if ir is None:
            self.send(b"+ \r\n")
            ir = self.sasl_line(True)
            if ir == b"*":
                self.srv.log("S: PLAIN cancelled by the client")
                self.err(b"authentication cancelled")
                return
        try:
            msg = base64.b64decode(ir, validate=True)
        except (binascii.Error, ValueError):
            msg = None
        if self.fault("echo-secret"):
            # the credentials as received, and decoded (NUL as "|")
            self.err(b"[AUTH] bad credentials " + ir + b" = " +
                     (msg or b"?").replace(b"\0", b"|"))
            return
        if msg is None or msg.count(b"\0") != 2:
            self.srv.log("V: PLAIN malformed (%s)" % form)
            self.err(b"malformed PLAIN message")
            return
        authz, user, pw = msg.split(b"\0")
        if authz not in (b"", user) or user != USER or \
                pw != self.srv.password:
            self.srv.log("S: PLAIN wrong credentials (%s)" % form)
            self.err(M365_LOGON_ERR if self.srv.mode == "m365" else
                     b"[AUTH] invalid credentials")
            return
        self.srv.log("S: PLAIN accepted (%s)" % form)
        self.load()
        self.state = "transaction"
        self.ok(b"logged in")

    def sasl_line(self, secret):
        """A client's SASL response line (logged as *** if secret)."""
        line = self.readline()
        self.srv.log("C: " + ("***" if secret and line not in (b"", b"*")
                              else vis(line)))
        return line

    def oauth_expected(self, mech):
        """The message expected, as (prefix, suffix) around the token."""
        if mech == "XOAUTH2":
            return b"user=" + USER + b"\x01auth=Bearer ", b"\x01\x01"
        return (b"n,a=" + USER + b",\x01host=" + self.srv.oauth_host +
                b"\x01port=" + str(self.srv.port).encode() +
                b"\x01auth=Bearer ", b"\x01\x01")

    def oauth(self, mech, ir):
        if ir is not None:
            if self.fault("oauth-no-ir"):
                self.srv.log("S: %s initial response refused" % mech)
                self.err(b"initial response not supported")
                return
            form = "initial response"
            data = ir
        else:
            if self.fault("oauth-ir-only"):
                self.srv.log("S: %s without initial response refused" % mech)
                self.err(b"[AUTH] %s needs an initial response" %
                         mech.encode())
                return
            form = "continuation"
            self.send(b"+\r\n" if self.fault("oauth-bare-plus")
                      else b"+ \r\n")
            data = self.sasl_line(True)
            if data == b"*":
                self.srv.log("S: %s cancelled by the client" % mech)
                self.err(b"authentication cancelled")
                return
        # The message, decoded and checked byte for byte.
        try:
            msg = base64.b64decode(data, validate=True) if data != b"=" \
                else b""
        except (binascii.Error, ValueError):
            msg = None
        prefix, suffix = self.oauth_expected(mech)
        token = None
        if msg is not None and msg.startswith(prefix) and \
                msg.endswith(suffix) and \
                len(msg) >= len(prefix) + len(suffix):
            token = msg[len(prefix):len(msg) - len(suffix)]
            if b"\x01" in token:
                token = None
        good = token is not None and self.srv.token is not None and \
            token == self.srv.token
        if msg is None:
            self.srv.log("V: %s malformed: not base64 (%s)" % (mech, form))
        elif token is None:
            shown = msg
            if self.srv.token:
                shown = shown.replace(self.srv.token, b"TOKEN")
            self.srv.log("V: %s malformed message (%s): %s" %
                         (mech, form, vis(shown[:300])))
        elif not good:
            self.srv.log("S: %s wrong token (%s)" % (mech, form))
        if self.fault("echo-secret"):
            self.err(b"[AUTH] token " + (token or b"?") + b" refused (" +
                     data + b")")
            return
        if self.fault("oauth-error-malformed"):
            # the JSON raw, not in base64, as a broken server might
            self.send(b"+ " + OAUTH_ERROR + b"\r\n")
            self.srv.log("S: %s malformed error challenge sent (%s)"
                         % (mech, form))
            ack = self.sasl_line(False)
            if ack == b"*":
                self.srv.log("S: %s cancelled by the client" % mech)
                self.err(b"authentication cancelled")
            else:
                self.srv.log("V: %s answer %s to a malformed challenge "
                             "(expected *)" % (mech, repr(vis(ack[:40]))))
                self.err(b"[AUTH] invalid credentials")
            return
        if self.fault("oauth-error"):
            self.send(b"+ " + base64.b64encode(OAUTH_ERROR) + b"\r\n")
            self.srv.log("S: %s error challenge sent (%s)" % (mech, form))
            ack = self.sasl_line(False)
            want = b"" if mech == "XOAUTH2" else b"AQ=="
            if ack == want:
                self.srv.log("S: %s error acknowledged correctly" % mech)
            else:
                self.srv.log("V: %s wrong acknowledgement %s (expected "
                             "%s)" % (mech, repr(vis(ack[:40])),
                                      repr(vis(want))))
            self.err(b"[AUTH] invalid credentials")
            return
        if not good:
            self.err(b"[AUTH] invalid credentials")
            return
        self.srv.log("S: %s accepted (%s)" % (mech, form))
        self.load()
        self.state = "transaction"
        self.ok(b"logged in")

    def cmd_QUIT(self, args):
        if self.fault("drop-before-quit-reply"):
            self.hangup()
        commit = self.state == "transaction"
        if commit and self.srv.mode == "gmail":
            # Gmail hides what was RETRieved once the session QUITs,
            # deleted or not (a session that drops hides nothing)
            for num in sorted(self.sent_at):
                self.srv.popped.add(self.msgs[num - 1]["name"])
            self.srv.log("S: gmail: %d popped" % len(self.sent_at))
        if commit and self.fault("lag-deletes", fire=False):
            # as Courier does: +OK to QUIT before the files are gone; here
            # they go only when the next session ends
            for name in self.srv.lagging:
                try:
                    os.unlink(os.path.join(self.srv.dir, name))
                except FileNotFoundError:
                    pass
                self.srv.log("S: deleted %s (late)" % name)
            self.srv.lagging = [self.msgs[num - 1]["name"]
                                for num in sorted(self.deleted)]
        elif commit:
            for num in sorted(self.deleted):
                name = self.msgs[num - 1]["name"]
                try:
                    os.unlink(os.path.join(self.srv.dir, name))
                except FileNotFoundError:
                    pass
                self.srv.log("S: deleted %s" % name)
        if self.fault("quit-commits-then-drop"):
            self.hangup()
        self.ok(b"Farewell." if self.srv.mode == "gmail" else b"bye")
        if self.in_tls:
            self.tls_close()
        self.hangup()

    def tls_close(self):
        """After QUIT over TLS: did the client end TLS with close_notify?"""
        self.sock.suppress_ragged_eofs = False
        self.sock.settimeout(10)
        try:
            data = self.sock.recv(1)
            self.srv.log("S: close_notify" if data == b"" else
                         "S: data after QUIT")
        except ssl.SSLEOFError:
            self.srv.log("S: closed without close_notify")
        except OSError:
            pass

    def cmd_STAT(self, args):
        live = self.live()
        self.ok(b"%d %d" % (len(live), sum(self.size(n) for n in live)))

    def cmd_LIST(self, args):
        if self.fault("garbage-reply"):
            self.send(b"HELLO\r\n")
            return
        if args:
            num = self.msgnum(args)
            if num:
                self.ok(b"%d %d" % (num, self.size(num)))
            return
        if self.fault("empty-list-uidl"):
            self.multi(b"+OK 0 messages", [])
            return
        first = b"+OK %d messages" % len(self.live())
        if self.fault("nul-in-reply"):
            first = b"+OK %d\x00messages" % len(self.live())
        lines = [b"%d %d" % (n, self.size(n)) for n in self.live()]
        if lines and self.fault("bad-size"):
            lines[0] = lines[0] + b"x"
        self.multi(first, lines, cut="drop-in-list")

    def cmd_UIDL(self, args):
        if self.fault("no-uidl"):
            self.err(b"UIDL not supported")
            return
        if args:
            num = self.msgnum(args)
            if num:
                self.ok(b"%d %s" % (num, self.uid(num)))
            return
        if self.fault("empty-list-uidl"):
            self.multi(b"+OK", [b"1 ghost"])
            return
        if 1 in self.live() and self.fault("bad-uid"):
            pass
        if 2 in self.live() and self.fault("dup-uid"):
            pass
        lines = [b"%d %s" % (n, self.uid(n)) for n in self.live()]
        if lines and self.fault("uidl-unknown-num"):
            lines[-1] = b"%d %s" % (max(self.live()) + 7, b"ghost")
        if self.fault("unterminated-uidl"):
            self.multi(b"+OK", lines, end=False)
            self.stall()
        self.multi(b"+OK", lines, cut="drop-in-uidl")

    def cmd_TOP(self, args):
        num = self.msgnum(args)
        if not num:
            return
        try:
            k = int(args[1])
        except (IndexError, ValueError):
            self.err(b"bad line count")
            return
        lines = self.msgs[num - 1]["lines"]
        try:
            blank = lines.index(b"")
        except ValueError:
            blank = len(lines)
        self.multi(b"+OK", lines[:blank + 1 + max(k, 0)])

    def cmd_RETR(self, args):
        num = self.msgnum(args)
        if not num:
            return
        m = self.msgs[num - 1]
        if self.fault("err-retr", num):
            self.err(b"[SYS/TEMP] cannot read message")
            return
        if self.fault("huge-msg", num):
            self.huge()
        head = b"+OK %d octets\r\n" % self.size(num)
        half = head + m["wire"][:len(m["wire"]) // 2]
        if self.fault("drop-mid-retr", num):
            self.send(half)
            self.hangup()
        if self.fault("stall-mid-retr", num):
            self.send(half)
            self.stall()
        if self.fault("pause-after-msgs", self.nsent):
            self.pause("before RETR %d, %d sent whole" % (num, self.nsent))
        elif self.fault("pause-mid-msg", self.nsent):
            self.send(half)
            self.pause("in RETR %d after %d of %d octets, %d sent whole" %
                       (num, len(half) - len(head), len(m["wire"]),
                        self.nsent))
            self.send(m["wire"][len(half) - len(head):] + b".\r\n")
            self.sent_whole(num)
            return
        wire = m["wire"]
        if self.fault("utf8", fire=False) and not self.utf8 and \
                any(b >= 0x80 for b in wire.split(b"\r\n\r\n", 1)[0]):
            # as Courier does for a client that did not say UTF8
            self.srv.log("S: sent %d as a Unicode notice" % num)
            wire = (b"Subject: Unicode message\r\nMIME-Version: 1.0\r\n"
                    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
                    b"--x\r\n\r\nYour E-mail reader does not support "
                    b"Unicode E-mail.\r\n--x\r\nContent-Type: "
                    b"message/global\r\n\r\n" + wire + b"--x--\r\n")
        if self.fault("short-retr", num):
            self.send(head + wire[:wire.rfind(b"\r\n", 0, len(wire) // 2) + 2]
                      + b".\r\n")
            return
        mid = wire.find(b"\r\n", len(wire) // 2) + 2
        if self.fault("early-dot", num):
            self.send(head + wire[:mid] + b".\r\n" + wire[mid:] + b".\r\n")
            return
        if self.fault("lf-dot", num):
            self.send(head + wire[:mid] + b".\n" + wire[mid:] + b".\r\n")
            return
        if self.fault("append-junk", num):
            wire = wire + b"X-Junk: not part of this message\r\n" * 480
        f = self.fault("wrong-msg", num)
        if f and 1 <= f.size <= len(self.msgs):
            # the data of another message, under this one's +OK
            self.send(head + self.msgs[f.size - 1]["wire"] + b".\r\n")
            return
        f = self.fault("trickle", num)
        if f:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reply = head + wire + b".\r\n"
            for i in range(min(f.size, len(reply))):
                self.send(reply[i:i + 1])
                time.sleep(1)
            self.send(reply[min(f.size, len(reply)):])
        elif self.fault("split-dot", num):
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.send(head + wire[:-2])
            for b in (b"\r", b"\n", b".", b"\r", b"\n"):
                time.sleep(0.1)
                self.send(b)
        else:
            self.send_cut(head + wire + b".\r\n", "drop-in-retr", num)
        if self.fault("extra-after-retr", num):
            self.send(b"+OK extra\r\n")
        self.sent_whole(num)

    def sent_whole(self, num):
        """RETR NUM answered whole: note it, for DELE's checks."""
        self.nsent += 1
        self.sent_at[num] = self.recvs
        self.srv.retrieved.add(self.uid(num))
        self.srv.log("S: sent %d %s" % (num, vis(self.uid(num))))
        if self.fault("drop-after-retr", num):
            self.hangup()

    def pause(self, what):
        """pause-after-msgs, pause-mid-msg: log "S: paused WHAT", then say
        nothing until SIGUSR1 ("S: resumed"; the RETR is then answered as
        usual) or until the client leaves (or STALL seconds).  Commands
        the client sends meanwhile are kept, to be answered after."""
        self.srv.log("S: paused " + what)
        end = time.monotonic() + STALL
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Drop()
            r, _, _ = select.select([self.sock, self.srv.wake_r], [], [],
                                    left)
            if self.srv.wake_r in r and self.srv.woken():
                self.srv.log("S: resumed")
                return
            if self.sock in r:
                data = self.recv(IDLE)
                if not data:
                    raise Drop()
                self.buf += data

    def huge(self):
        self.send(b"+OK 1000 octets\r\nSubject: huge\r\n\r\n")
        chunk = (b"x" * 78 + b"\r\n") * 800
        sent = 0
        while sent < HUGE_BYTES:
            self.send(chunk)
            sent += len(chunk)
        self.hangup()

    def cmd_DELE(self, args, tag):
        self.deles += 1
        f = self.fault("drop-at-dele", fire=False)
        if f and f.num == self.deles:
            self.srv.log("F: " + f.spec)
            self.hangup()
        num = self.msgnum(args)
        if not num:
            return
        uid = self.uid(num)
        if num in self.sent_at:
            if tag <= self.sent_at[num]:
                self.srv.log("V: DELE %d (%s) received before its RETR "
                             "was sent whole" % (num, vis(uid)))
        elif uid not in self.srv.retrieved:
            self.srv.log("V: DELE %d (%s) of a message never retrieved "
                         "whole" % (num, vis(uid)))
        if self.fault("err-dele", num):
            self.err(b"[SYS/TEMP] cannot delete message")
            return
        self.deleted.add(num)
        self.srv.log("S: marked %d %s" % (num, vis(uid)))
        self.ok(b"marked")
        f = self.fault("drop-after-dele", fire=False)
        if f and f.num == self.deles:
            self.srv.log("F: " + f.spec)
            self.hangup()

    def cmd_RSET(self, args):
        self.deleted.clear()
        self.ok()


AUTH_CMDS = {b"USER", b"PASS", b"STLS", b"AUTH", b"UTF8"}
ANY_CMDS = {b"CAPA", b"QUIT", b"NOOP"}


def main():
    ap = argparse.ArgumentParser(description="a misbehaving POP3 server")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-weak", action="store_true",
                    help="security level 0 on the server side, to serve a "
                    "certificate with a weak key or signature (SHA-1)")
    ap.add_argument("--tls-max", choices=("1.2", "1.3"),
                    help="the newest TLS version to offer (with --tls-cert)")
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--password", default=PASSWORD.decode(),
                    help="the password of user u (default: p)")
    ap.add_argument("--sasl", help='SASL mechanisms to offer in CAPA, '
                    'e.g. "XOAUTH2 OAUTHBEARER"')
    ap.add_argument("--token", help="the only OAuth token accepted")
    ap.add_argument("--uid-file", help="NAME<TAB>UID lines: the UIDs of "
                    "the messages named (read again at each login)")
    ap.add_argument("--oauth-host", default="127.0.0.1",
                    help="the host OAUTHBEARER must name")
    ap.add_argument("--enforce-login-delay", action="store_true",
                    help="refuse every login (PASS, AUTH PLAIN) after the "
                    "first with -ERR [LOGIN-DELAY]")
    ap.add_argument("--mode", choices=("gmail", "m365"),
                    help="behave like Gmail's or Microsoft 365's POP3")
    ap.add_argument("--session-limit", type=int, default=250,
                    help="--mode gmail: messages listed per session "
                    "(default 250)")
    args = ap.parse_args()
    if args.session_limit < 1:
        ap.error("--session-limit must be 1 or more")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.tls_max and not args.tls_cert:
        ap.error("--tls-max needs --tls-cert")
    try:
        srv = Server(args)
    except (ValueError, OSError, ssl.SSLError) as e:
        print("fakepop.py: %s" % e, file=sys.stderr)
        return 2
    if any(f.name == "stls-inject" for f in srv.faults) and not srv.tls:
        print("fakepop.py: stls-inject needs --tls-cert", file=sys.stderr)
        return 2

    def bye(signum, frame):
        srv.log("S: exit on signal %d" % signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGALRM, bye)
    signal.alarm(SAFETY_NET)

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    srv.port = ls.getsockname()[1]
    tmp = "%s.%d.tmp" % (args.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.replace(tmp, args.port_file)

    while True:
        sock, _ = ls.accept()
        srv.conn_no += 1
        sess = Session(srv, sock)
        try:
            sess.run()
        except (Drop, OSError, ssl.SSLError, socket.timeout):
            pass
        try:
            sess.sock.close()
        except OSError:
            pass
        srv.log("S: output %d bytes" % sess.out)
        srv.log("S: closed %d" % sess.no)


if __name__ == "__main__":
    sys.exit(main())
