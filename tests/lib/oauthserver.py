#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""oauthserver.py - an OAuth 2.0 authorization server for pullmail's tests.

    /usr/bin/python3 oauthserver.py --dir DIR --cert CERT --key KEY

Built on Authlib (Debian's python3-authlib), framework-independent: its
AuthorizationServer with the authorization code grant and PKCE (RFC 7636,
S256 required of public clients), the refresh token grant and the device
authorization grant (RFC 8628), served over HTTPS on 127.0.0.1 by the
standard library. It writes DIR/port once it listens. State is in memory.

Endpoints: GET /authorize (approves as the user the control API logged in,
or denies), POST /device, POST /token, POST /introspect (RFC 7662, for
Dovecot's oauth2 passdb: no client authentication, as Dovecot sends none).

Refresh tokens rotate: each refresh issues a new one; the one before stays
valid until the new one is first used (as Microsoft does), then gives
invalid_grant. rotation off: the same refresh token stays (as Google).

The test script drives it with POST /control/CMD and a JSON body:
  login {"user"}              the browser's signed-in user (null: none)
  deny {"on"}                 /authorize answers error=access_denied
  approve {"user_code", "user"} / deny_device {"user_code"}
  lifetime {"seconds"}        of access tokens issued from now
  device {"expires_in", "interval"}
  expire {}                   every access token inactive now
  revoke {"user"}             every token of the user dead
  slow_down {"n"}             the next n device polls: slow_down
  fail {"n", "status", "error"}  the next n /token requests fail so
  hang {"seconds"}            the next /token: done, then a wait before the
                              answer (DIR/hanging is written when it starts)
  rotation {"on"}, style {"name": "google"|"microsoft"|"hostile"}
  stats {}                    counts and the names (never values) of the
                              last token request's form fields
"""

import argparse
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request, grants
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (DeviceAuthorizationEndpoint,
                                    DeviceCodeGrant, DEVICE_CODE_GRANT_TYPE)

LOCK = threading.RLock()
S = {
    "login": None, "deny": False, "lifetime": 3600, "rotation": True,
    "style": "google", "slow_down": 0, "fail": [], "hang": 0,
    "device_expires": 600, "device_interval": 1,
    "codes": {}, "tokens": {}, "devices": {},
    "stats": {"refresh": {}, "device_polls": 0, "grants": [],
              "fields": [], "tokens_issued": 0, "introspect": 0,
              "slow_downs": 0},
}
PORT = [0]
DIR = ["."]

USERS = {"pmtest", "pmother"}


class Client(ClientMixin):
    def __init__(self, client_id, secret=None):
        self.client_id = client_id
        self.secret = secret

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, uri):
        # RFC 8252 loopback: any port on 127.0.0.1, plain http
        u = urllib.parse.urlparse(uri)
        return u.scheme == "http" and u.hostname == "127.0.0.1" and \
            u.port is not None

    def check_client_secret(self, secret):
        return self.secret is not None and \
            secrets.compare_digest(secret, self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.secret is None:
            return method == "none"
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token",
                              DEVICE_CODE_GRANT_TYPE)


CLIENTS = {
    "pm-test-client": Client("pm-test-client"),
    "pm-secret-client": Client("pm-secret-client", "pm-client-Secret-9"),
}


class Token(TokenMixin):
    """One issued token pair: the access token and its refresh token."""

    def __init__(self, d, client_id, user, scope, parent):
        self.access_token = d["access_token"]
        self.refresh_token = d.get("refresh_token")
        self.client_id = client_id
        self.user = user
        self.scope = scope
        self.issued = time.time()
        self.expires_in = d.get("expires_in", 0)
        self.active = True          # the access token
        self.refresh_ok = self.refresh_token is not None
        self.parent = parent        # the token pair this one rotated

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued + self.expires_in

    def is_revoked(self):
        return not self.refresh_ok


class Code:
    def __init__(self, code, client_id, redirect_uri, scope, user,
                 challenge, method):
        self.code = code
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.user = user
        self.code_challenge = challenge
        self.code_challenge_method = method
        self.issued = time.time()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post",
                                   "client_secret_basic", "none"]

    def save_authorization_code(self, code, request):
        S["codes"][code] = Code(code, request.client.get_client_id(),
                                request.redirect_uri, request.scope,
                                request.user,
                                request.data.get("code_challenge"),
                                request.data.get("code_challenge_method"))

    def query_authorization_code(self, code, client):
        c = S["codes"].get(code)
        if c and c.client_id == client.get_client_id() and \
                time.time() < c.issued + 300:
            return c
        return None

    def delete_authorization_code(self, authorization_code):
        S["codes"].pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post",
                                   "client_secret_basic", "none"]

    def authenticate_refresh_token(self, refresh_token):
        for t in S["tokens"].values():
            if t.refresh_token == refresh_token and t.refresh_ok:
                # the pair it rotated is spent once this one is used
                p = t.parent
                while p is not None:
                    p.refresh_ok = False
                    p = p.parent
                return t
        return None

    def authenticate_user(self, credential):
        return credential.user

    def revoke_old_credential(self, credential):
        # kept until the new refresh token is first used (see above)
        pass

    def issue_token(self, user, credential):
        # rotation on or off, as the control API says, per request
        self.INCLUDE_NEW_REFRESH_TOKEN = S["rotation"]
        return super().issue_token(user, credential)


class Device:
    def __init__(self, data, client_id, scope):
        self.device_code = data["device_code"]
        self.user_code = data["user_code"]
        self.client_id = client_id
        self.scope = scope
        self.expires_at = time.time() + data["expires_in"]
        self.interval = data["interval"]
        self.last_poll = 0
        self.grant = None           # (user, approved)

    def get_client_id(self):
        return self.client_id

    def get_scope(self):
        return self.scope

    def get_user_code(self):
        return self.user_code

    def is_expired(self):
        return time.time() >= self.expires_at


class DeviceGrant(DeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post",
                                   "client_secret_basic", "none"]

    def query_device_credential(self, device_code):
        S["stats"]["device_polls"] += 1
        return S["devices"].get(device_code)

    def query_user_grant(self, user_code):
        for d in S["devices"].values():
            if d.user_code == user_code:
                return d.grant
        return None

    def should_slow_down(self, credential):
        now = time.time()
        early = now - credential.last_poll < credential.interval - 0.2
        credential.last_poll = now
        if S["slow_down"] > 0:
            S["slow_down"] -= 1
            early = True
        if early:
            credential.interval += 5
            S["stats"]["slow_downs"] += 1
        return early


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_post", "client_secret_basic",
                           "none"]

    def get_verification_uri(self):
        return "https://127.0.0.1:%d/device" % PORT[0]

    def save_device_credential(self, client_id, scope, data):
        S["devices"][data["device_code"]] = Device(data, client_id, scope)

    def create_endpoint_response(self, request):
        self.EXPIRES_IN = S["device_expires"]
        self.INTERVAL = S["device_interval"]
        return super().create_endpoint_response(request)


class Server(AuthorizationServer):
    def query_client(self, client_id):
        return CLIENTS.get(client_id)

    def save_token(self, token, request):
        S["stats"]["tokens_issued"] += 1
        parent = request.credential if isinstance(request.credential, Token) \
            else None
        user = request.user
        if parent is not None and "refresh_token" not in token:
            # no rotation: the pair lives on with a new access token
            S["tokens"].pop(parent.access_token, None)
            parent.access_token = token["access_token"]
            S["tokens"][parent.access_token] = parent
            parent.issued = time.time()
            parent.expires_in = token.get("expires_in", 0)
            parent.active = True
            return
        t = Token(token, request.client.get_client_id(), user,
                  request.scope or (parent.scope if parent else None) or
                  getattr(request.credential, "scope", None), parent)
        S["tokens"][t.access_token] = t

    def send_signal(self, name, *args, **kwargs):
        pass

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, headers


def token_string(**kwargs):
    return secrets.token_urlsafe(24)


def expires(client, grant_type):
    return S["lifetime"]


server = Server()
server.register_token_generator("default", BearerTokenGenerator(
    token_string, token_string, expires))
server.register_grant(CodeGrant, [CodeChallenge(required=True)])
server.register_grant(RefreshGrant)
server.register_grant(DeviceGrant)
server.register_endpoint(DeviceEndpoint)

STYLED = {
    "microsoft": "AADSTS70000: The provided value for the 'refresh_token' "
                 "is not valid. The refresh token was revoked or has "
                 "expired. Trace ID: 0e7b1c2a-5d3f-4e5a-9b1c-2a5d3f4e5a9b "
                 "Correlation ID: 7c1d9e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f "
                 "Timestamp: 2026-12-02 12:00:00Z " + "x" * 400,
    "google": "Token has been expired or revoked.",
    "hostile": "\x1b]0;owned\x07\x1b[31mred\r\nInjected: line",
}


def restyle(status, body):
    """Provider-style error bodies for invalid_grant."""
    if isinstance(body, dict) and body.get("error") == "invalid_grant":
        body = dict(body)
        body["error_description"] = STYLED[S["style"]]
    return status, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("oauthserver: " + (fmt % args) + "\n")

    def send(self, status, body, headers=()):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            ctype = "application/json"
        else:
            data = (body or "").encode()
            ctype = "text/plain"
        self.send_response(status)
        have = set()
        for k, v in headers:
            self.send_header(k, v)
            have.add(k.lower())
        if "content-type" not in have:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        return raw, dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))

    def req(self, body):
        uri = "https://127.0.0.1:%d%s" % (PORT[0], self.path)
        return OAuth2Request(self.command, uri, body, dict(self.headers))

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        if path != "/authorize":
            return self.send(404, {"error": "not_found"})
        with LOCK:
            user = None if S["deny"] else S["login"]
            status, body, headers = server.create_authorization_response(
                self.req(None), grant_user=user)
        self.send(status, body, headers)

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        raw, form = self.form()
        if path.startswith("/control/"):
            return self.control(path[9:], json.loads(raw or "{}"))
        if path == "/introspect":
            return self.introspect(form)
        with LOCK:
            if path == "/device":
                status, body, headers = server.create_endpoint_response(
                    "device_authorization", self.req(form))
                return self.send(status, body, headers)
            if path != "/token":
                return self.send(404, {"error": "not_found"})
            st = S["stats"]
            st["fields"] = sorted(form)
            st["grants"].append(form.get("grant_type"))
            if S["fail"]:
                status, err = S["fail"].pop(0)
                return self.send(status, {"error": err} if err else "fail")
            status, body, headers = server.create_token_response(
                self.req(form))
            status, body = restyle(status, body)
            if status == 200 and form.get("grant_type") == "refresh_token":
                t = S["tokens"].get(body["access_token"])
                u = t.user if t else "?"
                st["refresh"][u] = st["refresh"].get(u, 0) + 1
            hang = S["hang"]
            S["hang"] = 0
        if hang:
            open(os.path.join(DIR[0], "hanging"), "w").close()
            time.sleep(hang)
        self.send(status, body, headers)

    def introspect(self, form):
        with LOCK:
            S["stats"]["introspect"] += 1
            t = S["tokens"].get(form.get("token", ""))
            if t is None or not t.active or t.is_expired():
                return self.send(200, {"active": False})
            self.send(200, {"active": True, "username": t.user,
                            "scope": t.scope or "", "client_id": t.client_id,
                            "exp": int(t.issued + t.expires_in)})

    def control(self, cmd, a):
        with LOCK:
            out = {"ok": True}
            if cmd == "login":
                S["login"] = a.get("user")
            elif cmd == "deny":
                S["deny"] = bool(a.get("on", True))
            elif cmd in ("approve", "deny_device"):
                for d in S["devices"].values():
                    if d.user_code == a["user_code"]:
                        d.grant = (a.get("user", "pmtest"), cmd == "approve")
                        break
                else:
                    return self.send(404, {"error": "no such user_code"})
            elif cmd == "lifetime":
                S["lifetime"] = int(a["seconds"])
            elif cmd == "device":
                S["device_expires"] = int(a.get("expires_in", 600))
                S["device_interval"] = int(a.get("interval", 1))
            elif cmd == "expire":
                for t in S["tokens"].values():
                    t.active = False
            elif cmd == "revoke":
                for t in S["tokens"].values():
                    if t.user == a["user"]:
                        t.active = False
                        t.refresh_ok = False
            elif cmd == "slow_down":
                S["slow_down"] = int(a["n"])
            elif cmd == "fail":
                S["fail"] = [(int(a.get("status", 503)),
                              a.get("error", "temporarily_unavailable"))
                             ] * int(a.get("n", 1))
            elif cmd == "hang":
                S["hang"] = float(a["seconds"])
            elif cmd == "rotation":
                S["rotation"] = bool(a.get("on", True))
            elif cmd == "style":
                S["style"] = a["name"]
            elif cmd == "stats":
                st = dict(S["stats"])
                st["valid_refresh"] = {}
                for t in S["tokens"].values():
                    if t.refresh_ok:
                        st["valid_refresh"][t.user] = \
                            st["valid_refresh"].get(t.user, 0) + 1
                out = st
            elif cmd == "is_valid_refresh":
                out = {"valid": any(t.refresh_token == a["token"] and
                                    t.refresh_ok
                                    for t in S["tokens"].values())}
            else:
                return self.send(404, {"error": "unknown control " + cmd})
        self.send(200, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    o = ap.parse_args()
    DIR[0] = o.dir
    httpd = ThreadingHTTPServer(("127.0.0.1", o.port), Handler)
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.cert, o.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    PORT[0] = httpd.server_address[1]
    tmp = os.path.join(o.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % PORT[0])
    os.rename(tmp, os.path.join(o.dir, "port"))
    httpd.serve_forever()


if __name__ == "__main__":
    main()
