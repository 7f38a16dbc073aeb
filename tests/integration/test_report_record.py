#!/usr/bin/python3
"""test_report_record - DMARC report rows recorded by the real daemon (issue 16).

Messages go through the daemon (tests/lib/miltc) with a real unbound on loopback
serving the DMARC, SPF and DKIM records; with report.enable on, the rows in the
SQLite database must match the messages sent: one per message DMARC judged
(pass, reject, quarantine, none, t=y, DKIM pass, the null sender), none for a
domain without a record, field by field.

Then the bad databases: a database another process holds locked (sqlite3 with
BEGIN EXCLUSIVE) with a small queue - mail is still answered promptly, the drop
count is logged, and once the lock goes the writer catches up; a database in a
directory that does not exist, a file that is not a database, a full file system
(a 512 KB tmpfs) - each gives a clear log line and mail flows. An email in a
domain we do not sign for stops the start, naming the line; a reload turns
recording on and off.

Last, a real PostgreSQL: a private cluster started here with initdb/pg_ctl on a
unix socket in a temporary directory (no TCP); the store's unit tests run against
it, and two daemons write into one database at once: every row arrives. Skipped
(counted as skipped) only when the PostgreSQL binaries are absent.

Run: AUTHMILTER_BUILDDIR=build AUTHMILTER_SRCDIR=. tests/integration/test_report_record.py
"""
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR, Milter, MilterError, Results, run_miltc, tmpdir  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402
import pgcluster  # noqa: E402

import dkim  # noqa: E402

AUTHSERV = "mx.test.example"
DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"

with open(os.path.join(DKIMPY_DATA, "2048_testkey.key"), "rb") as f:
    RSA_KEY = f.read()
with open(os.path.join(DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt")) as f:
    RSA_PUB = f.read().strip()

IP_GOOD = "192.0.2.10"      # in every SPF record below
IP_BAD = "192.0.2.99"       # in none
RUA = "mailto:dmarc@rua.example"
RECORDS = [
    a("mail.example.org", IP_GOOD),
    txt("example.org", "v=spf1 ip4:%s -all" % IP_GOOD),
    txt("_dmarc.example.org", "v=DMARC1; p=reject; rua=%s; fo=1" % RUA),
    txt("sel._domainkey.example.org", RSA_PUB),
    txt("example.net", "v=spf1 ip4:%s ~all" % IP_GOOD),
    txt("_dmarc.example.net", "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=%s" % RUA),
    txt("example.com", "v=spf1 ip4:%s ~all" % IP_GOOD),
    txt("_dmarc.example.com", "v=DMARC1; p=none; rua=%s" % RUA),
    txt("testing.example", "v=spf1 ip4:%s ~all" % IP_GOOD),
    txt("strict.example", "v=spf1 ip4:%s -all" % IP_GOOD),
    txt("_dmarc.strict.example", "v=DMARC1; p=none; rua=%s" % RUA),
    txt("_dmarc.testing.example", "v=DMARC1; p=reject; sp=none; np=quarantine; t=y"),
    txt("norecord.example", "v=spf1 ip4:%s -all" % IP_GOOD),
]

R = Results()


def message(frm, n=0, signed=False):
    m = ("From: <user@%s>\nTo: <rcpt@mx.test.example>\nSubject: report %d\n"
         "Date: Mon, 30 Nov 2026 22:00:00 +0000\nMessage-ID: <%d.%s@test>\n\n"
         "body %d\n" % (frm, n, n, frm, n)).encode()
    if signed:
        m = dkim.sign(m, b"sel", frm.encode(), RSA_KEY,
                      include_headers=[b"from", b"to", b"subject", b"date"]) + m
    return m


# name, From domain, client, MAIL FROM, signed, count, (action, disposition,
#   reasons, dkim_aligned, spf_aligned, spf_scope, dkim, spf_domain, spf_result)
CASES = [
    ("pass", "example.org", IP_GOOD, "a@example.org", False, 3,
     ("accept", "pass", "", "fail", "pass", "mfrom", "", "example.org", "pass")),
    ("reject", "example.org", IP_BAD, "a@example.org", False, 2,
     ("reject", "reject", "", "fail", "fail", "mfrom", "", "example.org", "fail")),
    ("quarantine", "example.net", IP_BAD, "a@example.net", False, 2,
     ("quarantine", "quarantine", "", "fail", "fail", "mfrom", "", "example.net",
      "softfail")),
    ("none", "example.com", IP_BAD, "a@example.com", False, 2,
     ("accept", "none", "", "fail", "fail", "mfrom", "", "example.com", "softfail")),
    ("t=y", "testing.example", IP_BAD, "a@testing.example", False, 1,
     ("quarantine", "quarantine", "policy_test_mode", "fail", "fail", "mfrom", "",
      "testing.example", "softfail")),
    # p=none, but spf.on_fail (reject) refused it: our local policy
    ("local policy", "strict.example", IP_BAD, "a@strict.example", False, 1,
     ("reject", "reject", "local_policy", "fail", "fail", "mfrom", "", "strict.example",
      "fail")),
    ("dkim", "example.org", IP_BAD, "a@other.example", True, 1,
     ("accept", "pass", "", "pass", "fail", "mfrom", "example.org sel pass",
      "other.example", "none")),
    ("null sender", "example.com", IP_GOOD, "", False, 1,
     ("accept", "none", "", "fail", "fail", "helo", "", "mail.example.org", "none")),
    ("no record", "norecord.example", IP_GOOD, "a@norecord.example", False, 2, None),
]


def write_key(d):
    path = os.path.join(d, "reports.key")
    with open(path, "wb") as f:
        f.write(RSA_KEY)
    os.chmod(path, 0o600)
    return path


def config(dns, database, d, **report):
    rep = {"enable": True, "database": database, "email": "dmarc@reports.test.example"}
    rep.update(report)
    return {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dkim": {'key "reports"': {"domain": "reports.test.example",
                                       "selector": "s", "file": write_key(d)}},
            "report": rep}


