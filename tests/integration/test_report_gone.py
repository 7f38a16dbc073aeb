#!/usr/bin/python3
"""test_report_gone - the SQLite report database deleted under load (issue 31.2).

16 connections of DMARC-passing inbound mail (tests/bench/loadgen; one report row
each) run through the daemon with report.database = sqlite:DIR/reports.db. Once rows
are in the file, a reader here opens it (so the rows already written stay countable
through its open handles) and the test deletes reports.db, reports.db-wal and
reports.db-shm, as an operator's rm or a logrotate-style move would. After the
load the daemon is stopped.

Checks: the log says the database was deleted and opened again; the path holds a
new database with the rows written after the deletion; rows in the deleted file
plus rows in the new one = the rows the writer's stop line says it wrote = the
messages accepted; nothing dropped. (Before the fix the writer kept writing into
the deleted file: no new file, every later row lost without a word.)
Prints "ok - NAME" / "not ok - NAME" per check."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, txt  # noqa: E402
from harness import BUILDDIR, Milter, Results, tmpdir  # noqa: E402

R = Results()
LOADGEN = os.path.join(BUILDDIR, "tests", "bench", "loadgen")
CLIENT = "192.0.2.10"
TOTAL = 30000
CONNS = 16
RECORDS = [a("mail.example.org", CLIENT),
           txt("example.org", "v=spf1 ip4:%s -all" % CLIENT),
           txt("_dmarc.example.org", "v=DMARC1; p=reject; rua=mailto:d@rua.example")]
MSG = (b"From: <user@example.org>\r\nTo: <rcpt@mx.test.example>\r\nSubject: gone\r\n"
       b"Date: Mon, 30 Nov 2026 22:00:00 +0000\r\nMessage-ID: <gone@test>\r\n\r\n"
       b"body\r\n")


def write_key(d):
    """A signing key for the report mail's domain (report.email must be ours)."""
    with open("/usr/lib/python3/dist-packages/dkim/tests/data/2048_testkey.key",
              "rb") as f:
        key = f.read()
    path = os.path.join(d, "reports.key")
    with open(path, "wb") as f:
        f.write(key)
    os.chmod(path, 0o600)
    return path


def count(db):
    return db.execute("SELECT count(*) FROM report_rows").fetchone()[0]


def wait_rows(path, n, timeout=60):
    """A connection to path once it holds at least n rows (None on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            db = sqlite3.connect(path, timeout=5)
            if count(db) >= n:
                return db
            db.close()
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    return None


def main():
    d = tmpdir()
    path = os.path.join(d, "reports.db")
    msgfile = os.path.join(d, "msg.eml")
    with open(msgfile, "wb") as f:
        f.write(MSG)
    with DNSServer(RECORDS) as dns:
        m = Milter({"authserv_id": "mx.test.example",
                    "internal_hosts": ["127.0.0.1/32"],
                    "log": {"stderr": True, "level": "info"},
                    "dns": {"nameservers": [dns.address], "timeout": 2},
                    "dkim": {'key "reports"': {"domain": "reports.test.example",
                                               "selector": "s", "file": write_key(d)}},
                    "report": {"enable": True, "database": "sqlite:" + path,
                               "email": "dmarc@reports.test.example"}})
        p = subprocess.Popen([LOADGEN, "-s", m.socket, "-c", str(CONNS), "-n", str(TOTAL),
                              "-m", "20", "-a", CLIENT, "-N", "mail.example.org",
                              "-H", "mail.example.org", "-f", "a@example.org",
                              "-r", "rcpt@mx.test.example", "-t", "30", msgfile],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        old = wait_rows(path, 2000)
        R.ok("rows are written to the database under load", old is not None)
        if old is None:
            p.kill()
            m.stop()
            R.exit()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass
        still = p.poll() is None
        out, err = p.communicate(timeout=600)
        lg = json.loads([x for x in out.splitlines() if x.startswith("{")][-1])
        R.ok("the deletion happened under load (loadgen still running)", still)
        R.ok("loadgen: %d messages, all accepted, 0 errors" % TOTAL,
             lg.get("errors") == 0 and lg.get("actions", {}).get("accept") == TOTAL,
             (out + err)[-300:])
        R.eq("daemon stops cleanly", m.stop(), 0)
        stopped = m.wait_log(r"report: writer stopped", 1) or ""
        sm = re.search(r"(\d+) rows written, (\d+) dropped", stopped)
        written, dropped = (int(sm.group(1)), int(sm.group(2))) if sm else (-1, -1)
        line = m.wait_log(r"report: sqlite:.*reports\.db was deleted: opened it again", 1)
        R.ok("the log says the database was deleted and opened again", line is not None,
             m.log_tail(10))
        new_rows = -1
        if os.path.exists(path):
            new = sqlite3.connect(path)
            new_rows = count(new)
            new.close()
        old_rows = count(old)
        old.close()
        print("# %d rows in the deleted file, %d in the new one; writer: %d written, "
              "%d dropped" % (old_rows, new_rows, written, dropped), flush=True)
        R.ok("a new database at the path holds the rows written after the deletion "
             "(%d)" % new_rows, new_rows > 0)
        R.ok("deleted file + new file = rows written = messages (%d + %d = %d = %d)"
             % (old_rows, new_rows, written, TOTAL),
             old_rows + new_rows == written == TOTAL and dropped == 0, stopped)
    R.exit()


if __name__ == "__main__":
    main()
