#!/usr/bin/python3
"""test_rotate - DKIM key rotation end to end (issue 27).

A year walked in `authmilter-keygen --rotate --now` steps against a real unbound
on loopback that serves exactly what the tool's --zone file says, updated (a new
unbound, the daemon's dns.nameservers pointed at it) only when the tool exits 1
asking for a change. At every step the real daemon, reloaded with SIGUSR1, signs
a message, and dkimpy verifies it against the DNS of that moment; messages signed
within retire_after still verify. Checked: the signing selector changes after
each interval; no step signs with a key whose record is not published, or was
published less than publish_wait before; withheld publication leaves the old
key signing and the successor never signing; SIGKILL after any file operation of
a run (the AUTHMILTER_ROTATE_CRASH_AFTER test hook) leaves a state the next run
completes as a run that was never killed would have; the daemon never loads a
key of that state that is not in DNS; a second run waits out a held lock.
"""
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Milter, Results, run_miltc  # noqa: E402
from dnsserver import DNSServer, dkim_verify_all, txt  # noqa: E402


KEYGEN = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")
DAY = 86400
T0 = 1800000000                 # 2027-01-15
INTERVAL, PUBLISH_WAIT, RETIRE_AFTER = 90 * DAY, 2 * DAY, 7 * DAY
STEP = 2 * DAY
DOMAIN = "example.com"


def zone_records(path):
    """The zone file's TXT records as unbound local-data, with their selectors."""
    recs, sels = [], []
    with open(path) as f:
        for line in f:
            m = re.match(r"^(\S+)\s+IN\s+TXT\s+\((.*)\)", line)
            if m:
                recs.append(txt(m.group(1), re.findall(r'"([^"]*)"', m.group(2))))
                sels.append(m.group(1).split(".")[0])
    return recs, sels


class World:
    """The keys directory, the tool's config (the daemon's), the DNS."""

    def __init__(self, top, name):
        self.dir = os.path.join(top, name)
        self.keys = os.path.join(self.dir, "keys")
        os.makedirs(self.keys, 0o700)
        self.zone = os.path.join(self.dir, "zone")
        self.dns = None
        self.published = {}     # selector -> when the test published it
        self.served = []        # selectors DNS serves now
        self.extra = {}
        records = []
        for alg, sel in (("rsa", "r0"), ("ed25519", "e0")):
            p = subprocess.run([KEYGEN, "-a", alg, "-d", DOMAIN, "-s", sel, "-o",
                                self.keys], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=True)
            out = p.stdout.decode()
            records.append(txt(out.split()[0], re.findall(r'"([^"]*)"', out)))
            self.published[sel] = T0 - 30 * DAY
        self.serve(records, ["r0", "e0"])

    def serve(self, records, sels):
        if self.dns is not None:
            self.dns.cleanup()
        self.dns = DNSServer(records)
        self.served = list(sels)

    def config(self):
        return {"authserv_id": "mx.test.example",
                "dns": {"nameservers": [self.dns.address], "timeout": 2},
                "dkim": {"keys_directory": self.keys,
                         "rotate": {"enable": True, "interval": "90d",
                                    "publish_wait": str(PUBLISH_WAIT),
                                    "retire_after": "7d"}}, **self.extra}

    def write_conf(self, path):
        with open(path, "w") as f:
            f.write(harness.conf_text(dict(self.config(), user="")) + "\n")


def rotate(conf, now, zone=None, env=None, keys=None):
    argv = [KEYGEN, "--rotate", "-c", conf, "--now", str(now)]
    if zone:
        argv += ["--zone", zone]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=dict(os.environ, **(env or {})), timeout=120)
    return p.returncode, p.stdout.decode()


def sign(m, now):
    """The signed message and the (s, a) of its signatures."""
    msg = ("From: a@%s\nTo: b@example.net\nSubject: step %d\n"
           "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <%d@test.example>\n\n"
           "Hello.\n" % (DOMAIN, now, now)).encode()
    r = run_miltc(m.socket, msg, client_addr="127.0.0.1", mail_from="a@" + DOMAIN,
                  rcpts=["b@example.net"], output=True)
    sigs = []
    for name, value in r["added"]:
        if name == "DKIM-Signature":
            tags = dict((k.strip(), re.sub(r"\s+", "", v)) for k, _, v in
                        (x.partition("=") for x in value.split(";")))
            sigs.append((tags.get("s"), tags.get("a")))
    return r["output"] or b"", sigs


def reload(m):
    n = len(m.log_lines())
    m.reload()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(re.search(r"reloaded |reload refused", x) for x in m.log_lines()[n:]):
            return True
        time.sleep(0.02)
    return False


