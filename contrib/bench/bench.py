#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""bench.py - the driver behind contrib/bench/run.sh (see contrib/bench/README).

run.sh builds the helpers, starts a private Dovecot and exports its
settings (tests/lib/README), then runs this.  Python 3 standard library only.
"""

import argparse
import os
import poplib
import pwd
import grp
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "lib"))

ALL_TOOLS = ["pullmail", "mpop", "fetchmail", "getmail", "bare"]
SCENARIOS = ["mixed", "small", "keep", "scale", "bigmsg", "cache"]
PM_ACCOUNT = "bench"

# Sizes: (full, quick).
SIZES = {
    "mixed": (2000, 400),
    "small": (4000, 1000),
    "keep": (20000, 5000),
    "keep_new": (10, 10),
    "scale": ((1000, 100000), (1000, 20000)),
    "bigmsg": (100 * 1000 * 1000, 100 * 1000 * 1000),
    "cache": (100000, 20000),
}
# Fixed seeds: the same scenario always gets the same bytes.
SEED = {"mixed": 101, "small": 102, "keep": 103, "keep_new": 104,
        "scale": 105, "cache_new": 106, "bigmsg": 107}
# Always run --runs times: the reference, its target and the lower bound.
# Other tools get one run when that one takes longer than --slow seconds.
REFERENCE_TOOLS = ("pullmail", "mpop", "bare")
# Tools per scenario, before --tools filtering.  pullmail first: it is the
# reference of the ratios.
SCENARIO_TOOLS = {
    "mixed": ALL_TOOLS,
    "small": ALL_TOOLS,
    "keep": ALL_TOOLS,
    "scale": ["pullmail", "bare"],
    "bigmsg": ["pullmail", "mpop", "bare"],
    "cache": ["pullmail"],
}


def log(msg=""):
    print(msg, flush=True)


def note(msg):
    print("  note: " + msg, flush=True)


class Ctx:
    pass


# ---------------------------------------------------------------- data sets

def dataset(ctx, mix, count, seed, big=0, first=1):
    """A directory of genmail.py messages, generated once into the cache."""
    name = "%s-n%d-s%d-b%d-f%d" % (mix, count, seed, big, first)
    path = os.path.join(ctx.cache, name)
    stamp = path + ".complete"
    if os.path.exists(stamp):
        return path
    if os.path.exists(path):
        shutil.rmtree(path)
    t0 = time.monotonic()
    log("  generating %s (once; cached in %s)" % (name, ctx.cache))
    cmd = [sys.executable, os.path.join(LIB, "genmail.py"), "--out", path,
           "--count", str(count), "--seed", str(seed), "--mix", mix,
           "--first", str(first)]
    if big:
        cmd += ["--big", str(big)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    open(stamp, "w").close()
    log("  generated in %.0f s" % (time.monotonic() - t0))
    return path


def msg_files(path):
    return sorted(n for n in os.listdir(path) if n.endswith(".eml"))


# ------------------------------------------------------------------- server

def server_count(ctx):
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(ctx.server_maildir, sub)
        n += sum(1 for e in os.scandir(d) if e.is_file())
    return n


def server_clear(ctx):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(ctx.server_maildir, sub)
        for e in os.scandir(d):
            try:
                os.unlink(e.path)
            except FileNotFoundError:
                pass    # Dovecot was still expunging


def server_seed(ctx, src):
    subprocess.run(["bash", os.path.join(LIB, "dovecot.sh"), "seed",
                    ctx.server_dir, src], check=True)


def server_reset(ctx, *srcs):
    """Make the server hold exactly the messages of srcs, in order."""
    wait_server_idle(ctx)
    server_clear(ctx)
    for s in srcs:
        server_seed(ctx, s)


def dovecot_children(ctx):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % ctx.dovecot_pid):
            with open("/proc/%d/task/%s/children" % (ctx.dovecot_pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def wait_server_idle(ctx, limit=600.0):
    """Wait until no POP3 session of Dovecot is left (a client may exit
    before the server has finished the QUIT and its expunges)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        busy = False
        for c in dovecot_children(ctx):
            try:
                with open("/proc/%d/comm" % c) as f:
                    if f.read().strip() in ("pop3", "pop3-login"):
                        busy = True
                        break
            except OSError:
                pass
        if not busy:
            return
        time.sleep(0.01)


def server_cpu(ctx):
    """CPU seconds of Dovecot's reaped children (the POP3 sessions)."""
    try:
        with open("/proc/%d/stat" % ctx.dovecot_pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / ctx.clk_tck
    except (OSError, IndexError, ValueError):
        return float("nan")


def uidl_list(ctx):
    sslctx = ssl.create_default_context(cafile=ctx.ca_file)
    p = poplib.POP3_SSL("localhost", ctx.port, context=sslctx, timeout=120)
    p.user(ctx.user)
    p.pass_(ctx.password)
    _, lines, _ = p.uidl()
    p.quit()
    return [ln.split(None, 1)[1].decode() for ln in lines]


# ---------------------------------------------------------------- the tools

def fresh_dir(path, mode=0o755, owner=None):
    if os.path.lexists(path):
        shutil.rmtree(path)
    os.makedirs(path, mode)
    os.chmod(path, mode)
    if owner:
        os.chown(path, *owner)
    return path


def make_maildir(path, owner=None):
    fresh_dir(path, 0o755, owner)
    for sub in ("tmp", "new", "cur"):
        os.mkdir(os.path.join(path, sub), 0o755)
        if owner:
            os.chown(os.path.join(path, sub), *owner)
    return path


def maildir_count(path):
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        if os.path.isdir(d):
            n += sum(1 for e in os.scandir(d) if e.is_file())
    return n


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def chown_tree(path, owner):
    os.chown(path, *owner)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), *owner)


