#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""oauthbrowser.py - a scripted browser for pullmail's OAuth2 tests.

    oauthbrowser.py --ca CA [--no-follow] [--state STATE] URL

GETs the authorization URL (the test server's /authorize, verified with the
CA), takes its redirect, and then either prints it (--no-follow: what a user
copies from the address bar for paste-back) or follows it to the client's
loopback listener (plain http) and prints that page's status and body.
--state replaces the state in the redirect (a forged or stale answer).
Exits 1 with one line on any failure.
"""

import argparse
import http.client
import ssl
import sys
import urllib.parse


def fail(msg):
    print("oauthbrowser: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--no-follow", action="store_true")
    ap.add_argument("--state")
    ap.add_argument("url")
    o = ap.parse_args()
    u = urllib.parse.urlsplit(o.url)
    if u.scheme != "https":
        fail("not an https URL: " + o.url)
    ctx = ssl.create_default_context(cafile=o.ca)
    c = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx,
                                    timeout=20)
    c.request("GET", u.path + "?" + u.query)
    r = c.getresponse()
    r.read()
    loc = r.getheader("Location")
    if r.status != 302 or not loc:
        fail("the authorization server answered %d, not a redirect"
             % r.status)
    if o.state is not None:
        p = urllib.parse.urlsplit(loc)
        q = [(k, o.state if k == "state" else v)
             for k, v in urllib.parse.parse_qsl(p.query)]
        loc = urllib.parse.urlunsplit(p._replace(
            query=urllib.parse.urlencode(q)))
    if o.no_follow:
        print(loc)
        return
    p = urllib.parse.urlsplit(loc)
    if p.scheme != "http" or p.hostname != "127.0.0.1":
        fail("redirected elsewhere than the loopback: " + loc)
    c = http.client.HTTPConnection(p.hostname, p.port, timeout=20)
    c.request("GET", p.path + ("?" + p.query if p.query else ""))
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    print(r.status)
    print(body)


if __name__ == "__main__":
    main()
