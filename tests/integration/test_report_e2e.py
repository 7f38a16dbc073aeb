#!/usr/bin/python3
"""test_report_e2e - DMARC aggregate reports end to end (issue 16): messages
through the real daemon with report.enable on (SQLite), then authmilter-report
over the rows it recorded, then the report mail through a real Postfix.

1. Inbound messages go through authmilter (tests/lib/miltc) against a real
   unbound on loopback: passes, rejects and quarantines for two domains with a
   rua, and one domain without. The daemon is stopped (its writer flushes).
2. authmilter-report --out: one report per domain with a rua; each validates
   against the RFC 9990 XSD (xmllint --schema); the records' counts, parsed by
   xml.etree, equal the messages sent per (source IP, disposition, alignment).
3. authmilter-report --send with report.sendmail = Postfix's own sendmail
   (-C its private config): Postfix's cleanup hands the mail to authmilter
   (non_smtpd_milters) which signs it for report.email's domain, and relays it
   to smtp-sink. The delivered mail: To the rua (external destination
   authorized by _report._dmarc), its DKIM-Signature verified by dkimpy with
   d= report.email's domain, and the mail passing DMARC when a second authmilter
   judges it as inbound mail (Authentication-Results dmarc=pass).
Prints "ok - NAME" / "not ok - NAME" per case; exits 1 when any failed."""

import collections
import email
import gzip
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BUILDDIR, SRCDIR, Milter, MilterError, Results,  # noqa: E402
                     run_miltc)
from dnsserver import DNSServer, a, txt  # noqa: E402
import mta  # noqa: E402

REPORT = os.path.join(BUILDDIR, "milter", "authmilter-report")
KEYGEN = os.path.join(BUILDDIR, "milter", "authmilter-keygen")
XSD = os.path.join(SRCDIR, "tests", "data", "report", "dmarc-2.0.xsd")
NS = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
RCV = "rcv.example"                 # report.email's domain: signed by us
AUTHSERV = "mx.rcv.example"
IP_GOOD, IP_BAD = "192.0.2.10", "192.0.2.99"

R = Results()
ok = R.ok

# From domain, client, count, (disposition, spf aligned)
CASES = [
    ("example.org", IP_GOOD, 3, ("pass", "pass")),
    ("example.org", IP_BAD, 2, ("reject", "fail")),
    ("example.net", IP_BAD, 2, ("quarantine", "fail")),
    ("example.net", IP_GOOD, 1, ("pass", "pass")),
    ("norua.example", IP_BAD, 2, None),
]


def records(key_name, key_value):
    return [
        a("mail.example.org", IP_GOOD),
        txt("example.org", "v=spf1 ip4:%s -all" % IP_GOOD),
        txt("_dmarc.example.org", "v=DMARC1; p=reject; "
            "rua=mailto:dmarc@example.org,mailto:agg@reports.example.net"),
        txt("example.org._report._dmarc.reports.example.net", "v=DMARC1"),
        txt("example.net", "v=spf1 ip4:%s ~all" % IP_GOOD),
        txt("_dmarc.example.net", "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.net"),
        txt("norua.example", "v=spf1 ip4:%s -all" % IP_GOOD),
        txt("_dmarc.norua.example", "v=DMARC1; p=none"),
        # the receiver's own domain: report mail must pass DMARC by DKIM alone
        txt(key_name, key_value),
        txt(RCV, "v=spf1 -all"),
        txt("_dmarc." + RCV, "v=DMARC1; p=reject"),
    ]


def config(dns, d, key, db):
    return {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "iprev": {"enable": False},
            "dkim": {'key "rcv"': {"domain": RCV, "selector": "r1", "file": key}},
            "report": {"enable": True, "database": db,
                       "email": "dmarc-reports@" + RCV, "org_name": "Receiver"}}


def message(frm, n):
    return ("From: <user@%s>\nTo: <rcpt@%s>\nSubject: e2e %d\n"
            "Date: Mon, 30 Nov 2026 22:00:00 +0000\nMessage-ID: <%d.%s@test>\n\n"
            "body %d\n" % (frm, RCV, n, n, frm, n))