class Tool:
    """One client.  home: its config and state; state lives in home/state."""
    name = "?"
    delivers = True     # into a Maildir (bare does not)
    owner = None        # (uid, gid) to run as, or None

    def __init__(self, ctx):
        self.ctx = ctx
        self.home = os.path.join(ctx.work, "tools", self.name)
        self.state = os.path.join(self.home, "state")

    def reset_state(self, snapshot=None):
        fresh_dir(self.home, 0o755, self.owner)
        if snapshot:
            shutil.copytree(snapshot, self.state, symlinks=True)
            if self.owner:
                chown_tree(self.state, self.owner)
        else:
            fresh_dir(self.state, 0o700, self.owner)

    def snapshot(self, dest):
        if os.path.lexists(dest):
            shutil.rmtree(dest)
        shutil.copytree(self.state, dest, symlinks=True)

    def command(self, maildir, keep, prime=False):
        """argv and environment for one run."""
        raise NotImplementedError

    def prime_state(self, maildir):
        """Record everything now on the server as seen, in keep mode."""
        return self.command(maildir, keep=True, prime=True)

    def env(self, **kw):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "HOME": self.home, "LANG": "C", "LC_ALL": "C",
             "TMPDIR": self.home}
        e.update(kw)
        return e


class Pullmail(Tool):
    name = "pullmail"
    auth = None

    def version(self):
        r = subprocess.run([self.ctx.pullmail, "--version"],
                           capture_output=True, text=True)
        return "%s (%s)%s" % ((r.stdout or r.stderr).strip().splitlines()[0],
                              self.ctx.pullmail,
                              ", auth = user" if self.use_auth_user() else "")

    def use_auth_user(self):
        """USER/PASS like the other tools, where pullmail has the auth key
        (whose default, auto, would pick SCRAM on this Dovecot)."""
        if self.auth is None:
            os.makedirs(self.home, exist_ok=True)
            cfg = os.path.join(self.home, "probe")
            write_secret(cfg, "[p]\nhost = localhost\nuser = u\n"
                         "password = p\nmaildir = /nonexistent\n"
                         "auth = user\n")
            r = subprocess.run([self.ctx.pullmail, "-C", cfg,
                                "--dump-config"], capture_output=True,
                               env=self.env(XDG_STATE_HOME=self.home))
            self.auth = r.returncode == 0
            os.unlink(cfg)
        return self.auth

    def command(self, maildir, keep, prime=False, mark_seen=False):
        c = self.ctx
        cfg = os.path.join(self.home, "config")
        write_secret(cfg, "[%s]\nhost = localhost\nport = %d\nca_file = %s\n"
                     "user = %s\npassword = \"%s\"\nmaildir = %s\n"
                     "keep = %s\n%s" % (PM_ACCOUNT, c.port, c.ca_file,
                                        c.user, c.password, maildir,
                                        "yes" if keep else "no",
                                        "auth = user\n"
                                        if self.use_auth_user() else ""))
        argv = [c.pullmail, "-q", "-C", cfg]
        if mark_seen:
            argv.insert(2, "--mark-seen")
        return argv, self.env(XDG_STATE_HOME=self.state,
                              XDG_CONFIG_HOME=self.home)


class Mpop(Tool):
    name = "mpop"

    def version(self):
        r = subprocess.run(["mpop", "--version"], capture_output=True,
                           text=True)
        return r.stdout.strip().splitlines()[0]

    def command(self, maildir, keep, prime=False):
        c = self.ctx
        cfg = os.path.join(self.home, "mpoprc")
        write_secret(cfg, "account bench\nhost localhost\nport %d\ntls on\n"
                     "tls_starttls off\ntls_trust_file %s\nauth user\n"
                     "user %s\npassword %s\ndelivery maildir %s\nkeep %s\n"
                     "uidls_file %s/uidls\n"
                     % (c.port, c.ca_file, c.user, c.password, maildir,
                        "on" if keep else "off", self.state))
        return ["mpop", "-q", "-C", cfg, "bench"], self.env()