def send(m, frm, ip, mail_from, signed=False, count=1, n=0):
    return run_miltc(m.socket, message(frm, n, signed), client_addr=ip,
                     helo="mail.example.org", mail_from=mail_from,
                     rcpts=["rcpt@mx.test.example"], count=count)


def stop(m, name):
    """Stop m; its exit must be clean (0, and no sanitizer report in its log)."""
    rc = m.stop()
    bad = [x for x in m.log_lines() if "Sanitizer" in x or "runtime error" in x]
    R.ok("%s: daemon exits 0 at SIGTERM, no sanitizer report" % name,
         rc == 0 and not bad, "status %s; %s" % (rc, "\n".join(bad[:10])))


def rows(path, where=""):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM report_rows " + where +
                                           " ORDER BY received")]
    finally:
        db.close()


def test_rows(dns):
    d = tmpdir()
    path = os.path.join(d, "reports.db")
    m = Milter(config(dns, "sqlite:" + path, d))
    sent = {}
    before = int(time.time())
    try:
        R.ok("log: the writer opened the database",
             m.wait_log(r"report: writing report rows to sqlite:") is not None,
             m.log_tail())
        for name, frm, ip, mf, signed, count, want in CASES:
            res = send(m, frm, ip, mf, signed, count)
            action = "quarantine" if res["quarantine"] is not None else res["action"]
            if want is not None:
                R.eq("%s: action" % name, action, want[0])
            sent[name] = count
    finally:
        stop(m, "rows")
    after = int(time.time())
    R.ok("stop: the writer says what it wrote",
         m.wait_log(r"report: writer stopped: %d rows written, 0 dropped" %
                    sum(c for n, _, _, _, _, c, w in CASES if w is not None), 1)
         is not None, m.log_tail(5))
    got = rows(path)
    R.eq("row count: one per DMARC-judged message", len(got),
         sum(c for n, _, _, _, _, c, w in CASES if w is not None))
    R.eq("no row for a domain without a record",
         [r for r in got if r["header_from"] == "norecord.example"], [])
    at = 0
    for name, frm, ip, mf, signed, count, want in CASES:
        if want is None:
            continue
        mine = got[at:at + count]
        at += count
        if not R.eq("%s: rows" % name, len(mine), count):
            continue
        r = mine[0]
        policy = {"example.org": ("reject", None, None, "r", "r", "1", "n", RUA),
                  "example.net": ("quarantine", None, None, "s", "s", "0", "n", RUA),
                  "example.com": ("none", None, None, "r", "r", "0", "n", RUA),
                  "strict.example": ("none", None, None, "r", "r", "0", "n", RUA),
                  "testing.example": ("reject", "none", "quarantine", "r", "r", "0",
                                      "y", "")}[frm]
        R.eq("%s: identifiers" % name,
             (r["source_ip"], r["header_from"], r["envelope_from"], r["envelope_to"],
              r["policy_domain"]),
             (ip, frm, mf.partition("@")[2], None, frm))
        R.eq("%s: published policy" % name,
             (r["p"], r["sp"], r["np"], r["adkim"], r["aspf"], r["fo"], r["testing"],
              r["rua"], r["ruf"], r["discovery"]),
             policy + ("", "treewalk"))
        R.eq("%s: evaluation" % name,
             (r["disposition"], r["reasons"], r["dkim_aligned"], r["spf_aligned"],
              r["spf_scope"], r["dkim"], r["spf_domain"], r["spf_result"]), want[1:])
        R.ok("%s: received within the run" % name,
             all(before <= x["received"] <= after for x in mine),
             [x["received"] for x in mine])


