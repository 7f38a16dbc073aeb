#!/usr/bin/python3
"""test_stall - 1,200 stalled connections under a 1,024 soft open-files limit
(issue 31.4).

The daemon starts under `prlimit --nofile=1024:HARD` (systemd's default soft
limit, a higher hard one). 1,200 clients connect to the milter socket and send
nothing. Before issue 31 the daemon ran out of descriptors: libmilter's listener
spun on a failing accept(), other MTA connections got nothing and /metrics did not
answer. Now it raises its soft limit to the hard one at start: the other
connections (tests/bench/loadgen, 16 connections) keep at least half their rate
and /metrics answers. Prints both rates.
"""
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AUTHMILTER, BUILDDIR, Milter, Results, free_port, tmpdir  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402

R = Results()
LOADGEN = os.path.join(BUILDDIR, "tests", "bench", "loadgen")
STALLED = 1200
MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\n"
       b"Subject: stall\r\n\r\nHello.\r\n")


def rate(m, total):
    path = os.path.join(tmpdir(), "msg.eml")
    with open(path, "wb") as f:
        f.write(MSG)
    p = subprocess.run([LOADGEN, "-s", m.socket, "-c", "16", "-n", str(total), "-m", "10",
                        "-a", "192.0.2.10", "-N", "mail.example.org", "-H",
                        "mail.example.org", "-f", "alice@example.org", "-r",
                        "bob@example.com", "-t", "10", path],
                       capture_output=True, text=True, timeout=300)
    last = [line for line in p.stdout.splitlines() if line.startswith("{")]
    res = json.loads(last[-1]) if last else {}
    return res.get("msgs_per_s", 0.0), res


def metrics_answers(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def stall(dns):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < STALLED * 2:
        R.skip("stall", "hard open-files limit %d too low for the test" % hard)
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (STALLED * 2 + 200, hard))
    port = free_port()
    conf = {"dns": {"nameservers": [dns.address]},
            "metrics": {"listen": "127.0.0.1:%d" % port}}
    m = Milter(conf, command=["prlimit", "--nofile=1024:%d" % hard, AUTHMILTER, "-c",
                              "{config}"])
    base, _ = rate(m, 3000)
    held = []
    path = m.socket[len("unix:"):]
    for _ in range(STALLED):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            break
        held.append(s)
    time.sleep(1)
    stalled, res = rate(m, 3000)
    answers = metrics_answers(port)
    print("# %d stalled connections (%d connected), soft limit 1024: %.0f msg/s "
          "before, %.0f msg/s with them (%s)" % (STALLED, len(held), base, stalled,
                                                 res.get("errors")))
    R.ok("with %d stalled connections the others keep >= 50%% of their rate "
         "(%.0f of %.0f msg/s)" % (STALLED, stalled, base), stalled >= base / 2,
         m.log_tail(5))
    R.ok("with %d stalled connections /metrics answers" % STALLED, answers)
    for s in held:
        s.close()
    R.eq("the daemon stops cleanly", m.stop(timeout=20), 0)


def main():
    with DNSServer([a("mail.example.org", "192.0.2.10"),
                    txt("example.org", "v=spf1 ip4:192.0.2.10 -all")],
                   ptrs=[("192.0.2.10", "mail.example.org")]) as dns:
        R.run("stall", stall, dns)
    R.exit()


if __name__ == "__main__":
    main()