class Fetchmail(Tool):
    name = "fetchmail"

    def version(self):
        r = subprocess.run(["fetchmail", "--version"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        for ln in r.stdout.splitlines():
            if "fetchmail" in ln.lower():
                return ln.strip()
        return "fetchmail"

    def command(self, maildir, keep, prime=False):
        c = self.ctx
        rc = os.path.join(self.home, "fetchmailrc")
        if prime:
            # Only to record the UIDs: no process per message.
            deliver = 'bsmtp "/dev/null"'
        else:
            deliver = 'mda "%s %s"' % (c.maildir_mda, maildir)
        write_secret(rc, "set no syslog\n"
                     "poll localhost protocol pop3 port %d%s\n"
                     "  user \"%s\" password \"%s\"\n"
                     "  ssl sslcertck sslcertfile \"%s\"\n"
                     "  %s\n  %s\n"
                     % (c.port, " uidl" if keep else "", c.user, c.password,
                        c.ca_file, "keep" if keep else "nokeep fetchall",
                        deliver))
        return (["fetchmail", "-f", rc, "--nosyslog", "-s",
                 "--idfile", os.path.join(self.state, "fetchids"),
                 "--pidfile", os.path.join(self.state, "fetchmail.pid")],
                self.env(FETCHMAILHOME=self.state))


class Getmail(Tool):
    name = "getmail"

    def __init__(self, ctx):
        # getmail refuses to deliver into a Maildir as root: run it as nobody.
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.owner = (pw.pw_uid, pw.pw_gid)
        super().__init__(ctx)

    def version(self):
        r = subprocess.run([self.ctx.getmail, "--version"],
                           capture_output=True, text=True)
        return r.stdout.strip().splitlines()[0]

    def command(self, maildir, keep, prime=False):
        c = self.ctx
        rc = os.path.join(self.home, "getmailrc")
        write_secret(rc, "[retriever]\ntype = SimplePOP3SSLRetriever\n"
                     "server = localhost\nport = %d\nusername = %s\n"
                     "password = %s\nca_certs = %s\n\n"
                     "[destination]\ntype = Maildir\npath = %s/\n\n"
                     "[options]\ndelete = %s\nread_all = %s\nverbose = 0\n"
                     "message_log_syslog = false\n"
                     % (c.port, c.user, c.password, c.ca_file, maildir,
                        "false" if keep else "true",
                        "false" if keep else "true"))
        argv = [sys.executable, os.path.join(HERE, "getmail-nohang.py"),
                "--getmaildir", self.state, "--rcfile", rc]
        if self.owner:
            os.chown(rc, *self.owner)
            argv = ["setpriv", "--reuid=%d" % self.owner[0],
                    "--regid=%d" % self.owner[1], "--clear-groups"] + argv
        return argv, self.env(GETMAIL=c.getmail)

    def prime_state(self, maildir):
        # getmail forks a Python process per message (~0.15 s each here):
        # priming tens of thousands of messages would take most of an hour.
        # Write its state file (oldmail-SERVER-PORT-USER: "UID\0time" lines)
        # from the server's UIDL listing instead.
        c = self.ctx
        uids = uidl_list(c)
        path = os.path.join(self.state, "oldmail-localhost-%d-%s"
                            % (c.port, re.sub(r"[/\\:;<>|]", "-", c.user)))
        now = int(time.time())
        with open(path, "w") as f:
            for u in uids:
                f.write("%s\0%d\n" % (u, now))
        if self.owner:
            os.chown(path, *self.owner)
        return None


class Bare(Tool):
    name = "bare"
    delivers = False

    def version(self):
        return c_or_py(self.ctx)

    def command(self, maildir, keep, prime=False):
        c = self.ctx
        argv = [c.bare, "localhost", str(c.port), c.user, c.password,
                c.ca_file]
        if c.bare.endswith(".py"):
            argv.insert(0, sys.executable)
        if keep:
            argv += ["--keep", os.path.join(self.state, "seen")]
        return argv, self.env()


def c_or_py(ctx):
    if ctx.bare.endswith(".py"):
        return "bare.py (Python; NOT a true lower bound, see README)"
    return "bare.c (C, OpenSSL, window 32 messages)"


TOOL_CLASSES = {"pullmail": Pullmail, "mpop": Mpop, "fetchmail": Fetchmail,
                "getmail": Getmail, "bare": Bare}


def available_tools(ctx):
    have, missing = {}, {}
    for name in ALL_TOOLS:
        why = None
        if name == "pullmail":
            if not os.access(ctx.pullmail, os.X_OK):
                why = "%s is not executable" % ctx.pullmail
        elif name == "mpop":
            if not shutil.which("mpop"):
                why = "mpop not installed (apt-get install mpop)"
        elif name == "fetchmail":
            if not shutil.which("fetchmail"):
                why = "fetchmail not installed (apt-get install fetchmail)"
            elif not ctx.maildir_mda:
                why = "the maildir-mda helper could not be built (needs cc)"
        elif name == "getmail":
            if not ctx.getmail:
                why = "getmail6 not installed (apt-get install getmail6)"
            elif os.geteuid() == 0 and not shutil.which("setpriv"):
                why = "running as root needs setpriv (util-linux)"
        elif name == "bare":
            if not ctx.bare:
                why = "no bare client"
        if why:
            missing[name] = why
        else:
            have[name] = TOOL_CLASSES[name](ctx)
    return have, missing


# ------------------------------------------------------------------ running

class RU:
    def __init__(self, ut, st, rss):
        self.ru_utime, self.ru_stime, self.ru_maxrss = ut, st, rss


class Result:
    def __init__(self, scenario, tool, run, **kw):
        self.scenario, self.tool, self.run = scenario, tool, run
        self.status = "ok"
        self.wall = self.cpu = self.user = self.sys = float("nan")
        self.rss_kb = 0
        self.srv_cpu = float("nan")
        self.messages = 0
        self.detail = ""
        self.size = None        # for scale
        self.__dict__.update(kw)


def execute(ctx, argv, env, timeout, logbase, cwd=None):
    """Run argv in its own session; return (rc, wall, rusage, timed_out).
    rusage comes from wait4 on the child: user+sys of the whole process
    tree (children it waited for included) and the largest peak RSS in it."""
    out = open(logbase + ".out", "wb")
    err = open(logbase + ".err", "wb")
    timed_out = []
    statfile = logbase + ".rusage"
    if os.path.exists(statfile):
        os.unlink(statfile)
    if ctx.rusage:
        argv = [ctx.rusage, statfile] + argv

    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, start_new_session=True, cwd=cwd)

    def kill():
        timed_out.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    ctx.current = p
    try:
        while True:
            try:
                _, status, ru = os.wait4(p.pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        wall = time.monotonic() - t0
        timer.cancel()
        ctx.current = None
        out.close()
        err.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    try:
        with open(statfile) as f:
            rc, ut, st, rss = f.read().split()
        ru = RU(float(ut), float(st), int(rss))
        p.returncode = int(rc)
    except (OSError, ValueError):
        pass
    if timed_out:
        # kill the rest of its process group, if anything is left
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    return p.returncode, wall, ru, bool(timed_out)


def tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()
                     and "Running as root is discouraged" not in ln]
        return " | ".join(lines[-n:])[:300]
    except OSError:
        return ""


def timed_run(ctx, scen, tool, run, maildir, keep, expect_delivered,
              expect_server, timeout=None):
    """One measured run of tool; its state must be prepared already."""
    r = Result(scen, tool.name, run)
    if tool.delivers:
        make_maildir(maildir, tool.owner)
    argv, env = tool.command(maildir, keep)
    logbase = os.path.join(ctx.work, "logs", "%s-%s-%s" % (scen, tool.name,
                                                          run))
    wait_server_idle(ctx)
    cpu0 = server_cpu(ctx)
    rc, wall, ru, timed_out = execute(ctx, argv, env,
                                      timeout or ctx.timeout, logbase,
                                      cwd=tool.home)
    wait_server_idle(ctx)
    r.srv_cpu = server_cpu(ctx) - cpu0
    r.wall = wall
    r.user, r.sys = ru.ru_utime, ru.ru_stime
    r.cpu = r.user + r.sys
    r.rss_kb = ru.ru_maxrss
    if tool.delivers:
        got = maildir_count(maildir)
    else:
        m = re.search(r"messages=(\d+)", open(logbase + ".out").read())
        got = int(m.group(1)) if m else -1
    r.messages = got
    left = server_count(ctx)
    problems = []
    if timed_out:
        r.status = "TIMEOUT"
        rate = got / wall if wall > 0 else 0
        r.detail = ("killed after %.0f s with %d of %d messages delivered"
                    % (wall, max(got, 0), expect_delivered))
        if rate > 0 and got < expect_delivered:
            r.detail += " (%.1f msg/s: ~%.0f s for all)" % (
                rate, expect_delivered / rate)
        return r
    if rc != 0:
        problems.append("exit status %d: %s" % (rc, tail(logbase + ".err")))
    if got != expect_delivered:
        problems.append("%d messages delivered, expected %d"
                        % (got, expect_delivered))
    if left != expect_server:
        problems.append("%d messages left on the server, expected %d"
                        % (left, expect_server))
    if problems:
        r.status = "FAILED"
        r.detail = "; ".join(problems)
    return r


def show_run(r):
    if r.status == "ok":
        log("    run %-3s %-10s wall %7.2f s  cpu %6.2f s  rss %6.1f MB  "
            "server cpu %6.2f s" % (r.run, r.tool, r.wall, r.cpu,
                                    r.rss_kb / 1024, r.srv_cpu))
    else:
        log("    run %-3s %-10s %s: %s" % (r.run, r.tool, r.status, r.detail))


def rotate(lst, k):
    if not lst:
        return lst
    k %= len(lst)
    return lst[k:] + lst[:k]


def deliver_root(ctx, fast=False):
    return ctx.fast if fast else ctx.deliver


# ---------------------------------------------------------------- scenarios

def scen_fetch_all(ctx, scen, tools, src, n, fast=False, size_label=None,
                   runs=None, keep=False):
    """The server holds src; every tool, with a fresh state, fetches
    everything into a fresh Maildir and deletes it (keep: leaves it).
    Alternates tools run by run."""
    results = []
    dead = set()
    if keep:
        server_reset(ctx, src)
    for run in range(1, (runs or ctx.runs) + 1):
        for tool in rotate(tools, run - 1):
            if tool.name in dead:
                continue
            if not keep:
                server_reset(ctx, src)
            tool.reset_state()
            md = os.path.join(deliver_root(ctx, fast), tool.name + "-md")
            r = timed_run(ctx, scen, tool, run, md, keep=keep,
                          expect_delivered=n,
                          expect_server=n if keep else 0)
            r.size = size_label
            show_run(r)
            results.append(r)
            if r.status == "TIMEOUT":
                dead.add(tool.name)
                note("%s: no more runs in this scenario (over the per-run "
                     "limit of %d s; --timeout)" % (tool.name, ctx.timeout))
            elif (ctx.slow and tool.name not in REFERENCE_TOOLS and
                  r.status == "ok" and r.wall > ctx.slow and
                  run < (runs or ctx.runs)):
                dead.add(tool.name)
                note("%s: one run only (%.0f s > %d s, and several times "
                     "slower than pullmail; --slow)" % (tool.name, r.wall,
                                                        ctx.slow))
            if os.path.lexists(md):
                shutil.rmtree(md)
    return results


def scen_mixed(ctx, tools):
    n = SIZES["mixed"][ctx.qi]
    src = dataset(ctx, "mixed", n, SEED["mixed"])
    log("  %d messages, %.0f MB, delete after download" % (
        n, dir_bytes(src) / 1e6))
    return scen_fetch_all(ctx, "mixed", tools, src, n, fast=ctx.tmpfs)


def scen_small(ctx, tools):
    n = SIZES["small"][ctx.qi]
    src = dataset(ctx, "small", n, SEED["small"])
    log("  %d messages of 2-8 KB, %.0f MB, delete after download" % (
        n, dir_bytes(src) / 1e6))
    return scen_fetch_all(ctx, "small", tools, src, n, fast=ctx.tmpfs)


def scen_keep(ctx, tools):
    n = SIZES["keep"][ctx.qi]
    k = SIZES["keep_new"][ctx.qi]
    base = dataset(ctx, "small", n, SEED["keep"])
    new = dataset(ctx, "small", k, SEED["keep_new"], first=n + 1)
    log("  keep mode: %d messages already seen + %d new; only the fetch of "
        "the new ones is timed" % (n, k))
    server_reset(ctx, base)
    snaps = {}
    usable = []
    for tool in tools:
        t0 = time.monotonic()
        tool.reset_state()
        md = os.path.join(ctx.fast, tool.name + "-prime")
        if tool.delivers:
            make_maildir(md, tool.owner)
        cmd = tool.prime_state(md)
        ok, why = True, ""
        if cmd is not None:
            argv, env = cmd
            logbase = os.path.join(ctx.work, "logs", "keep-%s-prime"
                                   % tool.name)
            wait_server_idle(ctx)
            rc, wall, _, to = execute(ctx, argv, env, ctx.prime_timeout,
                                      logbase, cwd=tool.home)
            wait_server_idle(ctx)
            if to or rc != 0:
                ok, why = False, ("timed out" if to else "exit status %d: %s"
                                  % (rc, tail(logbase + ".err")))
            elif tool.name in ("pullmail", "mpop", "getmail") and \
                    maildir_count(md) != n:
                ok, why = False, "%d delivered, expected %d" % (
                    maildir_count(md), n)
        if os.path.lexists(md):
            shutil.rmtree(md)
        if server_count(ctx) != n:
            log("  error: priming %s changed the server (%d messages)"
                % (tool.name, server_count(ctx)))
            server_reset(ctx, base)
        if not ok:
            note("%s: priming failed (%s): skipped" % (tool.name, why))
            continue
        snap = os.path.join(ctx.work, "snap", tool.name)
        tool.snapshot(snap)
        snaps[tool.name] = snap
        usable.append(tool)
        log("  primed %-10s (its own state of %d seen UIDs) in %.0f s"
            % (tool.name, n, time.monotonic() - t0))
    server_seed(ctx, new)
    results = []
    for run in range(1, ctx.runs + 1):
        for tool in rotate(usable, run - 1):
            tool.reset_state(snaps[tool.name])
            md = os.path.join(deliver_root(ctx, ctx.tmpfs),
                              tool.name + "-md")
            r = timed_run(ctx, "keep", tool, run, md, keep=True,
                          expect_delivered=k, expect_server=n + k)
            show_run(r)
            results.append(r)
            if os.path.lexists(md):
                shutil.rmtree(md)
    return results


def scen_scale(ctx, tools):
    sizes = SIZES["scale"][ctx.qi]
    results = []
    note("Maildirs and state on %s, so that the per-message fsync (a "
         "constant) does not hide how the cost grows" % ctx.fast_kind)
    note("keep mode, fresh state: every message fetched, none deleted "
         "(Dovecot needs minutes to expunge 100000 messages at QUIT)")
    for n in sizes:
        src = dataset(ctx, "small", n, SEED["scale"])
        log("  %d messages of 2-8 KB, all fetched, left on the server" % n)
        results += scen_fetch_all(ctx, "scale", tools, src, n, fast=True,
                                  size_label=n, keep=True)
    return results


def scen_bigmsg(ctx, tools):
    big = SIZES["bigmsg"][ctx.qi]
    src = dataset(ctx, "small", 0, SEED["bigmsg"], big=big)
    log("  one message of %.0f MB, delete after download" % (
        dir_bytes(src) / 1e6))
    return scen_fetch_all(ctx, "bigmsg", tools, src, 1, fast=ctx.tmpfs)


def scen_cache(ctx, tools):
    n = SIZES["cache"][ctx.qi]
    base = dataset(ctx, "small", n, SEED["scale"])
    new = dataset(ctx, "small", 1, SEED["cache_new"], first=n + 1)
    log("  keep mode: %d UIDs in the cache (marked with --mark-seen) + 1 new"
        % n)
    server_reset(ctx, base)
    results = []
    for tool in tools:
        if tool.name != "pullmail":
            note("%s: cache is a pullmail-only scenario" % tool.name)
            continue
        tool.reset_state()
        argv, env = tool.command(os.path.join(ctx.fast, "prime-md"), True,
                                 mark_seen=True)
        rc, wall, _, to = execute(ctx, argv, env, ctx.prime_timeout,
                                  os.path.join(ctx.work, "logs",
                                               "cache-prime"))
        if rc != 0 or to:
            note("pullmail --mark-seen failed: skipped")
            return results
        log("  marked %d seen in %.1f s" % (n, wall))
        snap = os.path.join(ctx.work, "snap", "cache-pullmail")
        tool.snapshot(snap)
        server_seed(ctx, new)
        for run in range(1, ctx.runs + 1):
            tool.reset_state(snap)
            md = os.path.join(deliver_root(ctx, ctx.tmpfs), "pullmail-md")
            r = timed_run(ctx, "cache", tool, run, md, keep=True,
                          expect_delivered=1, expect_server=n + 1)
            show_run(r)
            results.append(r)
            if os.path.lexists(md):
                shutil.rmtree(md)
    return results


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def busy_others(interval=1.0):
    """Processes other than ours that used >10% of a CPU over interval."""
    def snap():
        out = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    d = f.read()
                comm = d[d.index("(") + 1:d.rindex(")")]
                fl = d[d.rindex(")") + 2:].split()
                out[pid] = (comm, int(fl[11]) + int(fl[12]))
            except (OSError, ValueError, IndexError):
                pass
        return out
    a = snap()
    time.sleep(interval)
    b = snap()
    tck = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (comm, t) in b.items():
        if comm.startswith(("kworker", "ksoftirqd", "kdamond", "rcu_",
                            "jbd2", "migration")):
            continue        # kernel threads: mostly our own I/O
        if pid in a and pid != str(os.getpid()):
            pct = 100.0 * (t - a[pid][1]) / tck / interval
            if pct > 10:
                busy.append("%s %d%%" % (comm, pct))
    return ", ".join(busy)


def dir_bytes(path):
    return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())


