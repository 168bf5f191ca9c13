#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""Check the mail pullmail delivered against the expected message files.

usage: mailcheck.py --expected SRCDIR (--maildir PATH | --mbox PATH)
                    [--strip-received] [--allow-duplicates]
                    [--strip-field NAME]... [--quote-from]

Every regular file in SRCDIR is one expected message.  The delivered
messages are read with Python's mailbox module (Maildir: new/ and cur/;
mbox: each message without its From_ line, with mboxrd quoting undone, i.e.
one ">" removed from lines matching ^>+From ).  With --strip-received, a
first header field "Received: from ... (pullmail VERSION) ..." (including its
continuation lines) is removed from each delivered message first.

For servers that change the messages they send (tests/lib/servers/README):
--strip-field NAME removes every header field NAME (case-insensitive, with
its continuation lines) from the header of each delivered message, for the
fields such a server adds (Mailutils: X-UIDL, X-IMAPbase, X-UID, Status);
--quote-from compares with the expected messages as a server that does not
undo mbox quoting sends them (popa3d): each line "From ..." that follows an
empty line as ">From ...".

The multiset of delivered messages is compared byte for byte with the
expected files.  Prints on stdout

  delivered=N expected=N missing=N duplicates=N unexpected=N

followed by "missing: NAME" for up to 10 missing expected files.  For
unexpected messages a short diagnosis goes to stderr.  Exit status: 0 if
missing=0, unexpected=0 and (duplicates=0 or --allow-duplicates); 1 if
not; 2 on usage or I/O errors.
"""

import argparse
import collections
import hashlib
import mailbox
import os
import re
import sys

QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)


def strip_received(data):
    """Drop a leading "Received: from ... (pullmail VERSION) ..." header field."""
    if not data.startswith(b"Received: from "):
        return data
    end = data.find(b"\n")
    while end != -1 and data[end + 1:end + 2] in (b" ", b"\t"):
        end = data.find(b"\n", end + 1)
    field = data if end == -1 else data[:end + 1]
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", field)
    if b"(pullmail " not in unfolded:
        return data
    return b"" if end == -1 else data[end + 1:]


def strip_fields(data, names):
    """Remove the header fields NAMES (lower case) from data's header."""
    if not names:
        return data
    end = data.find(b"\n\n")
    head, rest = (data, b"") if end == -1 else (data[:end + 1], data[end + 1:])
    out, skip = [], False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skip:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skip = b":" in line and name.decode("latin-1") in names
        if not skip:
            out.append(line)
    return b"".join(out) + rest


def quote_from(data):
    """Each "From " line after an empty line as ">From " (mboxo, one level)."""
    return re.sub(rb"(?<=\n\n)From ", b">From ", data)


def read_maildir(path):
    if not os.path.isdir(os.path.join(path, "new")):
        raise FileNotFoundError("Maildir %s not found (no new/)" % path)
    md = mailbox.Maildir(path, factory=None, create=False)
    out = []
    for key in sorted(md.keys()):
        with md.get_file(key) as f:
            out.append((key, f.read()))
    tmp = os.path.join(path, "tmp")
    try:
        left = [n for n in os.listdir(tmp) if not n.startswith(".")]
    except OSError:
        left = []
    if left:
        print("mailcheck: warning: %d file(s) left in %s" % (len(left), tmp),
              file=sys.stderr)
    return out


def read_mbox(path):
    if not os.path.isfile(path):
        raise FileNotFoundError("mbox %s not found" % path)
    mb = mailbox.mbox(path, factory=None, create=False)
    out = []
    try:
        for key in mb.iterkeys():
            data = mb.get_bytes(key)
            out.append(("#%d" % (key + 1), QUOTED_FROM.sub(rb"\1", data)))
    finally:
        mb.close()
    return out


def describe(data):
    m = re.search(rb"^Message-ID:[ \t]*(.*)$", data, re.M | re.I)
    return m.group(1).strip() if m else None


def diagnose(key, data, expected_by_msgid):
    msgid = describe(data)
    line = "mailcheck: unexpected message %s (%d bytes, Message-ID %s)" % (
        key, len(data), msgid.decode("ascii", "replace") if msgid else "none")
    if msgid and msgid in expected_by_msgid:
        name, exp = expected_by_msgid[msgid]
        i = 0
        n = min(len(data), len(exp))
        while i < n and data[i] == exp[i]:
            i += 1
        line += "\n  differs from %s (%d bytes) at byte %d: got %r, expected %r" % (
            name, len(exp), i, data[max(0, i - 20):i + 20],
            exp[max(0, i - 20):i + 20])
    print(line, file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare delivered mail with the expected messages.")
    ap.add_argument("--expected", required=True, metavar="SRCDIR")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--maildir", metavar="PATH")
    g.add_argument("--mbox", metavar="PATH")
    ap.add_argument("--strip-received", action="store_true")
    ap.add_argument("--allow-duplicates", action="store_true")
    ap.add_argument("--strip-field", action="append", default=[],
                    metavar="NAME")
    ap.add_argument("--quote-from", action="store_true")
    a = ap.parse_args(argv)
    fields = {n.lower() for n in a.strip_field}

    try:
        names = sorted(n for n in os.listdir(a.expected)
                       if os.path.isfile(os.path.join(a.expected, n)))
        expected = {}          # digest -> list of names
        expected_by_msgid = {}  # Message-ID -> (name, bytes), for diagnosis
        for n in names:
            with open(os.path.join(a.expected, n), "rb") as f:
                data = f.read()
            if a.quote_from:
                data = quote_from(data)
            expected.setdefault(hashlib.sha256(data).digest(), []).append(n)
            msgid = describe(data)
            if msgid:
                expected_by_msgid.setdefault(msgid, (n, data))
        if a.maildir is not None:
            msgs = read_maildir(a.maildir)
        else:
            msgs = read_mbox(a.mbox)
    except (OSError, mailbox.Error) as e:
        print("mailcheck: error: %s" % e, file=sys.stderr)
        return 2

    delivered = collections.Counter()
    unexpected = 0
    shown = 0
    for key, data in msgs:
        if a.strip_received:
            data = strip_received(data)
        data = strip_fields(data, fields)
        d = hashlib.sha256(data).digest()
        if d in expected:
            delivered[d] += 1
        else:
            unexpected += 1
            if shown < 5:
                diagnose(key, data, expected_by_msgid)
                shown += 1

    missing_names = []
    duplicates = 0
    for d, ns in expected.items():
        got = delivered.get(d, 0)
        if got < len(ns):
            missing_names.extend(ns[got:])
        else:
            duplicates += got - len(ns)
    missing_names.sort()

    print("delivered=%d expected=%d missing=%d duplicates=%d unexpected=%d" % (
        len(msgs), len(names), len(missing_names), duplicates, unexpected))
    for n in missing_names[:10]:
        print("missing: %s" % n)
    if len(missing_names) > 10:
        print("missing: ... and %d more" % (len(missing_names) - 10))

    ok = not missing_names and not unexpected and \
        (duplicates == 0 or a.allow_duplicates)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