def walk(t, w, m, days, publish, label):
    """Walk days; returns the rsa selectors in signing order."""
    order, kept, errors = [], [], []
    asks = 0
    for now in range(T0, T0 + days * DAY, STEP):
        rc, out = rotate(m.config_path, now, w.zone)
        if rc == 2:
            errors.append("%d: exit 2: %s" % (now, out))
            break
        if rc == 1:
            asks += 1
            if publish:
                recs, sels = zone_records(w.zone)
                for s in sels:
                    w.published.setdefault(s, now)
                w.serve(recs, sels)
                m.write_config(w.config())
        if not reload(m):
            errors.append("%d: no reload: %s" % (now, m.log_tail(3)))
            break
        out, sigs = sign(m, now)
        for s, a in sigs:
            if s not in w.served:
                errors.append("%d: signed with %s, not in DNS" % (now, s))
            elif now - w.published[s] < PUBLISH_WAIT:
                errors.append("%d: signed with %s published %ds before" %
                              (now, s, now - w.published[s]))
        if sorted(a for _, a in sigs) != ["ed25519-sha256", "rsa-sha256"]:
            errors.append("%d: signatures %s" % (now, sigs))
        if not all(dkim_verify_all(out, w.dns.port)):
            errors.append("%d: dkimpy: %s for %s" % (now, dkim_verify_all(out, w.dns.port),
                                                     sigs))
        rsa = [s for s, a in sigs if a == "rsa-sha256"]
        if rsa and (not order or order[-1][0] != rsa[0]):
            order.append((rsa[0], now))
        # mail signed within retire_after still verifies
        kept = [(n, o) for n, o in kept if now - n <= RETIRE_AFTER] + [(now, out)]
        for n, o in kept:
            if not all(dkim_verify_all(o, w.dns.port)):
                errors.append("%d: mail signed at %d no longer verifies" % (now, n))
    t.ok("%s: every step signed with published keys and verified" % label,
         not errors, "\n".join(errors[:8]))
    return order, asks


def key_metrics(port):
    import urllib.request
    page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    return dict(re.findall(r'^authmilter_dkim_keys\{state="(\w+)"\} (\d+)$',
                           page.decode(), re.M)), page.decode()


def year_case(t, top):
    w = World(top, "year")
    port = harness.free_port()
    w.extra = {"metrics": {"listen": "127.0.0.1:%d" % port}}
    with Milter(w.config()) as m:
        order, asks = walk(t, w, m, 365, True, "year")
        with open(os.path.join(w.keys, ".rotate", "state")) as f:
            states = re.findall(r"^\S+ \S+ \S+ (\w+) ", f.read(), re.M)
        got, page = key_metrics(port)
        want = dict((s, str(states.count(s) if s != "active" else 2))
                    for s in ("pending", "active", "retired", "withdrawn"))
        t.eq("metrics: keys by state as the state file has them", got, want)
        t.ok("metrics: the oldest active key's age, no per-domain key series",
             re.search(r"^authmilter_dkim_oldest_active_key_age_seconds \d+$", page,
                       re.M) and not re.search(r"authmilter_dkim_keys\{[^}]*domain",
                                               page), page[-600:])
    sels = [s for s, _ in order]
    t.ok("year: the rsa selector changed after each interval (%s)" % sels,
         len(sels) >= 4 and len(set(sels)) == len(sels) and
         all(b - a >= INTERVAL for (_, a), (_, b) in zip(order, order[1:])) and
         all(b - a <= INTERVAL + PUBLISH_WAIT + 3 * STEP
             for (_, a), (_, b) in zip(order[1:], order[2:])), order)
    t.ok("year: the tool asked for DNS changes (%d times)" % asks, asks >= 6)
    left = sorted(os.listdir(os.path.join(w.keys, ".rotate")))
    t.ok("year: withdrawn keys left the directory (%s)" % left,
         len([x for x in left if x.endswith(".key")]) <= 4, left)
    w.dns.cleanup()