def report_conf(m, sendmail):
    """The daemon's configuration file with report.sendmail set."""
    text = m.config_text.replace("report {\n", 'report {\n  sendmail = "%s"\n' % sendmail,
                                 1)
    path = os.path.join(m.dir, "report.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def parsed(path):
    root = ET.fromstring(gzip.open(path).read())
    got = collections.Counter()
    for rec in root.findall("d:record", NS):
        pe = rec.find("d:row/d:policy_evaluated", NS)
        got[(rec.findtext("d:identifiers/d:header_from", "", NS),
             rec.findtext("d:row/d:source_ip", "", NS),
             (pe.findtext("d:disposition", "", NS), pe.findtext("d:spf", "", NS)))] += \
            int(rec.findtext("d:row/d:count", "0", NS))
    return root, got


def main():
    wd = mta.make_workdir("/tmp/authmilter-report-e2e-")
    key, key_name, key_value = mta.make_dkim_key(os.path.join(wd, "keys"), RCV, "r1",
                                                 alg="ed25519", keygen=KEYGEN)
    os.chmod(os.path.join(wd, "keys"), 0o755)
    db = "sqlite:%s/reports.db" % wd
    with DNSServer(records(key_name, key_value)) as dns:
        try:
            m = Milter(config(dns, wd, key, db), inet=True)
        except MilterError as e:
            R.fail("daemon starts with report.enable", e)
            R.exit()
        n = 0
        for frm, ip, count, _ in CASES:
            for _ in range(count):
                n += 1
                run_miltc(m.socket, message(frm, n), client_addr=ip,
                          helo="mail.example.org", mail_from="a@" + frm,
                          rcpts=["rcpt@" + RCV])
        m.stop()
        ok("daemon: its writer flushed every judged row at stop",
           m.wait_log(r"report: writer stopped: %d rows written, 0 dropped"
                      % sum(c for _, _, c, _ in CASES), 2) is not None, m.log_tail(5))

        now = int(time.time())
        begin = now - now % 86400
        period = ["--begin", str(begin), "--end", str(begin + 86400)]
        conf = m.config_path
        out = os.path.join(wd, "out")
        os.mkdir(out)
        p = subprocess.run([REPORT, "-c", conf, "--out", out] + period,
                           capture_output=True, text=True, timeout=60)
        ok("--out: exit 0", p.returncode == 0, p.stderr)
        files = {f.split("!")[1]: os.path.join(out, f) for f in os.listdir(out)}
        R.eq("--out: one report per policy domain with a rua", sorted(files),
             ["example.net", "example.org"])
        for dom, path in sorted(files.items()):
            v = subprocess.run("zcat '%s' | xmllint --noout --schema %s -" % (path, XSD),
                               shell=True, capture_output=True, text=True)
            ok("--out: %s validates against the RFC 9990 XSD" % dom, v.returncode == 0,
               v.stderr)
            root, got = parsed(path)
            want = collections.Counter()
            for frm, ip, count, res in CASES:
                if frm == dom:
                    want[(frm, ip, res)] += count
            R.eq("--out: %s counts equal the messages sent through the daemon" % dom,
                 got, want)
            R.eq("--out: %s policy_published" % dom,
                 (root.findtext("d:policy_published/d:p", "", NS),
                  root.findtext("d:policy_published/d:discovery_method", "", NS)),
                 ("reject" if dom == "example.org" else "quarantine", "treewalk"))

        # --send through Postfix, signed by a (restarted) authmilter
        try:
            m = Milter(config(dns, wd, key, db), inet=True)
        except MilterError as e:
            R.fail("daemon restarts", e)
            R.exit()
        sink = mta.SmtpSink(wd).start()
        pf = mta.Postfix(wd, "inet:127.0.0.1:%d" % m.port, sink.port)
        try:
            pf.start()
            sconf = report_conf(m, "/usr/sbin/sendmail -C %s -t -oi" % pf.conf)
            p = subprocess.run([REPORT, "-c", sconf, "--send"] + period,
                               capture_output=True, text=True, timeout=120)
            ok("--send through Postfix's sendmail: exit 0", p.returncode == 0, p.stderr)
            got = sink.new_messages(2, 60)
            R.eq("Postfix delivered two report mails", len(got), 2)
            sub = {}
            for path, data in got:
                env, body = mta.split_sink_file(data)
                msg = email.message_from_bytes(body)
                d = re.search(r"Report Domain: (\S+)", " ".join(msg["Subject"].split()))
                sub[d.group(1) if d else "?"] = (env, body, msg)
            if "example.org" in sub:
                env, body, msg = sub["example.org"]
                to = sorted(x.strip() for x in " ".join(msg["To"].split()).split(","))
                R.eq("example.org report: To the rua, the external one authorized",
                     to, ["agg@reports.example.net", "dmarc@example.org"])
                att = [x for x in msg.walk()
                       if x.get_content_type() == "application/gzip"]
                ok("example.org report: application/gzip attachment named as --out",
                   att and att[0].get_filename() == os.path.basename(files["example.org"]),
                   [x.get_filename() for x in att])
                sigs = mta.dkim_verify_all(body, dns.port)
                ok("report mail DKIM-signed by authmilter for %s, verified by dkimpy" % RCV,
                   (RCV, "r1", "ed25519-sha256", True) in sigs, sigs)
                inbound = Milter({"authserv_id": "mx.consumer.example",
                                  "dns": {"nameservers": [dns.address], "timeout": 2},
                                  "iprev": {"enable": False}})
                try:
                    r = run_miltc(inbound.socket, body, client_addr="198.51.100.7",
                                  helo="mx.test.example",
                                  mail_from="root@mx.test.example",
                                  rcpts=["dmarc@example.org"])
                finally:
                    inbound.stop()
                ar = " ".join(v for k, v in r["added"]
                              if k.lower() == "authentication-results")
                ok("report mail passes DMARC for %s (a second authmilter judges it)" % RCV,
                   re.search(r"dmarc=pass .*header\.from=%s" % re.escape(RCV), ar), ar)
            p = subprocess.run([REPORT, "-c", sconf, "--send"] + period,
                               capture_output=True, text=True, timeout=120)
            time.sleep(2)
            ok("a second --send sends nothing again", p.returncode == 0 and
               p.stderr.count("already sent") == 2 and not sink.new_messages(1, 3),
               p.stderr)
        finally:
            pf.stop()
            sink.stop()
            m.stop()
    R.exit()


if __name__ == "__main__":
    main()