# ---------------------------------------------------------------- reporting

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def summarize(results):
    """{(scenario, size, tool): summary dict} in first-seen order."""
    groups = {}
    for r in results:
        groups.setdefault((r.scenario, r.size, r.tool), []).append(r)
    out = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r.status == "ok"]
        s = {"runs": len(rs), "ok": len(ok),
             "wall": median([r.wall for r in ok]),
             "cpu": median([r.cpu for r in ok]),
             "user": median([r.user for r in ok]),
             "sys": median([r.sys for r in ok]),
             "rss_kb": median([r.rss_kb for r in ok]),
             "srv_cpu": median([r.srv_cpu for r in ok]),
             "status": "ok" if len(ok) == len(rs) else
             ("TIMEOUT" if any(r.status == "TIMEOUT" for r in rs)
              else "FAILED"),
             "detail": "; ".join(sorted({r.detail for r in rs if r.detail})),
             "messages": max([r.messages for r in ok], default=0)}
        if not ok:
            to = [r for r in rs if r.status == "TIMEOUT"]
            if to:
                s["wall_lb"] = min(r.wall for r in to)
        out[key] = s
    return out


def fmt(x, p=2):
    return "-" if x != x else "%.*f" % (p, x)


def ratio(a, b):
    if a != a or b != b or b == 0:
        return float("nan")
    return a / b