def withheld_case(t, top):
    w = World(top, "withheld")
    with Milter(w.config()) as m:
        order, asks = walk(t, w, m, 120, False, "withheld")
    t.eq("withheld: the old key signed all along", [s for s, _ in order], ["r0"])
    rc, out = rotate(m.config_path, T0 + 120 * DAY)
    t.ok("withheld: the tool still asks for the successor (exit 1)",
         rc == 1 and re.search(r"^publish: r\d{8}\._domainkey\.example\.com\. IN TXT",
                               out, re.M), out)
    check = os.path.join(harness.BUILDDIR, "milter", "authmilter-check")
    p = subprocess.run([check, "-c", m.config_path, "-d", DOMAIN], capture_output=True,
                       text=True, timeout=120)
    t.ok("check: the signing keys of the directory match DNS, the pending ones are "
         "not yet published",
         re.search(r"^ok   dkim r0\._domainkey\.example\.com: publishes the key", p.stdout,
                   re.M) and
         re.search(r"^warn dkim r\d{8}\._domainkey\.example\.com \(pending\): not yet "
                   r"published", p.stdout, re.M) and
         re.search(r"^\s+publish: e\d{8}\._domainkey\.example\.com\. IN TXT", p.stdout,
                   re.M), p.stdout)
    # the retired key's record withdrawn too early, a withdrawn one still there
    state = os.path.join(w.keys, ".rotate", "state")
    with open(state) as f:
        text = f.read()
    with open(state, "w") as f:
        f.write(re.sub(r"(example\.com r\d{8} rsa) pending", r"\1 retired", text))
    p = subprocess.run([check, "-c", m.config_path, "-d", DOMAIN], capture_output=True,
                       text=True, timeout=120)
    t.ok("check: a retired key whose record is gone: withdrawn too early (exit 1)",
         p.returncode == 1 and
         re.search(r"^FAIL dkim r\d{8}\._domainkey\.example\.com \(retired\): withdrawn "
                   r"too early", p.stdout, re.M), p.stdout)
    with open(state, "w") as f:
        f.write(text)
    w.dns.cleanup()


def snapshot(keys):
    """What a run leaves: the state file's lines and the file names."""
    state = ""
    p = os.path.join(keys, ".rotate", "state")
    if os.path.exists(p):
        with open(p) as f:
            state = f.read()
    rdir = os.path.join(keys, ".rotate")
    names = sorted(os.listdir(keys)) + sorted(
        "R/" + x for x in (os.listdir(rdir) if os.path.isdir(rdir) else [])
        if x.endswith(".key"))
    return state, names


def crash_case(t, top):
    """At each step that changes anything, kill the run after its 1st, 2nd, ...
    file operation, then run again: the result is the clean run's."""
    w = World(top, "crash")
    conf = os.path.join(w.dir, "milter.conf")
    w.write_conf(conf)
    errors, kills = [], 0
    for now in range(T0, T0 + 200 * DAY, STEP):
        ref = os.path.join(w.dir, "ref")
        shutil.rmtree(ref, ignore_errors=True)
        shutil.copytree(w.keys, ref, symlinks=True)
        rc_ref, out_ref = rotate(conf, now, w.zone)
        after = snapshot(w.keys)
        before_keys = os.path.join(w.dir, "before")
        shutil.rmtree(before_keys, ignore_errors=True)
        shutil.move(ref, before_keys)
        if snapshot(before_keys)[0] != after[0]:
            for n in range(1, 40):
                trial = os.path.join(w.dir, "trial")
                shutil.rmtree(trial, ignore_errors=True)
                shutil.copytree(before_keys, trial, symlinks=True)
                tconf = os.path.join(w.dir, "trial.conf")
                with open(conf) as f:
                    text = f.read().replace(w.keys, trial)
                with open(tconf, "w") as f:
                    f.write(text)
                rc, out = rotate(tconf, now, env={"AUTHMILTER_ROTATE_CRASH_AFTER": str(n)})
                if rc != -signal.SIGKILL:
                    break
                kills += 1
                live = [x for x in os.listdir(trial) if x.endswith(".key")]
                for x in live:
                    if x.split(".")[0] not in w.served:
                        errors.append("%d op %d: %s signs but is not in DNS" % (now, n, x))
                rc2, out2 = rotate(tconf, now)
                got = snapshot(trial)
                if rc2 != rc_ref or got != (after[0].replace(w.keys, trial), after[1]):
                    errors.append("%d op %d: rerun gave %d %s, clean run %d %s" %
                                  (now, n, rc2, got, rc_ref, after))
        if rc_ref == 1:
            recs, sels = zone_records(w.zone)
            w.serve(recs, sels)
            w.write_conf(conf)
        if rc_ref == 2:
            errors.append("%d: %s" % (now, out_ref))
            break
    t.ok("crash: %d kills, each completed by the next run" % kills,
         not errors and kills >= 10, "\n".join(errors[:6]))

    # a held lock: a second run does nothing and says why
    before = snapshot(w.keys)
    with open(os.path.join(w.keys, ".rotate", "lock")) as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        rc, out = rotate(conf, T0 + 400 * DAY)
    t.ok("lock held: exit 2, nothing changed", rc == 2 and "another" in out and
         snapshot(w.keys) == before, out)
    w.dns.cleanup()


def main():
    t = Results()
    top = harness.tmpdir()
    t.run("year", year_case, t, top)
    t.run("withheld", withheld_case, t, top)
    t.run("crash", crash_case, t, top)
    t.exit()


if __name__ == "__main__":
    main()
