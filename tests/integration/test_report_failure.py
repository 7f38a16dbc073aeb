#!/usr/bin/python3
"""test_report_failure - RFC 9991 failure reports (issue 16), end to end.

Messages go through the real daemon (tests/lib/miltc) with a real unbound on
loopback serving the records; report.failure is on with report.failure_rate 3.
Then `authmilter-report --failure --out DIR` writes the reports, read back with
Python's email package: the ARF fields RFC 9991/6591 ask for, the redacted header
copy (no local part left), fo=0 against fo=1, a ruf at another organization
used only with its _report._dmarc record, ruf of a psd=y record ignored, a
hostile ruf (CR LF, thousands of URIs) that never reaches a header, the rate
limit (samples over it counted), a second run that writes nothing again, and
nothing at all with report.failure = false. On a private PostgreSQL (pgcluster.py):
four daemons record into one database and four generators run at once; each
sample is reported once and the rate limit holds across all of them.

Run: AUTHMILTER_BUILDDIR=build AUTHMILTER_SRCDIR=. tests/integration/test_report_failure.py
"""
import collections
import email
import email.policy
import glob
import os
import sqlite3
import subprocess
import sys

import authres
import dkim
import dkim.util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPORT, Milter, Results, run_miltc, tmpdir  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402
import pgcluster  # noqa: E402

DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
with open(os.path.join(DKIMPY_DATA, "2048_testkey.key"), "rb") as f:
    RSA_KEY = f.read()