def test_reload(dns):
    """reporting turned on by a reload (SIGUSR1), then off again"""
    d = tmpdir()
    path = os.path.join(d, "reports.db")
    m = Milter(config(dns, "sqlite:" + path, d, enable=False))
    try:
        send(m, "example.org", IP_GOOD, "a@example.org")
        R.ok("reload: off, no database made", not os.path.exists(path))
        m.write_config(config(dns, "sqlite:" + path, d))
        m.reload()
        R.ok("reload: on, the writer starts", m.wait_log(
            r"report: writing report rows to sqlite:", 5) is not None, m.log_tail())
        send(m, "example.org", IP_GOOD, "a@example.org", count=2)
        m.write_config(config(dns, "sqlite:" + path, d, enable=False))
        m.reload()
        m.wait_log(r"reloaded .*milter.conf", 5)
        time.sleep(0.3)
        send(m, "example.org", IP_GOOD, "a@example.org", count=4)
    finally:
        stop(m, "reload")
    R.eq("reload: rows only while on", len(rows(path)), 2)


def test_locked(dns):
    """sqlite3 holds an exclusive lock: mail flows, rows beyond the queue drop"""
    d = tmpdir()
    path = os.path.join(d, "reports.db")
    m = Milter(config(dns, "sqlite:" + path, d, queue=5))
    try:
        m.wait_log(r"report: writing report rows to", 5)
        locker = subprocess.Popen(["sqlite3", path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        locker.stdin.write(b"BEGIN EXCLUSIVE;\nINSERT INTO report_rows (received,"
                           b" source_ip, header_from, policy_domain, rua, ruf, dkim,"
                           b" reasons) VALUES (0, 'x', 'x', 'x', '', '', '', '');\n"
                           b"SELECT 'locked';\n")
        locker.stdin.flush()
        R.eq("sqlite3 holds the lock", locker.stdout.readline().strip(), b"locked")
        t0 = time.monotonic()
        res = send(m, "example.org", IP_GOOD, "a@example.org", count=40)
        took = time.monotonic() - t0
        R.ok("locked: 40 messages accepted", len(res["messages"]) == 40 and
             all(x["action"] == "accept" for x in res["messages"]),
             [x["action"] for x in res["messages"]][:5])
        lat = sorted(x["latency_us"] for x in res["messages"])
        R.ok("locked: no message waited for the database (slowest %.1f ms, all %.2f s)"
             % (lat[-1] / 1000, took), lat[-1] < 1000000, lat[-5:])
        R.ok("locked: the drop is logged",
             m.wait_log(r"report: \d+ report rows dropped so far \(the queue "
                        r"\(report\.queue\) is full", 5) is not None, m.log_tail())
        R.ok("locked: the database error is logged",
             m.wait_log(r"report: cannot write to sqlite:.*database is locked", 15)
             is not None, m.log_tail())
        locker.stdin.write(b"ROLLBACK;\n.quit\n")
        locker.stdin.close()
        locker.wait(10)
        send(m, "example.org", IP_GOOD, "a@example.org", count=3)
        time.sleep(1.5)
    finally:
        stop(m, "locked")
    got = rows(path)
    # what was queued (5) and the batch the writer held when the lock came
    # (at most what the queue held before it) are written once the lock goes
    R.ok("unlocked: the writer caught up (%d rows: the queue, its batch, then 3)"
         % len(got), 3 <= len(got) <= 13, len(got))
    line = m.wait_log(r"writer stopped: (\d+) rows written, (\d+) dropped", 1) or ""
    R.ok("stop: written + dropped = 43", line.endswith(
        "%d rows written, %d dropped" % (len(got), 43 - len(got))), line)


def test_bad_database(dns, name, database, pattern, prepare=None):
    d = tmpdir()
    if prepare:
        prepare(d)
    m = Milter(config(dns, database.replace("{dir}", d), d))
    try:
        R.ok("%s: clear log line" % name, m.wait_log(pattern, 15) is not None,
             m.log_tail())
        res = send(m, "example.org", IP_GOOD, "a@example.org", count=3)
        R.ok("%s: mail flows" % name, [x["action"] for x in res["messages"]] ==
             ["accept"] * 3, res["stdout"][-300:])
        R.ok("%s: still running" % name, m.running())
        R.ok("%s: no password in the log" % name,
             not any("secret" in x for x in m.log_lines()))
    finally:
        t0 = time.monotonic()
        stop(m, name)
    R.ok("%s: stops at once (%.1f s), the rows it could not write counted" %
         (name, time.monotonic() - t0), time.monotonic() - t0 < 5 and m.wait_log(
             r"report: 3 report rows dropped so far \(not written at stop", 0)
         is not None, m.log_tail(5))


def junk(d):
    with open(os.path.join(d, "junk.db"), "wb") as f:
        f.write(b"this is not an SQLite database\n" * 200)


def test_full(dns):
    d = tmpdir()
    mnt = os.path.join(d, "small")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt]).returncode:
        R.fail("full: mount a 512 KB tmpfs")
        return
    try:
        m = Milter(config(dns, "sqlite:%s/r.db" % mnt, d, queue=100000))
        try:
            m.wait_log(r"report: writing report rows to", 5)
            # fill what is left of the file system
            fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)
            res = send(m, "example.org", IP_GOOD, "a@example.org", count=300)
            R.ok("full: mail flows", len(res["messages"]) == 300 and
                 all(x["action"] == "accept" for x in res["messages"]))
            R.ok("full: clear log line", m.wait_log(
                r"report: cannot write to sqlite:.*(full|disk I/O)", 15) is not None,
                m.log_tail())
        finally:
            stop(m, "full")
    finally:
        subprocess.run(["umount", mnt])