def print_tables(summ, scenarios):
    lines = []
    for scen in scenarios:
        keys = [k for k in summ if k[0] == scen]
        if not keys:
            continue
        sizes = []
        for k in keys:
            if k[1] not in sizes:
                sizes.append(k[1])
        for size in sizes:
            title = scen if size is None else "%s, %d messages" % (scen, size)
            lines.append("")
            lines.append("== %s (medians)" % title)
            lines.append("%-10s %5s %9s %8s %9s %8s %8s %9s  %s" % (
                "tool", "ok", "wall s", "CPU s", "RSS MB", "wall/pm",
                "CPU/pm", "srvCPU s", "notes"))
            ref = summ.get((scen, size, "pullmail"))
            for k in keys:
                if k[1] != size:
                    continue
                s = summ[k]
                wall = fmt(s["wall"])
                if s["ok"] == 0 and "wall_lb" in s:
                    wall = ">%.0f" % s["wall_lb"]
                rw = ratio(s["wall"], ref["wall"]) if ref else float("nan")
                rc = ratio(s["cpu"], ref["cpu"]) if ref else float("nan")
                if s["ok"] == 0 and "wall_lb" in s and ref:
                    rws = ">%.1f" % ratio(s["wall_lb"], ref["wall"])
                else:
                    rws = fmt(rw)
                notes = "" if s["status"] == "ok" else "%s %s" % (
                    s["status"], s["detail"])
                lines.append("%-10s %2d/%-2d %9s %8s %9s %8s %8s %9s  %s" % (
                    k[2], s["ok"], s["runs"], wall, fmt(s["cpu"]),
                    fmt(s["rss_kb"] / 1024, 1) if s["ok"] else "-",
                    rws, fmt(rc), fmt(s["srv_cpu"]), notes))
        if scen == "scale":
            for tool in ("pullmail", "bare"):
                per = [(size, summ[(scen, size, tool)]) for size in sizes
                       if (scen, size, tool) in summ and
                       summ[(scen, size, tool)]["ok"]]
                if len(per) == 2:
                    (n1, a), (n2, b) = per
                    lines.append(
                        "%s per message: %.3f ms wall / %.3f ms CPU at %d, "
                        "%.3f ms / %.3f ms at %d: ratio %.2f wall, %.2f CPU"
                        % (tool, 1000 * a["wall"] / n1, 1000 * a["cpu"] / n1,
                           n1, 1000 * b["wall"] / n2, 1000 * b["cpu"] / n2,
                           n2, (b["wall"] / n2) / (a["wall"] / n1),
                           (b["cpu"] / n2) / (a["cpu"] / n1)))
    text = "\n".join(lines)
    log(text)
    return text


