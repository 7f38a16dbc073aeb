#!/usr/bin/python3
"""test_dns_slow - a resolver that turns slow under load (issue 31.1).

16 connections of signed, DMARC-aligned inbound mail (tests/bench/loadgen) run through
the daemon; its dns.nameservers is a DelayProxy in front of the test unbound, and every
record has a TTL of 1 s, so lookups keep going to the resolver during a fault. The
proxy's delay is raised for FAULT_S seconds, then set back to 0. Counts come from the
daemon's /metrics (authmilter_messages_total{direction="inbound"}), read at the start
and the end of the fault and every 0.1 s after it.

  slow at 50% of dns.timeout: at most 5% of the messages ended in the fault tempfail
    (libunbound's defaults once tempfailed nearly all of them: its infra cache took the
    forwarder as timed out after 376 ms and answered SERVFAIL at once for seconds).
  slow at 80% of dns.timeout: at most 25% tempfail (a message may wait for a lookup
    already under way and then ask again).
  slow past dns.timeout: some mail tempfails (answers that come late still fill
    libunbound's cache, so not all), and single messages sent one after another
    through the fault each get their answer within dns.timeout plus a margin;
    after the fault, mail is accepted again within 2 s and no message that ends
    2 x dns.timeout after it tempfails.
Prints "# slow DNS ..." figures and "ok - NAME" / "not ok - NAME" per check."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, DelayProxy, a, ptr, txt  # noqa: E402
from harness import BUILDDIR, Milter, Results, free_port, run_miltc, tmpdir  # noqa: E402

R = Results()
LOADGEN = os.path.join(BUILDDIR, "tests", "bench", "loadgen")
KEYGEN = os.path.join(BUILDDIR, "milter", "authmilter-keygen")
CLIENT = "192.0.2.10"
TIMEOUT = 2             # dns.timeout, seconds
MARGIN = 1.5            # seconds a tempfail may take past dns.timeout
FAULT_S = 10            # how long the resolver is slow
CONNS = 16
TTL = 1                 # every record: lookups reach the resolver during the fault


def zone(keydir):
    """The records of good.example (TTL 1) and a key file signing for it."""
    p = subprocess.run([KEYGEN, "-a", "rsa", "-b", "2048", "-d", "good.example",
                        "-s", "r1", "-o", keydir], capture_output=True, text=True,
                       check=True)
    key = "".join(re.findall(r'"([^"]*)"', p.stdout))
    return [txt("r1._domainkey.good.example", key, ttl=TTL),
            a("mail.example.org", CLIENT, ttl=TTL),
            ptr("10.2.0.192.in-addr.arpa", "mail.example.org", ttl=TTL),
            txt("mail.example.org", "v=spf1 a -all", ttl=TTL),
            txt("good.example", "v=spf1 ip4:192.0.2.10 -all", ttl=TTL),
            txt("_dmarc.good.example", "v=DMARC1; p=reject", ttl=TTL)]


def config(dns_addr, keydir, port):
    return {"authserv_id": "mx.test.example",
            "internal_hosts": ["127.0.0.1/32"],
            "log": {"stderr": True, "level": "notice"},
            "dns": {"nameservers": [dns_addr], "timeout": TIMEOUT},
            "spf": {"on_temperror": "tempfail"},
            "dmarc": {"on_temperror": "tempfail"},
            "metrics": {"listen": "127.0.0.1:%d" % port},
            "dkim": {'key "good"': {"domain": "good.example", "selector": "r1",
                                    "file": os.path.join(keydir, "r1.good.example.key")}}}


def inbound_counts(port):
    """{action: count} of inbound messages ended so far, from /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        page = r.read().decode()
    out = {}
    for m in re.finditer(r'^authmilter_messages_total\{direction="inbound",'
                         r'action="(\w+)"\} (\d+)', page, re.M):
        out[m.group(1)] = int(m.group(2))
    return out


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}


def send(m, qid, msg):
    return run_miltc(m.socket, msg, check=False, client_addr=CLIENT,
                     client_name="mail.example.org", helo="mail.example.org",
                     mail_from="alice@good.example", rcpts=["bob@example.com"],
                     queue_id=qid, run_timeout=60)


def loadgen(m, msgfile):
    """Signed inbound mail at CONNS connections until killed."""
    argv = [LOADGEN, "-s", m.socket, "-c", str(CONNS), "-n", "10000000", "-m", "20",
            "-a", CLIENT, "-N", "mail.example.org", "-H", "mail.example.org",
            "-f", "alice@good.example", "-r", "bob@example.com", "-t", "30", msgfile]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def recovery(port, t_end, base, seconds):
    """Sample the counters every 0.1 s for seconds after t_end. Returns the time
    after t_end of the first accept, and the counts of messages ended from
    2 x TIMEOUT + 0.5 s after t_end on."""
    first_accept = None
    late_base = None
    prev = base
    while time.monotonic() < t_end + seconds:
        time.sleep(0.1)
        now = inbound_counts(port)
        t = time.monotonic() - t_end
        if first_accept is None and now.get("accept", 0) > prev.get("accept", 0):
            first_accept = t
        if late_base is None and t >= 2 * TIMEOUT + 0.5:
            late_base = now
        prev = now
    return first_accept, delta(prev, late_base or prev)


