#!/usr/bin/python3
"""test_report_killed - report rows queued at a SIGKILL are counted at the next
start (issue 31.5).

The daemon records report rows into sqlite:DIR/reports.db. The test holds an
exclusive lock on that database (BEGIN EXCLUSIVE from here), so the writer cannot
insert and every row waits in its queue; it sends N DMARC-passing messages, each
one row, and kills the daemon with SIGKILL. The lock is released and the daemon
started again on the same database. Checks: the new daemon's log says exactly N
rows were still queued and are lost; the database holds no row (nothing was
written); the dropped-rows counter on /metrics counts them; a clean stop after
that leaves nothing to report at the following start (the count is not said
twice). Before the fix nothing at all was said of those rows.
Prints "ok - NAME" / "not ok - NAME" per check."""

import os
import re
import signal
import sqlite3
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, txt  # noqa: E402
from harness import Milter, Results, free_port, run_miltc, tmpdir  # noqa: E402

R = Results()
CLIENT = "192.0.2.10"
N = 25
RECORDS = [a("mail.example.org", CLIENT),
           txt("example.org", "v=spf1 ip4:%s -all" % CLIENT),
           txt("_dmarc.example.org", "v=DMARC1; p=reject; rua=mailto:d@rua.example")]
MSG = (b"From: <user@example.org>\r\nTo: <rcpt@mx.test.example>\r\nSubject: killed\r\n"
       b"Date: Mon, 30 Nov 2026 22:00:00 +0000\r\nMessage-ID: <killed@test>\r\n\r\n"
       b"body\r\n")


def config(d, dns, path, port):
    """Recording into path; report.email's domain has no key here (a warning only)."""
    return {"authserv_id": "mx.test.example",
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "metrics": {"listen": "127.0.0.1:%d" % port},
            "report": {"enable": True, "database": "sqlite:" + path,
                       "email": "dmarc@reports.test.example"}}


def dropped(port):
    page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                  timeout=5).read().decode()
    m = re.search(r'^authmilter_report_rows_total\{outcome="dropped"\} (\d+)', page, re.M)
    return int(m.group(1)) if m else None


def main():
    d = tmpdir()
    path = os.path.join(d, "reports.db")
    port = free_port()
    with DNSServer(RECORDS) as dns:
        m = Milter(config(d, dns, path, port))
        R.ok("the writer opened the database",
             m.wait_log(r"report: writing report rows to sqlite:", 5) is not None,
             m.log_tail())
        lock = sqlite3.connect(path, timeout=5, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        accepted = 0
        for i in range(N):
            r = run_miltc(m.socket, MSG, client_addr=CLIENT, client_name="mail.example.org",
                          helo="mail.example.org", mail_from="a@example.org",
                          rcpts=["rcpt@mx.test.example"])
            accepted += r.get("action") == "accept"
        R.eq("%d messages accepted while the database is locked" % N, accepted, N)
        m.signal(signal.SIGKILL)
        m.proc.wait(10)
        lock.execute("ROLLBACK")
        lock.close()

        m2 = Milter(config(d, dns, path, port))
        line = m2.wait_log(r"report rows for sqlite:.* were still queued when the "
                           r"daemon last ended without a stop", 5)
        R.ok("the next start says rows were lost to the kill", line is not None,
             m2.log_tail())
        got = re.search(r"report: (\d+) report rows", line or "")
        R.eq("it counts exactly the %d queued rows" % N,
             int(got.group(1)) if got else None, N)
        R.eq("/metrics counts them as dropped", dropped(port), N)
        db = sqlite3.connect(path)
        R.eq("no row reached the database", db.execute(
            "SELECT count(*) FROM report_rows").fetchone()[0], 0)
        db.close()
        R.eq("daemon stops cleanly", m2.stop(), 0)

        m3 = Milter(config(d, dns, path, port))
        R.ok("the writer opened the database again",
             m3.wait_log(r"report: writing report rows to sqlite:", 5) is not None)
        R.ok("after a clean stop nothing is said of lost rows",
             not any("still queued" in x for x in m3.log_lines()), m3.log_tail())
        R.eq("daemon stops cleanly", m3.stop(), 0)
    R.exit()


if __name__ == "__main__":
    main()