def targets(summ):
    def get(scen, tool, size=None):
        s = summ.get((scen, size, tool))
        return s if s and s["ok"] else None

    rows = []

    def add(name, val, limit, what):
        if val != val:
            rows.append((name, "n/a", what))
        else:
            rows.append((name, "%s (%.2f, target <= %.2f)" % (
                "MET" if val <= limit else "MISSED", val, limit), what))

    pm, mp, bare = get("mixed", "pullmail"), get("mixed", "mpop"), \
        get("mixed", "bare")
    add("mixed: wall <= 0.6x mpop",
        ratio(pm["wall"], mp["wall"]) if pm and mp else float("nan"), 0.6,
        "pullmail wall / mpop wall")
    add("mixed: CPU <= 0.5x mpop",
        ratio(pm["cpu"], mp["cpu"]) if pm and mp else float("nan"), 0.5,
        "pullmail CPU / mpop CPU")
    add("mixed: wall <= 1.3x bare",
        ratio(pm["wall"], bare["wall"]) if pm and bare else float("nan"),
        1.3, "pullmail wall / bare wall")
    pm, mp = get("small", "pullmail"), get("small", "mpop")
    add("small: wall <= 0.5x mpop",
        ratio(pm["wall"], mp["wall"]) if pm and mp else float("nan"), 0.5,
        "pullmail wall / mpop wall")
    pm, mp = get("keep", "pullmail"), get("keep", "mpop")
    add("keep: wall <= 1.0x mpop",
        ratio(pm["wall"], mp["wall"]) if pm and mp else float("nan"), 1.0,
        "pullmail wall / mpop wall")
    sizes = sorted(k[1] for k in summ if k[0] == "scale" and
                   k[2] == "pullmail" and summ[k]["ok"])
    if len(sizes) == 2:
        a, b = summ[("scale", sizes[0], "pullmail")], \
            summ[("scale", sizes[1], "pullmail")]
        add("scale: per-message wall at %d <= 1.5x at %d" % (sizes[1],
                                                             sizes[0]),
            (b["wall"] / sizes[1]) / (a["wall"] / sizes[0]), 1.5,
            "per-message wall ratio")
    else:
        add("scale: per-message wall ratio", float("nan"), 1.5, "")
    s = get("bigmsg", "pullmail")
    add("bigmsg: peak RSS <= 8 MB", s["rss_kb"] / 1024 if s else
        float("nan"), 8, "MB")
    s = get("cache", "pullmail")
    add("cache: peak RSS <= 32 MB", s["rss_kb"] / 1024 if s else
        float("nan"), 32, "MB")
    lines = ["", "== targets (pullmail)"]
    for name, verdict, _ in rows:
        lines.append("%-44s %s" % (name, verdict))
    text = "\n".join(lines)
    log(text)
    return text