def probes(m, msg, until, out):
    """Single messages one after another until `until`; (action, seconds) each."""
    i = 0
    while time.monotonic() < until:
        i += 1
        t0 = time.monotonic()
        res = send(m, "QPROBE%d" % i, msg)
        out.append((res["action"], time.monotonic() - t0))


def fault(m, port, proxy, delay, msg):
    """Slow the resolver by delay seconds for FAULT_S; the figures."""
    before = inbound_counts(port)
    probe = []
    pt = threading.Thread(target=probes,
                          args=(m, msg, time.monotonic() + FAULT_S - 0.5, probe))
    proxy.delay = delay
    pt.start()
    time.sleep(FAULT_S)
    during = delta(inbound_counts(port), before)
    proxy.delay = 0
    t_end = time.monotonic()
    first_accept, late = recovery(port, t_end, inbound_counts(port), 2 * TIMEOUT + 3)
    pt.join(60)
    total = sum(during.values())
    frac = during.get("tempfail", 0) / total if total else 1.0
    print("# slow DNS %.1f s (dns.timeout %d s): %d messages in %d s, %d tempfailed "
          "(%.1f%%); first accept %.2f s after; %d single messages, slowest %.2f s"
          % (delay, TIMEOUT, total, FAULT_S, during.get("tempfail", 0), 100 * frac,
             first_accept if first_accept is not None else -1, len(probe),
             max(s for _a, s in probe)), flush=True)
    return total, frac, first_accept, late, probe


def signed_message(m, d):
    """A message from good.example signed by the daemon itself (outbound)."""
    plain = (b"From: Alice <alice@good.example>\r\nTo: bob@example.com\r\n"
             b"Subject: slow dns\r\nDate: Sat, 21 Nov 2026 12:00:00 +0000\r\n"
             b"Message-ID: <slow@good.example>\r\n\r\n"
             + b"A line of the message body.\r\n" * 20)
    res = run_miltc(m.socket, plain, client_addr="127.0.0.1", client_name="localhost",
                    mail_from="alice@good.example", rcpts=["bob@example.com"],
                    output=True)
    path = os.path.join(d, "signed.eml")
    with open(path, "wb") as f:
        f.write(res["output"])
    return res["output"], path


def cases(m, port, proxy, msg):
    total, frac, first, _late, _p = fault(m, port, proxy, 0.5 * TIMEOUT, msg)
    R.ok("resolver slow at 50%% of dns.timeout: %.1f%% of %d messages tempfailed "
         "(at most 5%%)" % (100 * frac, total), total > 0 and frac <= 0.05)
    time.sleep(3)
    total, frac, first, _late, _p = fault(m, port, proxy, 0.8 * TIMEOUT, msg)
    R.ok("resolver slow at 80%% of dns.timeout: %.1f%% of %d messages tempfailed "
         "(at most 25%%)" % (100 * frac, total), total > 0 and frac <= 0.25)
    time.sleep(3)
    total, frac, first, late, probe = fault(m, port, proxy, TIMEOUT + 1, msg)
    R.ok("resolver slower than dns.timeout: messages tempfailed (%.1f%% of %d)"
         % (100 * frac, total), frac > 0)
    slow = [(a, s) for a, s in probe if s >= TIMEOUT + MARGIN]
    R.ok("resolver slower than dns.timeout: every single message answered within "
         "dns.timeout + %.1f s (%d sent, %d tempfailed, slower: %s)"
         % (MARGIN, len(probe), sum(a == "tempfail" for a, _s in probe), slow),
         probe and not slow)
    R.ok("resolver fast again: mail accepted within 2 s (%s s)"
         % ("%.2f" % first if first is not None else "never"),
         first is not None and first <= 2.0)
    R.ok("resolver fast again: from 2 x dns.timeout on, no tempfail (%s)" % late,
         late.get("accept", 0) > 0 and late.get("tempfail", 0) == 0)


def main():
    d = tmpdir()
    keydir = os.path.join(d, "keys")
    os.mkdir(keydir, 0o700)
    port = free_port()
    with DNSServer(zone(keydir)) as dns, DelayProxy(dns.port, 0) as proxy:
        with Milter(config(proxy.address, keydir, port)) as m:
            msg, path = signed_message(m, d)
            res = send(m, "QCHECK", msg)
            R.ok("the signed inbound message is accepted (dkim, dmarc pass)",
                 res["action"] == "accept", res["reply"])
            p = loadgen(m, path)
            try:
                time.sleep(3)       # warm: threads, caches
                cases(m, port, proxy, msg)
            finally:
                p.send_signal(signal.SIGKILL)
                p.communicate(timeout=30)
            R.ok("daemon up after the faults", m.running())
            R.eq("daemon stops cleanly", m.stop(), 0)
    R.exit()


if __name__ == "__main__":
    main()