def test_unsigned_email(dns):
    """report.email in a domain no key signs for: a warning at start, not a refusal
    (aligned SPF or another hop's signature can make report mail pass DMARC), and
    only once: a reload does not repeat it"""
    d = tmpdir()
    m = Milter(config(dns, "sqlite:%s/r.db" % d, d, email="dmarc@unsigned.example"))
    with m:
        want = r"milter\.conf:\d+: report\.email: warning: we sign for no key of " \
               r"unsigned\.example"
        R.ok("email outside our signing domains: started, with a warning naming the "
             "line", m.wait_log(want, 5) is not None, m.log_tail(5))
        m.reload()
        m.wait_log(r"reloaded ", 5)
        with open(m.log_path, "rb") as f:
            n = len(re.findall(want.encode(), f.read()))
        R.eq("email outside our signing domains: the warning once, not again at a "
             "reload", n, 1)


def test_postgres(dns):
    if not pgcluster.available():
        R.skip("postgresql", "PostgreSQL 15 binaries (Debian package postgresql) absent")
        return
    with pgcluster.running("unit", "reports") as pg:
        p = subprocess.run([os.path.join(BUILDDIR, "tests/unit/test_report_store")],
                           env=dict(os.environ, REPORT_TEST_PG_URI=pg.uri("unit")),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode()
        R.ok("postgresql: the store's unit tests pass (%d checks)" % out.count("\nok - "),
             p.returncode == 0 and "not ok" not in out and out.count("ok - ") >= 20,
             out[-800:])
        d1, d2 = tmpdir(), tmpdir()
        m1 = Milter(config(dns, pg.uri("reports"), d1))
        m2 = Milter(config(dns, pg.uri("reports"), d2))
        results = {}
        try:
            def burst(m, key, frm, ip, mf):
                try:
                    results[key] = send(m, frm, ip, mf, count=150)
                except Exception as e:    # shown by the check below
                    results[key] = {"messages": [], "error": str(e)}
            threads = [threading.Thread(target=burst, args=a) for a in (
                (m1, "m1", "example.org", IP_GOOD, "a@example.org"),
                (m2, "m2", "example.net", IP_BAD, "a@example.net"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            stop(m1, "postgresql daemon 1")
            stop(m2, "postgresql daemon 2")
        R.ok("postgresql: both daemons answered every message",
             len(results.get("m1", {}).get("messages", [])) == 150 and
             len(results.get("m2", {}).get("messages", [])) == 150, results.get("m1",
             {}).get("error", "") + results.get("m2", {}).get("error", ""))
        R.eq("postgresql: rows by domain and disposition", pg.psql(
            "reports", "SELECT policy_domain || ' ' || disposition || ' ' || count(*)"
            " FROM report_rows GROUP BY policy_domain, disposition ORDER BY 1"),
            "example.net quarantine 150\nexample.org pass 150")
        R.eq("postgresql: schema version", pg.psql(
            "reports", "SELECT version FROM schema_version"), "3")
        R.ok("postgresql: log names the database without credentials",
             m1.wait_log(r"report: writing report rows to postgresql:///reports", 1)
             is not None, m1.log_tail(5))


def main():
    with DNSServer(RECORDS) as dns:
        R.run("rows", test_rows, dns)
        R.run("reload", test_reload, dns)
        R.run("locked", test_locked, dns)
        R.run("gone", test_bad_database, dns, "gone", "sqlite:/nonexistent/dir/r.db",
              r"report: cannot open sqlite:/nonexistent/dir/r.db: .*unable to open "
              r"database file; rows wait in the queue, mail is not delayed")
        R.run("corrupt", test_bad_database, dns, "corrupt", "sqlite:{dir}/junk.db",
              r"report: cannot open sqlite:.*junk.db: .*file is not a database", junk)
        R.run("postgresql gone", test_bad_database, dns, "postgresql gone",
              "postgresql://authmilter:secret@127.0.0.1:1/reports",
              r"report: cannot open postgresql://authmilter:\*\*\*@127\.0\.0\.1:1/reports: "
              r"postgresql "
              r"connect: .*Connection refused")
        R.run("full", test_full, dns)
        R.run("unsigned email", test_unsigned_email, dns)
        R.run("postgresql", test_postgres, dns)
    R.exit()


if __name__ == "__main__":
    main()