def write_tsv(path, results, summ, header):
    cols = ["scenario", "size", "tool", "run", "status", "wall_s", "cpu_s",
            "user_s", "sys_s", "maxrss_kb", "server_cpu_s", "messages",
            "detail"]
    with open(path, "w") as f:
        for h in header:
            f.write("# %s\n" % h)
        f.write("\t".join(cols) + "\n")
        for r in results:
            f.write("\t".join(str(x) for x in [
                r.scenario, r.size if r.size is not None else "", r.tool,
                r.run, r.status, "%.4f" % r.wall, "%.4f" % r.cpu,
                "%.4f" % r.user, "%.4f" % r.sys, r.rss_kb,
                "%.3f" % r.srv_cpu, r.messages,
                r.detail.replace("\t", " ")]) + "\n")
        def num(x, p):
            return "" if x != x else "%.*f" % (p, x)

        for (scen, size, tool), s in summ.items():
            f.write("\t".join(str(x) for x in [
                scen, size if size is not None else "", tool, "median",
                s["status"], num(s["wall"], 4), num(s["cpu"], 4),
                num(s["user"], 4), num(s["sys"], 4), num(s["rss_kb"], 0),
                num(s["srv_cpu"], 3), s["messages"],
                "%d/%d runs ok" % (s["ok"], s["runs"])]) + "\n")


