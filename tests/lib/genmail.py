#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""Generate deterministic, realistic test mail for pullmail's tests.

usage: genmail.py --out DIR --count N [--seed S] [--mix small|mixed|edge]
                  [--big BYTES] [--first K]

Writes one RFC 5322 message per file, DIR/msg-00001.eml, msg-00002.eml, ...
with LF line endings; every file ends with a newline.  The same arguments
always produce identical bytes.

Mixes:
  small  2-8 KB plain-text messages.
  mixed  in every block of 20 consecutive messages: 14 of 2-8 KB, 5 of
         20-200 KB (multipart with a base64 attachment) and 1 of 1-5 MB.
  edge   the i-th message is of kind EDGE_KINDS[(i-1) % 16] (the last
         "kind" is a normal message): body lines starting with "." / ".." /
         "." alone (also as the last line), "From " lines, ">From " /
         ">>From " lines, raw 8-bit Latin-1 and UTF-8 (body; UTF-8 also in
         the Subject), a 5000-character line, an empty body, MIME
         multipart, encoded-word subjects, a raw ESC[31m escape in the
         subject, trailing whitespace, folded headers, a message of headers
         only (no blank line).  --count 16 covers every kind once.

--big BYTES adds one more message (numbered after the others) of about
BYTES bytes whose body is numbered plain-text lines.
--first K numbers the files from K instead of 1 (to combine several runs in
one directory; use a different --seed for each run).
"""

import argparse
import base64
import datetime
import os
import random
import sys

DEFAULT_SEED = 20240601

FIRST_NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace",
               "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy",
               "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yolanda"]
LAST_NAMES = ["Anderson", "Becker", "Chen", "Dubois", "Evans", "Fischer",
              "Garcia", "Hansen", "Ito", "Jensen", "Kowalski", "Lopez",
              "Moreau", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi",
              "Schmidt", "Tanaka"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com",
           "lists.example.org", "corp.example.net", "uni.example.edu"]
RELAYS = ["mx1.example.com", "mx2.example.org", "smtp.example.net",
          "relay.example.edu", "out.example.com", "mail-gw.example.org"]
MTAS = ["Postfix", "Exim 4.96", "Sendmail 8.17.1", "OpenSMTPD",
        "Microsoft SMTP Server", "Postfix (Debian/GNU)"]
TZ_OFFSETS = [0, 60, 120, -300, -240, 330, -480, 540, 600, -180]
SUBJECT_WORDS = ["meeting", "notes", "invoice", "report", "draft", "update",
                 "question", "schedule", "release", "budget", "review",
                 "minutes", "proposal", "reminder", "agenda", "travel",
                 "photos", "backup", "server", "migration", "quarterly"]
SUBJECT_PREFIXES = ["", "", "", "Re: ", "Re: ", "Fwd: ", "RE: ", "[list] "]
WORDS = ("the of and to in is that for it as was with be by on not he this "
         "are or his from at which but have an they you were her she there "
         "been one all we their has would when if so no will can more about "
         "what up said out them into some could time only other new than "
         "then its also two after first way these many may like well should "
         "because each just those people how too little state good very make "
         "world still own see men work long get here between both life being "
         "under never day same another know while last might us great old "
         "year off come since against go came right used take three system "
         "server mailbox message delivery network protocol client download "
         "archive meeting project schedule report budget review release "
         "weekend invoice customer support ticket backup storage").split()
ATTACH_TYPES = [("application/pdf", "pdf"), ("image/jpeg", "jpg"),
                ("image/png", "png"), ("application/zip", "zip"),
                ("application/octet-stream", "bin"),
                ("application/vnd.oasis.opendocument.text", "odt")]

EDGE_KINDS = ["dot_lines", "dot_last_line", "from_lines", "quoted_from_lines",
              "latin1_8bit", "utf8_8bit", "long_line", "empty_body",
              "multipart", "encoded_subject", "escape_subject",
              "trailing_whitespace", "dot_from_mix", "folded_headers",
              "headers_only", "normal"]


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        # deterministic clock: starts here and moves forward per message
        self.when = datetime.datetime(2024, 1, 8, 7, 30, 0,
                                      tzinfo=datetime.timezone.utc)

    # ---- small pieces ------------------------------------------------------
    def person(self):
        r = self.rng
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        addr = "%s.%s@%s" % (first.lower(), last.lower().replace("'", ""),
                             r.choice(DOMAINS))
        return "%s %s" % (first, last), addr

    def sentence(self):
        r = self.rng
        n = r.randint(5, 16)
        words = [r.choice(WORDS) for _ in range(n)]
        words[0] = words[0].capitalize()
        return " ".join(words) + r.choice([".", ".", ".", "?", "!", ";"])

    def paragraph_lines(self, width=72):
        r = self.rng
        text = " ".join(self.sentence() for _ in range(r.randint(2, 7)))
        lines, cur = [], ""
        for w in text.split(" "):
            if cur and len(cur) + 1 + len(w) > width:
                lines.append(cur)
                cur = w
            else:
                cur = w if not cur else cur + " " + w
        if cur:
            lines.append(cur)
        return lines

    def text_body(self, target):
        """Plain text lines totalling about target bytes."""
        out, size = [], 0
        name = self.rng.choice(FIRST_NAMES)
        out.append("Hi %s," % name)
        out.append("")
        size = 20
        while size < target:
            for line in self.paragraph_lines():
                out.append(line)
                size += len(line) + 1
            out.append("")
            size += 1
        out.append("-- ")
        out.append(self.rng.choice(FIRST_NAMES))
        return out

    def subject(self):
        r = self.rng
        words = [r.choice(SUBJECT_WORDS) for _ in range(r.randint(2, 5))]
        s = " ".join(words)
        return r.choice(SUBJECT_PREFIXES) + s[0].upper() + s[1:]

    def date(self):
        r = self.rng
        self.when += datetime.timedelta(seconds=r.randint(30, 6 * 3600))
        tz = datetime.timezone(datetime.timedelta(minutes=r.choice(TZ_OFFSETS)))
        return self.when.astimezone(tz)

    @staticmethod
    def fmt_date(d):
        # RFC 5322 date-time, always English names regardless of locale
        days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                  "Sep", "Oct", "Nov", "Dec"]
        off = int(d.utcoffset().total_seconds() // 60)
        sign = "+" if off >= 0 else "-"
        off = abs(off)
        return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (
            days[d.weekday()], d.day, months[d.month - 1], d.year,
            d.hour, d.minute, d.second, sign, off // 60, off % 60)

    def headers(self, num, subject=None, from_=None, ctype=None, cte=None,
                extra=()):
        """Return header lines (list of str or bytes) for message num."""
        r = self.rng
        d = self.date()
        name, addr = from_ if from_ else self.person()
        tname, taddr = self.person()
        relay = r.choice(RELAYS)
        h = []
        h.append("Return-Path: <%s>" % addr)
        hops = r.randint(1, 3)
        t = d
        for hop in range(hops):
            t2 = t + datetime.timedelta(seconds=r.randint(1, 40) * (hops - hop))
            ip = "192.0.2.%d" % r.randint(1, 254) if hop % 2 == 0 else \
                "198.51.100.%d" % r.randint(1, 254)
            qid = "%X" % r.getrandbits(40)
            h.append("Received: from %s (%s [%s])" % (relay, relay, ip))
            h.append("\tby mail.%s (%s) with ESMTPS id %s" %
                     (taddr.split("@")[1], r.choice(MTAS), qid))
            h.append("\tfor <%s>; %s" % (taddr, self.fmt_date(t2)))
        if isinstance(name, bytes):
            h.append(b"From: " + name + b" <" + addr.encode() + b">")
        elif name.startswith("=?"):
            h.append("From: %s <%s>" % (name, addr))
        else:
            h.append('From: "%s" <%s>' % (name, addr) if "'" in name
                     else "From: %s <%s>" % (name, addr))
        h.append("To: %s <%s>" % (tname, taddr))
        if r.random() < 0.3:
            cname, caddr = self.person()
            h.append("Cc: %s <%s>" % (cname, caddr))
        if subject is None:
            subject = self.subject()
        if isinstance(subject, bytes):
            h.append(b"Subject: " + subject)
        else:
            h.append("Subject: " + subject)
        h.append("Date: " + self.fmt_date(d))
        h.append("Message-ID: <%s.%05d.%08x@%s>" % (
            d.strftime("%Y%m%d%H%M%S"), num, r.getrandbits(32),
            addr.split("@")[1]))
        h.extend(extra)
        h.append("MIME-Version: 1.0")
        h.append("Content-Type: " + (ctype or "text/plain; charset=us-ascii"))
        h.append("Content-Transfer-Encoding: " + (cte or "7bit"))
        return h

    # ---- whole messages ----------------------------------------------------
    @staticmethod
    def assemble(header_lines, body_lines):
        parts = []
        for line in header_lines:
            parts.append(line if isinstance(line, bytes) else line.encode())
        parts.append(b"")
        for line in body_lines:
            parts.append(line if isinstance(line, bytes) else line.encode())
        return b"\n".join(parts) + b"\n"

    def normal(self, num, lo=2048, hi=8192):
        target = self.rng.randint(lo, hi)
        h = self.headers(num)
        hsize = sum(len(x) + 1 for x in h)
        return self.assemble(h, self.text_body(max(0, target - hsize - 30)))

    def boundary(self):
        return "=_pm_%016x" % self.rng.getrandbits(64)

    def with_attachment(self, num, lo, hi):
        r = self.rng
        target = r.randint(lo, hi)
        b = self.boundary()
        h = self.headers(num, ctype='multipart/mixed; boundary="%s"' % b)
        text = self.text_body(r.randint(300, 1500))
        mime, ext = r.choice(ATTACH_TYPES)
        fname = "%s-%d.%s" % (r.choice(SUBJECT_WORDS), r.randint(1, 999), ext)
        have = sum(len(x) + 1 for x in h) + sum(len(x) + 1 for x in text) + 400
        nraw = max(16, (target - have) * 57 // 77)
        payload = base64.encodebytes(r.randbytes(nraw)).rstrip(b"\n")
        body = ["This is a multi-part message in MIME format.", "",
                "--" + b, "Content-Type: text/plain; charset=us-ascii",
                "Content-Transfer-Encoding: 7bit", ""]
        body += text
        body += ["", "--" + b,
                 'Content-Type: %s; name="%s"' % (mime, fname),
                 "Content-Transfer-Encoding: base64",
                 'Content-Disposition: attachment; filename="%s"' % fname, "",
                 payload, "", "--" + b + "--"]
        return self.assemble(h, body)

    def big(self, num, size):
        h = self.headers(num, subject="Big message (%d bytes)" % size)
        head = self.assemble(h, [])  # ends with "\n\n"
        # a 64-line block of text reused with line numbers: fast for 20 MB
        block = []
        for _ in range(8):
            block.extend(self.paragraph_lines(60))
        block = block[:64] if len(block) >= 64 else (block * 64)[:64]
        linelen = 9 + sum(len(x) for x in block) / len(block) + 1
        nlines = max(1, int((size - len(head)) / linelen))
        out = ["%08d %s" % (i, block[i & 63]) for i in range(nlines)]
        return head + ("\n".join(out) + "\n").encode()

    # ---- edge cases -------------------------------------------------------
    def edge(self, num, kind):
        r = self.rng
        if kind == "normal":
            return self.normal(num)
        if kind == "dot_lines":
            h = self.headers(num, subject="Dots at line starts")
            body = self.text_body(600) + [
                ".", "..", "...", ".hidden line starting with a dot",
                "..two dots then text", ". a dot and a space", ".\t", ".",
                "", "."] + self.text_body(400)
            return self.assemble(h, body)
        if kind == "dot_last_line":
            h = self.headers(num, subject="Last line is a lone dot")
            return self.assemble(h, self.text_body(500) + ["."])
        if kind == "from_lines":
            h = self.headers(num, subject="From lines in the body")
            body = ["From the desk of the director:", ""] + \
                self.text_body(500) + [
                    "From here on, everything changes.",
                    "From: not a header", "From",
                    "From  two spaces", " From indented (not special)",
                    "From me to you"] + self.text_body(300) + [
                    "From the end"]
            return self.assemble(h, body)
        if kind == "quoted_from_lines":
            h = self.headers(num, subject="Quoted From lines")
            body = self.text_body(400) + [
                ">From someone quoted once", ">>From quoted twice",
                ">>>From quoted three times", ">From", "> From not mboxrd",
                ">>From the end", "From plain again", ">From"]
            return self.assemble(h, body)
        if kind == "latin1_8bit":
            h = self.headers(num, subject="Latin-1 body, unencoded",
                             ctype="text/plain; charset=iso-8859-1",
                             cte="8bit")
            body = self.text_body(300) + [
                "Gr\u00fc\u00dfe aus K\u00f6ln, \u00e0 bient\u00f4t, "
                "se\u00f1or \u00bfqu\u00e9 tal? \u00a3 \u00a9 \u00b5 "
                "\u00d8re \u00c5se \u00e6\u00f8\u00e5 \u00ff".encode("latin-1"),
                bytes(range(0xa0, 0x100)),
                "Fa\u00e7ade, na\u00efve, r\u00e9sum\u00e9.".encode("latin-1")]
            return self.assemble(h, body + self.text_body(200))
        if kind == "utf8_8bit":
            subj = "Raw UTF-8 subject: \u00fcber caf\u00e9 \u65e5\u672c " \
                   "\u2603".encode("utf-8")
            h = self.headers(num, subject=subj,
                             ctype="text/plain; charset=utf-8", cte="8bit")
            body = self.text_body(300) + [
                "Gr\u00fc\u00dfe, \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9"
                "\u30c8, \u0420\u0443\u0441\u0441\u043a\u0438\u0439, "
                "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, "
                "\u05e2\u05d1\u05e8\u05d9\u05ea, emoji \U0001F600\U0001F4E7"
                .encode("utf-8"),
                "\u2014 \u201cquoted\u201d \u2026 \u20ac 100".encode("utf-8")]
            return self.assemble(h, body + self.text_body(200))
        if kind == "long_line":
            h = self.headers(num, subject="A 5000 character line")
            words = []
            n = 0
            while n < 5000:
                w = r.choice(WORDS)
                words.append(w)
                n += len(w) + 1
            line = " ".join(words)[:5000]
            line = line[:-1] + "X" if line.endswith(" ") else line
            return self.assemble(h, self.text_body(200) + [line] +
                                 self.text_body(200))
        if kind == "empty_body":
            h = self.headers(num, subject="Empty body")
            return self.assemble(h, [])  # headers, blank line, nothing
        if kind == "headers_only":
            h = self.headers(num, subject="Only headers, no blank line")
            return self.assemble(h, [])[:-1]
        if kind == "multipart":
            b1, b2 = self.boundary(), self.boundary()
            h = self.headers(num, subject="MIME multipart/mixed",
                             ctype='multipart/mixed; boundary="%s"' % b1)
            text = self.text_body(500)
            html = ["<html><body>"] + ["<p>%s</p>" % x for x in
                                       self.paragraph_lines()] + \
                ["</body></html>"]
            att = base64.encodebytes(r.randbytes(1500)).rstrip(b"\n")
            body = ["This is a multi-part message in MIME format.", "",
                    "--" + b1,
                    'Content-Type: multipart/alternative; boundary="%s"' % b2,
                    "", "--" + b2,
                    "Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: quoted-printable", ""] + \
                text + ["Caf=C3=A9 price =3D 3 =E2=82=AC, soft line brea=",
                        "k here.", "", "--" + b2,
                        "Content-Type: text/html; charset=us-ascii",
                        "Content-Transfer-Encoding: 7bit", ""] + html + \
                ["", "--" + b2 + "--", "", "--" + b1,
                 'Content-Type: application/octet-stream; name="data.bin"',
                 "Content-Transfer-Encoding: base64",
                 'Content-Disposition: attachment; filename="data.bin"', "",
                 att, "", "--" + b1 + "--", "epilogue text"]
            return self.assemble(h, body)
        if kind == "encoded_subject":
            subj = "=?UTF-8?B?%s?= =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=" % \
                base64.b64encode("Gr\u00fc\u00dfe \u2014 \u65e5\u672c\u8a9e "
                                 "\U0001F4EC".encode()).decode()
            h = self.headers(num, subject=subj,
                             from_=("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=",
                                    "juergen.mueller@example.org"))
            return self.assemble(h, self.text_body(r.randint(1500, 4000)))
        if kind == "escape_subject":
            h = self.headers(num, subject=b"Terminal \x1b[31mRED\x1b[0m "
                             b"escape \x1b]0;pwned\x07 in subject")
            body = self.text_body(500) + [b"Body with \x1b[1mescape\x1b[0m "
                                          b"too."]
            return self.assemble(h, body)
        if kind == "trailing_whitespace":
            h = self.headers(num, subject="Trailing whitespace and tabs")
            body = self.text_body(300) + ["trailing spaces   ", "tab\t",
                                          "\tleading tab", "   ", "",
                                          "last  "]
            return self.assemble(h, body)
        if kind == "dot_from_mix":
            h = self.headers(num, subject="Dot and From at the very start")
            body = [".", "From the very first body line", ".From", "..From"]
            return self.assemble(h, body + self.text_body(300))
        if kind == "folded_headers":
            long_refs = " ".join("<ref%d.%08x@example.org>" %
                                 (i, r.getrandbits(32)) for i in range(12))
            extra = ["References: " + long_refs[:70]]
            rest = long_refs[70:]
            while rest:
                extra.append("\t" + rest[:70].strip())
                rest = rest[70:]
            extra.append("X-Mailer: pullmail-genmail")
            extra.append("X-Empty-Header:")
            h = self.headers(num, subject="Many folded header lines",
                             extra=extra)
            return self.assemble(h, ["Short body."])
        raise ValueError(kind)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--count", required=True, type=int,
                    help="number of messages")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--mix", choices=["small", "mixed", "edge"],
                    default="small")
    ap.add_argument("--big", type=int, default=0, metavar="BYTES",
                    help="add one extra message of about BYTES bytes")
    ap.add_argument("--first", type=int, default=1, metavar="K",
                    help="number of the first file (default 1)")
    a = ap.parse_args(argv)
    if a.count < 0 or a.big < 0 or a.first < 1:
        ap.error("--count/--big must be >= 0 and --first >= 1")

    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed)
    mixed_plan = []
    num = a.first
    for i in range(a.count):
        if a.mix == "small":
            data = g.normal(num)
        elif a.mix == "mixed":
            if not mixed_plan:
                mixed_plan = ["s"] * 14 + ["m"] * 5 + ["l"]
                g.rng.shuffle(mixed_plan)
            cat = mixed_plan.pop()
            if cat == "s":
                data = g.normal(num)
            elif cat == "m":
                data = g.with_attachment(num, 20 * 1024, 200 * 1024)
            else:
                data = g.with_attachment(num, 1024 * 1024, 5 * 1024 * 1024)
        else:
            data = g.edge(num, EDGE_KINDS[i % len(EDGE_KINDS)])
        assert data.endswith(b"\n")
        with open(os.path.join(a.out, "msg-%05d.eml" % num), "wb") as f:
            f.write(data)
        num += 1
    if a.big:
        with open(os.path.join(a.out, "msg-%05d.eml" % num), "wb") as f:
            f.write(g.big(num, a.big))
    return 0


if __name__ == "__main__":
    sys.exit(main())