IP_GOOD = "192.0.2.10"
IP_BAD = "192.0.2.99"
HOSTILE = ",".join(["mailto:x%d@nowhere.example" % i for i in range(3000)])
RECORDS = [
    a("mail.example.org", IP_GOOD),
    txt("fo0.example", "v=spf1 ip4:%s -all" % IP_GOOD),
    txt("_dmarc.fo0.example", "v=DMARC1; p=reject; ruf=mailto:ruf@fo0.example; fo=0"),
    txt("fo1.example", "v=spf1 ip4:%s -all" % IP_GOOD),
    txt("_dmarc.fo1.example", "v=DMARC1; p=none; ruf=mailto:ruf@fo1.example; fo=1"),
    txt("ext.example", "v=spf1 -all"),
    txt("_dmarc.ext.example", "v=DMARC1; p=none; ruf=mailto:ruf@collector.example"),
    txt("ext2.example", "v=spf1 -all"),
    txt("_dmarc.ext2.example", "v=DMARC1; p=none; ruf=mailto:ruf@collector.example"),
    txt("ext2.example._report._dmarc.collector.example", "v=DMARC1"),
    txt("psd.example", "v=spf1 -all"),
    txt("_dmarc.psd.example", "v=DMARC1; p=none; psd=y; ruf=mailto:ruf@psd.example"),
    txt("hostile.example", "v=spf1 -all"),
    txt("_dmarc.hostile.example", "v=DMARC1; p=none; ruf=mailto:a@hostile.example%0D%0A"
        "Bcc:victim@evil.example,mailto:ruf@hostile.example?subject=x%0D%0ABcc:v@e.example,"
        "mailto:ok@hostile.example," + HOSTILE[:1500]),
    txt("rate.example", "v=spf1 -all"),
    txt("_dmarc.rate.example", "v=DMARC1; p=quarantine; ruf=mailto:ruf@rate.example"),
    txt("alpha.test", "v=spf1 -all"),
    txt("_dmarc.alpha.test", "v=DMARC1; p=reject; ruf=mailto:ruf@alpha.test; fo=1"),
    txt("s._domainkey.alpha.test", open(os.path.join(
        DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt")).read().strip()),
    # issue 24 finding 4: one organization, twelve policy domains (as a wildcard
    # record gives); report.failure_rate counts per organizational domain
    txt("_dmarc.evil.test", "v=DMARC1; p=reject; ruf=mailto:ruf@evil.test"),
] + [txt("_dmarc.x%d.evil.test" % i, "v=DMARC1; p=reject; ruf=mailto:ruf@evil.test")
     for i in range(12)]

# issue 24 finding 3: each of these leaked into the sample before; issue 25 item 1:
# the A-R and DKIM-Signature below lost their syntax (smtp.mailfrom= and i=@)
PRIVATE = ("Received: from janes-laptop.home.example (janes-laptop.home.example "
           "[203.0.113.77])\n\tby relay.example with ESMTP\n"
           "Authentication-Results: relay.example; spf=pass "
           "smtp.mailfrom=b@bounce.alpha.test;\n\tdkim=pass header.i=@alpha.test "
           "header.d=alpha.test\n"
           "From: =?UTF-8?Q?jane.roe=40example.net?= <jane.roe@alpha.test>\n"
           "To: \"Roe, Jane\" <jane.roe@example.net>\n"
           "Cc: jane.roe (home) @example.net, jane\\\"@example.net\n"
           "Subject: Biopsy results for Jane Roe\n"
           "Date: Mon, 30 Nov 2026 22:00:00 +0000\n"
           "Message-ID: <jane.roe.private@example.net>\n"
           "DKIM-Signature: v=1; a=rsa-sha256; d=alpha.test; s=gone; "
           "i=jane.roe@alpha.test; h=from; bh=AAAA; b=BBBB\n\nprivate body\n")
LEAKS = [b"jane", b"Jane", b"Roe", b"Biopsy", b"janes-laptop", b"203.0.113.77",
         b"private", b"=40example"]

R = Results()


def message(frm, n):
    return ("From: Some One <some.one@%s>\nTo: <secret.rcpt@mx.test.example>\n"
            "Cc: \"Quoted Name\"@elsewhere.example\nSubject: failure %d\n"
            "Date: Mon, 30 Nov 2026 22:00:00 +0000\nMessage-ID: <%d.%s@test>\n\n"
            "private body %d\n" % (frm, n, n, frm, n)).encode()


def config(dns, d, failure=True):
    key = os.path.join(d, "reports.key")
    with open(key, "wb") as f:
        f.write(RSA_KEY)
    os.chmod(key, 0o600)
    return {"authserv_id": "mx.test.example", "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dkim": {'key "reports"': {"domain": "reports.test.example",
                                       "selector": "s", "file": key}},
            "report": {"enable": True, "database": "sqlite:%s/r.db" % d,
                       "email": "dmarc@reports.test.example", "failure": failure,
                       "failure_rate": 3}}


def send(m, frm, ip, n):
    return run_miltc(m.socket, message(frm, n), client_addr=ip, helo="mail.example.org",
                     mail_from="bounce.person@%s" % frm, rcpts=["rcpt@mx.test.example"])


def run(conf, *args):
    return subprocess.run([REPORT, "-c", conf] + list(args), capture_output=True,
                          text=True, timeout=60)


def reports(out):
    got = {}
    for p in sorted(glob.glob(os.path.join(out, "*.eml"))):
        with open(p, "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = list(msg.iter_parts()) if msg.is_multipart() else []
        fb = email.message_from_string(parts[1].get_payload() if len(parts) > 1 and
                                       isinstance(parts[1].get_payload(), str) else
                                       parts[1].get_payload()[0].as_string()
                                       if len(parts) > 1 else "")
        got.setdefault(str(fb["Reported-Domain"]), []).append((msg, parts, fb, raw))
    return got


def start(dns, **report):
    """A daemon on a new directory with config(); report keys override; the
    directory, its empty out/ and the daemon."""
    d = tmpdir()
    out = os.path.join(d, "out")
    os.mkdir(out)
    conf = config(dns, d)
    conf["report"].update(report)
    return d, out, Milter(conf)


def test_reports(dns):
    d, out, m = start(dns)
    try:
        n = 0
        for frm, ip, count in [("fo0.example", IP_BAD, 1), ("fo0.example", IP_GOOD, 1),
                               ("fo1.example", IP_GOOD, 1), ("ext.example", IP_BAD, 1),
                               ("ext2.example", IP_BAD, 1), ("psd.example", IP_BAD, 1),
                               ("hostile.example", IP_BAD, 1), ("rate.example", IP_BAD, 5)]:
            for _ in range(count):
                n += 1
                send(m, frm, ip, n)
    finally:
        rc = m.stop()
    R.eq("daemon exits 0", rc, 0)
    R.ok("daemon: 2 samples over the rate not queued",
         m.wait_log(r"2 failure samples over report.failure_rate not queued", 1)
         is not None, m.log_tail(3))
    db = sqlite3.connect(os.path.join(d, "r.db"))
    doms = sorted(r[0] for r in db.execute("SELECT policy_domain FROM report_failures"))
    db.close()
    R.eq("samples: fo=0 fail only, fo=1 pass, no psd=y, rate capped at 3", doms,
         ["ext.example", "ext2.example", "fo0.example", "fo1.example", "hostile.example",
          "rate.example", "rate.example", "rate.example"])
    p = run(m.config_path, "--failure", "--out", out)
    R.ok("authmilter-report --failure exits 0", p.returncode == 0, p.stderr)
    got = reports(out)
    R.eq("reports written for", sorted(got), ["ext2.example", "fo0.example", "fo1.example",
                                             "hostile.example", "rate.example"])
    R.ok("external ruf without _report._dmarc: not sent, said why",
         "ext.example" not in got and "has not authorized reports" in p.stderr, p.stderr)
    R.eq("external ruf with _report._dmarc: to the collector",
         [str(x[0]["To"]) for x in got.get("ext2.example", [])], ["ruf@collector.example"])
    R.eq("rate.example: three reports", len(got.get("rate.example", [])), 3)
    msg, parts, fb, raw = got["fo0.example"][0]
    R.eq("multipart/report; report-type=feedback-report",
         (msg.get_content_type(), msg.get_param("report-type")),
         ("multipart/report", "feedback-report"))
    R.eq("parts", [x.get_content_type() for x in parts],
         ["text/plain", "message/feedback-report", "text/rfc822-headers"])
    R.eq("ARF fields", (fb["Feedback-Type"], fb["Auth-Failure"], fb["Source-IP"],
                        fb["Reported-Domain"], fb["Identity-Alignment"],
                        fb["Original-Mail-From"], fb["Delivery-Result"]),
         ("auth-failure", "dmarc", IP_BAD, "fo0.example", "spf",
          "<redacted@fo0.example>", "reject"))
    R.ok("SPF-DNS for the aligned SPF failure",
         fb["SPF-DNS"] is not None and "fo0.example" in fb["SPF-DNS"] and
         "v=spf1 ip4:" in fb["SPF-DNS"], str(fb["SPF-DNS"]))
    R.ok("Authentication-Results with dmarc=fail",
         "dmarc=fail" in str(fb["Authentication-Results"]), str(fb["Authentication-Results"]))
    R.eq("From of the report", str(msg["From"]), "dmarc@reports.test.example")
    hdrs = parts[2].get_payload() if isinstance(parts[2].get_payload(), str) else \
        parts[2].get_payload(decode=True).decode()
    R.ok("header copy: redacted addresses, no Subject (report.failure_keep_fields)",
         "Subject: failure" not in hdrs and "From: redacted <redacted@fo0.example>" in hdrs
         and "redacted@elsewhere.example" in hdrs, hdrs)
    R.ok("no local part and no body anywhere in the report",
         all(s not in raw for s in [b"some.one", b"secret.rcpt", b"bounce.person",
                                    b"Quoted Name", b"private body"]), raw.decode()[:2000])
    R.eq("fo=1 on a DMARC pass: reported, SPF aligned pass so Identity-Alignment none",
         str(got["fo1.example"][0][2]["Identity-Alignment"]), "none")
    hmsg, _, _, hraw = got["hostile.example"][0]
    R.eq("hostile ruf: the CR LF item dropped, ?headers cut off", str(hmsg["To"]),
         "ruf@hostile.example, ok@hostile.example")
    R.ok("hostile ruf: no Bcc and no victim in the report",
         hmsg["Bcc"] is None and b"victim" not in hraw and b"evil.example" not in hraw,
         hraw.decode()[:600])
    p2 = run(m.config_path, "--failure", "--out", out)
    R.ok("second run: nothing again", p2.returncode == 0 and
         "failure reports: 0 written" in p2.stderr, p2.stderr)


def private_message():
    """PRIVATE signed by alpha.test with i=@alpha.test (dkimpy), so that our own
    A-R carries header.i=@alpha.test and DMARC passes by DKIM (fo=1 reports it:
    SPF did not align)."""
    msg = PRIVATE.replace("\n", "\r\n").encode()
    sig = dkim.sign(msg, b"s", b"alpha.test", RSA_KEY, identity=b"@alpha.test",
                    include_headers=[b"from", b"to", b"subject"])
    return sig + msg


def test_redaction(dns):
    _, out, m = start(dns)
    try:
        run_miltc(m.socket, private_message(), client_addr=IP_BAD, helo="mail.example.org",
                  mail_from="b@bounce.alpha.test", rcpts=["rcpt@mx.test.example"])
    finally:
        m.stop()
    p = run(m.config_path, "--failure", "--out", out)
    got = reports(out).get("alpha.test", [])
    R.ok("private message: one report", len(got) == 1, p.stderr)
    if not got:
        return
    msg, parts, fb, raw = got[0]
    R.ok("none of the private samples in the report (issue 24 finding 3)",
         not any(s in raw for s in LEAKS),
         [s for s in LEAKS if s in raw])
    hdrs = parts[2].get_payload() if isinstance(parts[2].get_payload(), str) else \
        parts[2].get_payload(decode=True).decode()
    R.ok("address fields redacted by structure",
         "To: redacted <redacted@example.net>" in hdrs and
         "From: redacted <redacted@alpha.test>" in hdrs and
         "Cc: " not in hdrs, hdrs)
    R.ok("Subject, Received and Message-ID left out by default",
         all(("\n%s:" % f) not in "\n" + hdrs for f in ("Subject", "Received",
                                                        "Message-ID")), hdrs)
    # the feedback report's A-R (ours) and the copied one (relay.example), each read
    # by python3-authres: property names kept, only local parts redacted
    for where, value in (("report", str(fb["Authentication-Results"])),
                         ("copy", [ln for ln in hdrs.replace("\n\t", " ").split("\n")
                                   if ln.startswith("Authentication-Results:")][0]
                          .split(":", 1)[1])):
        ar = authres.AuthenticationResultsHeader.parse(
            "Authentication-Results: " + value.replace("\n", " "))
        props = {(r.method, pr.type + "." + pr.name, pr.value)
                 for r in ar.results for pr in r.properties}
        R.ok("%s A-R parses: smtp.mailfrom redacted@bounce.alpha.test" % where,
             ("spf", "smtp.mailfrom", "redacted@bounce.alpha.test") in props and
             not any(x[1] == "smtp.mailfrom" and x[2] != "redacted@bounce.alpha.test"
                     for x in props), value)
        R.ok("%s A-R parses: header.i=@alpha.test kept" % where,
             ("dkim", "header.i", "@alpha.test") in props, value)
    sigs = [ln.split(":", 1)[1] for ln in hdrs.replace("\n\t", " ").split("\n")
            if ln.startswith("DKIM-Signature:")]
    tags = [dkim.util.parse_tag_value(x.strip().encode()) for x in sigs]
    R.eq("DKIM-Signatures parse as tag-lists: i= local part only redacted",
         sorted(t.get(b"i") for t in tags), [b"@alpha.test", b"redacted@alpha.test"])
    R.eq("DKIM-Identity of the failed aligned signature", str(fb["DKIM-Identity"]),
         "redacted@alpha.test")
    # the operator's opt-in reaches the daemon: Subject and Message-ID copied
    _, out, m = start(dns, failure_keep_fields=["subject", "Message-ID"])
    try:
        run_miltc(m.socket, private_message(), client_addr=IP_BAD, helo="mail.example.org",
                  mail_from="b@bounce.alpha.test", rcpts=["rcpt@mx.test.example"])
    finally:
        m.stop()
    run(m.config_path, "--failure", "--out", out)
    raw = b"".join(x[3] for x in reports(out).get("alpha.test", []))
    R.ok("report.failure_keep_fields: Subject and Message-ID kept, Received not",
         b"Subject: Biopsy results for Jane Roe" in raw and
         b"Message-ID: <jane.roe.private@example.net>" in raw and
         b"janes-laptop" not in raw, raw.decode(errors="replace")[-1500:])


def test_org_rate(dns):
    """Issue 24 finding 4: rate 2, twelve messages from x0...x11.evil.test (twelve
    policy domains, one organization): at most two reports (before: 12 samples,
    12 reports)."""
    d, out, m = start(dns, failure_rate=2)
    try:
        for i in range(12):
            send(m, "x%d.evil.test" % i, IP_BAD, i)
    finally:
        m.stop()
    db = sqlite3.connect(os.path.join(d, "r.db"))
    n = db.execute("SELECT count(*) FROM report_failures").fetchone()[0]
    db.close()
    R.eq("evil.test: the daemon queued 2 samples of 12", n, 2)
    p = run(m.config_path, "--failure", "--out", out)
    got = sum(len(v) for k, v in reports(out).items() if k.endswith("evil.test"))
    R.ok("evil.test: at most 2 reports (%d)" % got, got <= 2 and got > 0, p.stderr)


def test_off(dns):
    d = tmpdir()
    out = os.path.join(d, "out")
    os.mkdir(out)
    m = Milter(config(dns, d, failure=False))
    try:
        send(m, "fo0.example", IP_BAD, 1)
    finally:
        m.stop()
    db = sqlite3.connect(os.path.join(d, "r.db"))
    n = db.execute("SELECT count(*) FROM report_failures").fetchone()[0]
    rows = db.execute("SELECT count(*) FROM report_rows").fetchone()[0]
    db.close()
    R.eq("report.failure = false: a row, no sample", (rows, n), (1, 0))
    p = run(m.config_path, "--failure", "--out", out)
    R.ok("report.failure = false: the generator says so and writes nothing",
         p.returncode == 0 and "report.failure is off" in p.stderr and
         not os.listdir(out), p.stderr)


PG_DAEMONS = 4       # each queues at most failure_rate (3) samples of a domain
PG_GENERATORS = 4    # racing over the 4 x 3 samples of rate.example


def test_pg_race(dns):
    if not pgcluster.available():
        R.fail("postgres: failure reports", "PostgreSQL is not installed")
        return
    d = tmpdir()
    with pgcluster.running("reports") as pg:
        conf = config(dns, d)
        conf["report"]["database"] = pg.uri("reports")
        daemons = [Milter(conf) for _ in range(PG_DAEMONS)]
        n = 0
        try:
            for m in daemons:
                for frm, count in (("rate.example", 3), ("ext2.example", 1)):
                    for _ in range(count):
                        n += 1
                        send(m, frm, IP_BAD, n)
        finally:
            codes = [m.stop() for m in daemons]
        R.eq("postgres: every daemon exits 0", codes, [0] * PG_DAEMONS)
        R.eq("postgres: samples from %d daemons in one database" % PG_DAEMONS,
             pg.psql("reports", "SELECT policy_domain, count(*) FROM report_failures "
                     "GROUP BY 1 ORDER BY 1"),
             "ext2.example|%d\nrate.example|%d" % (PG_DAEMONS, 3 * PG_DAEMONS))
        outs = [os.path.join(d, "out%d" % i) for i in range(PG_GENERATORS)]
        for o in outs:
            os.mkdir(o)
        procs = [subprocess.Popen([REPORT, "-c", daemons[0].config_path, "--failure",
                                   "--out", o], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for o in outs]
        errs = [p.communicate(timeout=120)[1] for p in procs]
        R.eq("postgres: %d generators at once exit 0" % PG_GENERATORS,
             [p.returncode for p in procs], [0] * PG_GENERATORS)
        got = collections.Counter()
        ids = collections.Counter()
        for o in outs:
            for dom, msgs in reports(o).items():
                got[dom] += len(msgs)
                for msg, _, _, _ in msgs:
                    ids[str(msg["Message-ID"])] += 1
        # a generator that settled another's claim as over the limit let both
        # report it (failed before the claimed_at guard in report_store.c)
        R.eq("postgres: ext2.example 3 of %d, rate.example 3 of %d (one limit for all "
             "generators)" % (PG_DAEMONS, 3 * PG_DAEMONS), dict(got),
             {"ext2.example": 3, "rate.example": 3})
        R.ok("postgres: no report written twice", ids and max(ids.values()) == 1,
             str(ids))
        R.eq("postgres: every sample settled, the rest over the rate",
             pg.psql("reports", "SELECT outcome, count(*) FROM report_failures "
                     "GROUP BY 1 ORDER BY 1"),
             "ratelimited|%d\nwritten|6" % (4 * PG_DAEMONS - 6))
        p = run(daemons[0].config_path, "--failure", "--out", outs[0])
        R.ok("postgres: another run writes nothing", p.returncode == 0 and
             "failure reports: 0 written" in p.stderr,
             p.stderr + "".join(e[-400:] for e in errs))


def main():
    with DNSServer(RECORDS) as dns:
        R.run("reports", test_reports, dns)
        R.run("redaction", test_redaction, dns)
        R.run("rate per organization", test_org_rate, dns)
        R.run("off", test_off, dns)
        R.run("postgres", test_pg_race, dns)
    R.exit()


if __name__ == "__main__":
    main()