# --------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="run.sh")
    ap.add_argument("--pullmail", required=True)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--scenario", nargs="+", action="extend", default=[])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--tools")
    ap.add_argument("--tmpfs", action="store_true")
    ap.add_argument("--timeout", type=int)
    ap.add_argument("--slow", type=int)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fast", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--bare", default="")
    ap.add_argument("--maildir-mda", default="")
    ap.add_argument("--rusage", default="")
    a = ap.parse_args()

    ctx = Ctx()
    ctx.current = None
    ctx.pullmail = os.path.abspath(a.pullmail)
    ctx.quick = a.quick
    ctx.qi = 1 if a.quick else 0
    ctx.runs = a.runs or 3
    ctx.timeout = a.timeout or (30 if a.quick else 120)
    ctx.prime_timeout = 1800
    ctx.slow = a.slow if a.slow is not None else (10 if a.quick else 60)
    ctx.tmpfs = a.tmpfs
    ctx.work = a.work
    ctx.fast = a.fast
    ctx.fast_kind = "tmpfs" if a.fast.startswith("/dev/shm") else a.fast
    ctx.cache = a.cache
    ctx.bare = a.bare
    ctx.maildir_mda = a.maildir_mda
    ctx.rusage = a.rusage
    ctx.getmail = shutil.which("getmail") or ""
    ctx.deliver = os.path.join(a.work, "deliver")
    ctx.clk_tck = os.sysconf("SC_CLK_TCK")
    env = os.environ
    ctx.server_dir = env["DOVECOT_DIR"]
    ctx.server_maildir = env["SERVER_MAILDIR"]
    ctx.port = int(env["POP3S_PORT"])
    ctx.user = env["POP3_USER"]
    ctx.password = env["POP3_PASS"]
    ctx.ca_file = env["CA_FILE"]
    ctx.dovecot_pid = int(env["DOVECOT_PID"])
    for d in (ctx.deliver, ctx.cache, os.path.join(ctx.work, "logs"),
              os.path.join(ctx.work, "tools"), os.path.join(ctx.work, "snap")):
        os.makedirs(d, exist_ok=True)
    for d in (ctx.work, ctx.deliver, os.path.join(ctx.work, "tools"),
              ctx.fast):
        os.chmod(d, 0o755)

    scenarios = a.scenario or SCENARIOS
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %s (one of: %s)" % (
                s, " ".join(SCENARIOS)))
    want = a.tools.split(",") if a.tools else ALL_TOOLS
    have, missing = available_tools(ctx)

    header = ["pullmail benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S"),
              "mode: %s, %d runs per tool (medians), per-run limit %d s, "
              "slow-tool limit %d s, deliveries on %s" % (
                  "quick" if a.quick else "full", ctx.runs, ctx.timeout,
                  ctx.slow,
                                    ctx.fast_kind if a.tmpfs else
                                    os.path.dirname(ctx.deliver)),
              "machine: %s, %d CPUs, load average at start %s" % (
                  os.uname().release, os.cpu_count(), loadavg())]
    for name in ALL_TOOLS:
        if name in have:
            try:
                header.append("%s: %s" % (name, have[name].version()))
            except (OSError, IndexError):
                header.append("%s: ?" % name)
    busy = busy_others()
    if busy:
        header.append("warning: other processes are using the CPU (%s): "
                      "the results will be noisy" % busy)
    log("== " + header[0])
    for h in header[1:]:
        log("   " + h)
    if not ctx.rusage:
        log("   note: no rusage helper (needs cc): peak RSS includes the "
            "~20 MB of the Python driver forked before exec")
    for name, why in missing.items():
        if name in want:
            log("   skipped %s: %s" % (name, why))

    def on_signal(sig, frame):
        p = ctx.current
        if p is not None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        sys.exit(128 + sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    results = []
    t_start = time.monotonic()
    for scen in scenarios:
        tools = [have[n] for n in SCENARIO_TOOLS[scen]
                 if n in have and n in want]
        log("")
        log("== scenario %s: %s" % (scen, ", ".join(t.name for t in tools)))
        t0 = time.monotonic()
        if not tools:
            note("no tool to run")
            continue
        try:
            results += globals()["scen_" + scen](ctx, tools)
        except Exception:           # report what was measured anyway
            import traceback
            traceback.print_exc()
            log("  scenario %s aborted" % scen)
        log("  (%s took %.0f s)" % (scen, time.monotonic() - t0))
        # reclaim the server's disk between scenarios
        server_reset(ctx)
    summ = summarize(results)
    text = print_tables(summ, scenarios)
    text += targets(summ)
    log("\ntotal %.0f s; load average at the end %s" % (
        time.monotonic() - t_start, loadavg()))
    header.append("load average at the end %s" % loadavg())
    busy = busy_others()
    if busy:
        log("warning: other processes were using the CPU at the end (%s)"
            % busy)
        header.append("warning: busy at the end: %s" % busy)
    if a.out:
        write_tsv(a.out, results, summ, header)
        log("results: %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
