#!/usr/bin/python3
"""test_report_gen - authmilter-report, the DMARC aggregate report generator
(RFC 9990), over a real SQLite store (rows put in through report_store's API by
tests/lib/report_rows) and a real unbound on loopback for the RFC 9990 §4
external destination check:

- --out: one file per policy domain with a rua, named
  receiver!domain!begin!end!id.xml.gz; each validated by `xmllint --schema`
  against the vendored RFC 9990 XSD and parsed by Python's xml.etree, record by
  record against the rows (aggregated here independently), and read by dmarc-cat
  (an independent DMARC report parser, Debian's package); a re-run writes the
  same names and bytes;
- --send through a stand-in sendmail that keeps each message: the MIME message,
  RFC 9990 Subject, application/gzip part equal to the --out file; destinations
  mailto only, authorized by _report._dmarc, overridden, or dropped; hostile rua
  values (CR/LF, 3000 URIs, non-mailto) reach no header; a DNS failure defers a
  report (exit 1); a re-run sends nothing twice; a failing sendmail gives exit 1
  and the next run sends the report;
- a database that is missing, corrupt or locked: exit 2 and a line naming it;
  report.email outside the signed domains: exit 2;
- PostgreSQL (a private cluster, initdb/pg_ctl on a unix socket): two generators
  started together send each report once.
Prints "ok - NAME" / "not ok - NAME" per case; exits 1 when any failed."""

import collections
import email
import email.policy
import glob
import gzip
import os
import re
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR, SRCDIR, Results, conf_text, tmpdir  # noqa: E402
from dnsserver import DNSServer, refuse_zone, txt  # noqa: E402
import pgcluster  # noqa: E402

REPORT = os.path.join(BUILDDIR, "milter", "authmilter-report")
KEYGEN = os.path.join(BUILDDIR, "milter", "authmilter-keygen")
CHECK = os.path.join(BUILDDIR, "milter", "authmilter-check")
ROWS = os.path.join(BUILDDIR, "tests", "lib", "report_rows")
XSD = os.path.join(SRCDIR, "tests", "data", "report", "dmarc-2.0.xsd")
NS = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
RECEIVER = "rcv.example"
DAY = 86400
NOW = int(time.time())
END = NOW - NOW % DAY           # the default period: the previous UTC day
BEGIN = END - DAY

R = Results()
ok = R.ok

COLUMNS = ["received", "source_ip", "header_from", "envelope_from", "envelope_to",
           "policy_domain", "rua", "ruf", "p", "sp", "np", "adkim", "aspf", "fo",
           "testing", "discovery", "spf_domain", "spf_scope", "spf_result", "dkim",
           "dkim_aligned", "spf_aligned", "disposition", "reasons"]

HOSTILE_RUA = ("mailto:a@hostile.example%0D%0ABcc:evil@x.example,"
               "mailto:b@hostile.example\r\nBcc: evil2@x.example,"
               "https://hostile.example/r,"
               + ",".join("mailto:r%d@hostile.example" % i for i in range(3000)))
EXAMPLE_RUA = ("mailto:dmarc@example.com,mailto:agg@reports.example.net,"
               "mailto:x@unauth.example.net,mailto:y@over.example.net,"
               "https://example.com/report,mailto:z@evil.example.net")


def dkim_encode(sigs):
    """The store's dkim column (report_dkim_encode): "d s result" per signature,
    comma-separated, every byte outside [A-Za-z0-9._-] as %XX."""
    def enc(s):
        return "".join(c if re.match(r"[A-Za-z0-9._-]", c) else "%%%02X" % ord(c)
                       for c in s)
    return ",".join(" ".join(enc(x) for x in s) for s in sigs)


def tsv(v):
    if v is None:
        return "\\N"
    return (str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def row(domain, ip, t, **kw):
    r = dict(received=t, source_ip=ip, header_from=domain, envelope_from=domain,
             envelope_to=None, policy_domain=domain, rua="mailto:dmarc@" + domain,
             ruf="", p="reject", sp=None, np=None, adkim="r", aspf="r", fo="0",
             testing="n", discovery="treewalk", spf_domain=domain, spf_scope="mfrom",
             spf_result="pass", dkim=[(domain, "sel", "pass")], dkim_aligned="pass",
             spf_aligned="pass", disposition="pass", reasons="")
    r.update(kw)
    return r


def make_rows():
    rows = []
    t = BEGIN + 100
    for i in range(5):
        rows.append(row("example.com", "192.0.2.1", t + i, rua=EXAMPLE_RUA))
    for i in range(3):
        rows.append(row("example.com", "192.0.2.2", t + 10 + i, rua=EXAMPLE_RUA,
                        header_from="news.example.com", envelope_from="",
                        envelope_to="rcpt.example", spf_domain="mx.sender.example",
                        spf_scope="helo", spf_result="fail", spf_aligned="fail",
                        dkim=[("example.com", "s1", "pass"), ("other.example", "x y",
                                                               "fail")]))
    for i in range(2):
        rows.append(row("example.com", "2001:db8::5", t + 20 + i, rua=EXAMPLE_RUA,
                        dkim=[], dkim_aligned="fail", spf_result="softfail",
                        spf_aligned="fail", disposition="none", testing="y",
                        p="quarantine", np="reject",
                        reasons="policy_test_mode local_policy"))
    # the latest row of example.com sets the policy reported
    rows.append(row("example.com", "192.0.2.1", t + 1000, rua=EXAMPLE_RUA, p="reject",
                    sp="quarantine", np="reject", adkim="s", fo="1"))
    # 150 signatures: 100 reported
    rows.append(row("example.com", "192.0.2.9", t + 30, rua=EXAMPLE_RUA,
                    dkim=[("d%d.example" % i, "s", "fail") for i in range(150)]))
    rows.append(row("norua.example", "192.0.2.3", t, rua=""))
    for i in range(4):
        rows.append(row("hostile.example", "192.0.2.4", t + i, rua=HOSTILE_RUA,
                        header_from="a<b>&\"\x01.hostile.example"))
    rows.append(row("tempd.example", "192.0.2.5", t, rua="mailto:r@slow.example"))
    # outside the period
    rows.append(row("example.com", "192.0.2.77", BEGIN - 1, rua=EXAMPLE_RUA))
    rows.append(row("example.com", "192.0.2.78", END, rua=EXAMPLE_RUA))
    return rows


def put_rows(uri, rows):
    text = "".join("\t".join(tsv(dkim_encode(r["dkim"]) if c == "dkim" else r[c])
                             for c in COLUMNS) + "\n" for r in rows)
    p = subprocess.run([ROWS, uri], input=text, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("report_rows: %s" % p.stderr)


def expected_records(rows, domain):
    """The records of domain's report, aggregated here: key -> count."""
    recs = collections.Counter()
    for r in rows:
        if r["policy_domain"] != domain or not BEGIN <= r["received"] < END:
            continue
        spf = None
        if r["spf_result"] is not None:
            spf = (r["spf_domain"], "mfrom" if r["spf_scope"] == "mfrom" else None,
                   r["spf_result"])
        reasons = tuple(x for x in r["reasons"].split() if x)
        hf = "".join(c if 0x20 <= ord(c) < 0x7f else "?" for c in r["header_from"])
        recs[(r["source_ip"], hf, r["envelope_from"], r["envelope_to"],
              r["disposition"], r["dkim_aligned"], r["spf_aligned"], reasons,
              tuple(tuple(s) for s in r["dkim"][:100]), spf)] += 1
    return recs


def parsed_records(root):
    """key -> count from the XML, by xml.etree, element by element."""
    recs = collections.Counter()

    def text(e, path):
        x = e.find(path, NS)
        return None if x is None else (x.text or "")
    for rec in root.findall("d:record", NS):
        pe = rec.find("d:row/d:policy_evaluated", NS)
        reasons = tuple(x.text for x in pe.findall("d:reason/d:type", NS))
        dk = tuple((text(d, "d:domain"), text(d, "d:selector"), text(d, "d:result"))
                   for d in rec.findall("d:auth_results/d:dkim", NS))
        s = rec.find("d:auth_results/d:spf", NS)
        spf = None if s is None else (text(s, "d:domain"), text(s, "d:scope"),
                                      text(s, "d:result"))
        key = (text(rec, "d:row/d:source_ip"), text(rec, "d:identifiers/d:header_from"),
               text(rec, "d:identifiers/d:envelope_from"),
               text(rec, "d:identifiers/d:envelope_to"),
               text(pe, "d:disposition"), text(pe, "d:dkim"), text(pe, "d:spf"),
               reasons, dk, spf)
        recs[key] += int(text(rec, "d:row/d:count"))
    return recs


def keygen(d, domain):
    subprocess.run([KEYGEN, "-a", "ed25519", "-d", domain, "-s", "r1", "-o", d],
                   check=True, capture_output=True)
    return os.path.join(d, "r1.%s.key" % domain)


def write_conf(d, dns, database, sendmail=None, key_domain=RECEIVER, name="m.conf"):
    key = keygen(d, key_domain) if not os.path.exists(
        os.path.join(d, "r1.%s.key" % key_domain)) else os.path.join(
        d, "r1.%s.key" % key_domain)
    conf = {"socket": "unix:%s/sock" % d, "user": "", "authserv_id": "mx." + RECEIVER,
            "log": {"stderr": True},
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dkim": {'key "r"': {"domain": key_domain, "selector": "r1", "file": key}},
            "report": {"database": database, "email": "dmarc-reports@" + RECEIVER,
                       "org_name": "Receiver Example"}}
    if sendmail:
        conf["report"]["sendmail"] = sendmail
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(conf_text(conf) + "\n")
    return path


def make_sendmail(d, fail=False):
    """A stand-in sendmail: keeps each message in d/mail/, checks it got -t -oi."""
    box = os.path.join(d, "mail")
    os.makedirs(box, exist_ok=True)
    path = os.path.join(d, "sendmail-fail" if fail else "sendmail")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
        if fail:
            f.write("cat >/dev/null; echo 'sendmail: queue full' >&2; exit 75\n")
        else:
            f.write('[ "$1 $2" = "-t -oi" ] || exit 64\n'
                    't=$(mktemp %s/.m.XXXXXX) && cat >"$t" && mv "$t" "%s/m${t##*/.m.}.eml"\n'
                    % (box, box))
    os.chmod(path, 0o755)
    return path + " -t -oi", box


def run(conf, *args, timeout=60):
    return subprocess.run([REPORT, "-c", conf] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def mails(box):
    out = []
    for p in sorted(glob.glob(os.path.join(box, "*.eml"))):
        with open(p, "rb") as f:
            out.append(email.message_from_bytes(f.read(), policy=email.policy.compat32))
    return out


def xmllint_ok(path):
    p = subprocess.run("zcat '%s' | xmllint --noout --schema %s -" % (path, XSD),
                       shell=True, capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip()


def dmarc_cat(path):
    """(policy domain, {source IP: count}) as dmarc-cat (Debian's Go DMARC report
    reader, an independent parser) reads the report at path"""
    p = subprocess.run(["dmarc-cat", "-N", path], capture_output=True, text=True)
    dom = re.search(r"^Domain: (\S+)$", p.stdout, re.M)
    counts, table = collections.Counter(), False
    for line in p.stdout.splitlines():
        f = line.split()
        if f[:2] == ["IP", "Count"]:
            table = True
        elif table and len(f) >= 2 and f[1].isdigit():
            counts[f[0]] += int(f[1])
    return (dom.group(1) if dom else p.stderr.strip()[-200:]), dict(counts)


def test_out(d, conf, rows):
    out = os.path.join(d, "out")
    os.mkdir(out)
    p = run(conf, "--out", out)
    ok("out: exit 0", p.returncode == 0, p.stderr)
    files = sorted(os.listdir(out))
    doms = sorted(f.split("!")[1] for f in files)
    R.eq("out: one file per policy domain with a rua (none for norua.example)",
         doms, ["example.com", "hostile.example", "tempd.example"])
    for f in files:
        ok("out: %s named receiver!domain!begin!end!id.xml.gz" % f.split("!")[1],
           re.fullmatch(r"%s!%s!%d!%d![A-Za-z0-9]+\.xml\.gz" % (
               re.escape(RECEIVER), re.escape(f.split("!")[1]), BEGIN, END), f), f)
        good, err = xmllint_ok(os.path.join(out, f))
        ok("out: %s validates against the RFC 9990 XSD (xmllint --schema)"
           % f.split("!")[1], good, err)
    byname = {f.split("!")[1]: os.path.join(out, f) for f in files}
    root = ET.fromstring(gzip.open(byname["example.com"]).read())
    md = root.find("d:report_metadata", NS)
    R.eq("xml: org_name", md.findtext("d:org_name", None, NS), "Receiver Example")
    R.eq("xml: email", md.findtext("d:email", None, NS), "dmarc-reports@" + RECEIVER)
    R.eq("xml: date_range", (md.findtext("d:date_range/d:begin", None, NS),
                             md.findtext("d:date_range/d:end", None, NS)),
         (str(BEGIN), str(END)))
    ok("xml: generator authmilter VERSION",
       re.fullmatch(r"authmilter \d+\.\d+\.\d+", md.findtext("d:generator", "", NS)))
    rid = md.findtext("d:report_id", "", NS)
    ok("xml: the Report-ID is letters and digits and the file name's unique-id",
       re.fullmatch(r"[A-Za-z0-9]+", rid) and
       byname["example.com"].endswith("!%s.xml.gz" % rid), rid)
    pp = root.find("d:policy_published", NS)
    got = {c.tag.split("}")[1]: c.text for c in pp}
    R.eq("xml: policy_published is the latest row's (np, testing, discovery_method)",
         got, {"domain": "example.com", "discovery_method": "treewalk", "p": "reject",
               "sp": "quarantine", "np": "reject", "fo": "1", "adkim": "s",
               "aspf": "r", "testing": "n"})
    for dom in ("example.com", "hostile.example"):
        root = ET.fromstring(gzip.open(byname[dom]).read())
        R.eq("xml: %s records and counts equal the rows aggregated independently" % dom,
             parsed_records(root), expected_records(rows, dom))
        by_ip = collections.Counter()
        for key, n in expected_records(rows, dom).items():
            by_ip[key[0]] += n
        R.eq("dmarc-cat reads %s's report: its domain and the count per source IP"
             % dom, dmarc_cat(byname[dom]), (dom, dict(by_ip)))
    root = ET.fromstring(gzip.open(byname["example.com"]).read())
    n = max(len(r.findall("d:auth_results/d:dkim", NS))
            for r in root.findall("d:record", NS))
    R.eq("xml: 150 signatures reported as 100", n, 100)
    total = sum(int(c.text) for c in root.iterfind("d:record/d:row/d:count", NS))
    R.eq("xml: counts add up to the rows in the period (12; 2 outside left out)", total,
         12)
    before = {f: open(os.path.join(out, f), "rb").read() for f in files}
    p = run(conf, "--out", out)
    after = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out)}
    ok("out: a re-run writes the same names and the same bytes",
       p.returncode == 0 and before == after, p.stderr)
    return byname


def test_send(d, conf, box, files):
    p = run(conf, "--send")
    ok("send: a DNS failure in the §4 check defers tempd.example: exit 1",
       p.returncode == 1 and re.search(r"report tempd\.example .*deferred: destination "
                                       r"check: .*slow\.example", p.stderr), p.stderr)
    ms = mails(box)
    subjects = {}
    for m in ms:
        subj = re.sub(r"\s+", " ", m["Subject"])
        dom = re.match(r"Report Domain: (\S+) ", subj).group(1) if re.match(
            r"Report Domain: (\S+) ", subj) else None
        subjects[dom] = (m, subj)
    R.eq("send: one mail each for example.com and hostile.example",
         sorted(subjects), ["example.com", "hostile.example"])
    m, subj = subjects["example.com"]
    att = [x for x in m.walk() if x.get_content_type() == "application/gzip"]
    ok("send: the report is an application/gzip part", len(att) == 1)
    fname = att[0].get_filename() if att else ""
    rid = re.search(r"Report-ID: <([^>]+)>", subj)
    ok("send: Subject is \"Report Domain: D Submitter: S Report-ID: <id>\"",
       re.fullmatch(r"Report Domain: example\.com Submitter: %s Report-ID: <[A-Za-z0-9]+>"
                    % re.escape(RECEIVER), subj), subj)
    ok("send: the attachment is the --out file, byte for byte (same Report-ID)",
       att and os.path.basename(files["example.com"]) == fname and
       att[0].get_payload(decode=True) == open(files["example.com"], "rb").read(), fname)
    xml = ET.fromstring(gzip.decompress(att[0].get_payload(decode=True)))
    ok("send: the XML's report_id is the Subject's",
       rid and xml.findtext("d:report_metadata/d:report_id", "", NS) == rid.group(1))
    R.eq("send: From is report.email", m["From"], "dmarc-reports@" + RECEIVER)
    to = [a.strip() for a in re.sub(r"\s+", " ", m["To"]).split(",")]
    R.eq("send: To: own domain, an authorized external one, an override; not the "
         "unauthorized, the other-host override or the https URI", to,
         ["dmarc@example.com", "agg@reports.example.net", "other@over.example.net"])
    ok("send: the log names the destinations dropped",
       "x@unauth.example.net" in p.stderr or "unauth.example.net" in p.stderr, p.stderr)
    h, _ = subjects["hostile.example"]
    raw = h.as_string()
    hdrs = raw.split("\n\n", 1)[0]
    hto = [a.strip() for a in re.sub(r"\s+", " ", h["To"]).split(",")]
    R.eq("send: hostile rua: 10 of 3000 URIs, no CR/LF-injected address",
         hto, ["r%d@hostile.example" % i for i in range(10)])
    ok("send: hostile rua: no Bcc, no 'evil' anywhere in the headers",
       "bcc" not in hdrs.lower() and "evil" not in hdrs, hdrs)
    ok("send: every header line is printable ASCII",
       all(re.fullmatch(r"[\x20-\x7e\t]*", ln) for ln in hdrs.split("\n")))
    n = len(ms)
    p = run(conf, "--send")
    ok("send: a re-run sends nothing twice", len(mails(box)) == n and
       p.returncode == 1 and p.stderr.count("already sent") == 2, p.stderr)


def test_sendmail_fails(d, dns):
    db = "sqlite:%s/fail.db" % d
    put_rows(db, [row("fail.example", "192.0.2.6", BEGIN + 5)])
    cmd, _ = make_sendmail(d, fail=True)
    conf = write_conf(d, dns, db, sendmail=cmd, name="fail.conf")
    p = run(conf, "--send")
    ok("sendmail exits 75: exit 1 and the status named",
       p.returncode == 1 and "status 75" in p.stderr, p.stderr)
    cmd, box = make_sendmail(d)
    conf = write_conf(d, dns, db, sendmail=cmd, name="fail2.conf")
    before = len(mails(box))
    p = run(conf, "--send")
    ok("after a failed send the next run sends it", p.returncode == 0 and
       len(mails(box)) == before + 1, p.stderr)


def test_db_errors(d, dns):
    conf = write_conf(d, dns, "sqlite:/nonexistent/dir/r.db", name="e1.conf")
    p = run(conf, "--send")
    ok("database gone: exit 2, report.database named",
       p.returncode == 2 and "report.database" in p.stderr, p.stderr)
    junk = os.path.join(d, "junk.db")
    with open(junk, "wb") as f:
        f.write(b"this is not a database" * 100)
    conf = write_conf(d, dns, "sqlite:" + junk, name="e2.conf")
    p = run(conf, "--out", d)
    ok("database corrupt: exit 2 and a clear line",
       p.returncode == 2 and "not a database" in p.stderr, p.stderr)
    path = os.path.join(d, "locked.db")
    put_rows("sqlite:" + path, [row("lock.example", "192.0.2.7", BEGIN + 5)])
    conf = write_conf(d, dns, "sqlite:" + path, name="e3.conf")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    t0 = time.time()
    p = run(conf, "--send")
    db.execute("ROLLBACK")
    db.close()
    ok("database locked: exit 2 after the busy wait, 'locked' named",
       p.returncode == 2 and "locked" in p.stderr, "%s (%.1f s)" % (p.stderr,
                                                                 time.time() - t0))
    p = subprocess.run([REPORT, "-c", conf], capture_output=True, text=True)
    ok("neither --out nor --send: says so, usage, exit 2",
       p.returncode == 2 and "give --out DIR, --out-mail DIR or --send" in p.stderr
       and "usage" in p.stderr, p.stderr)


UNSIGNED_WARNING = "report.email: warning: we sign for no key of " + RECEIVER


def test_unsigned_email(d, dns):
    """report.email in a domain no key signs for (a new user's first try): --out
    and --out-mail work without a word about it, --send warns once and sends"""
    db = "sqlite:%s/u.db" % d
    put_rows(db, [row("example.com", "192.0.2.9", BEGIN + 5)])
    cmd, box = make_sendmail(d)
    conf = write_conf(d, dns, db, sendmail=cmd, key_domain="other.example",
                      name="u.conf")
    out = os.path.join(d, "new", "reports")
    p = run(conf, "--out", out)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    ok("unsigned report.email, --out into a missing DIR: made, one file, exit 0",
       p.returncode == 0 and len(files) == 1 and files[0].endswith(".xml.gz"),
       "%s %s" % (files, p.stderr))
    ok("--out: no warning about report.email (nothing is sent)",
       "warning" not in p.stderr, p.stderr)
    box2 = os.path.join(d, "mails")
    p = run(conf, "--out-mail", box2)
    emls = sorted(os.listdir(box2)) if os.path.isdir(box2) else []
    ok("--out-mail: one NAME.eml, the --out file's name + .eml, exit 0",
       p.returncode == 0 and emls == [f + ".eml" for f in files],
       "%s %s" % (emls, p.stderr))
    if emls:
        with open(os.path.join(box2, emls[0]), "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.compat32)
        parts = [x for x in msg.walk() if x.get_content_type() == "application/gzip"]
        R.eq("--out-mail: From, To and the RFC 9990 Subject",
             (msg["From"], msg["To"], "Report Domain: example.com" in
              re.sub(r"\s+", " ", msg["Subject"] or "")),
             ("dmarc-reports@" + RECEIVER, "dmarc@example.com", True))
        R.eq("--out-mail: the attachment is the --out file, byte for byte",
             parts[0].get_payload(decode=True) if parts else None,
             open(os.path.join(out, files[0]), "rb").read())
    ok("--out-mail: nothing handed to sendmail", mails(box) == [], "")
    p = run(conf, "--send")
    ok("unsigned report.email, --send: sent, exit 0", p.returncode == 0 and
       len(mails(box)) == 1, p.stderr)
    R.eq("--send: the warning, once", p.stderr.count(UNSIGNED_WARNING), 1)


def test_usage(d):
    """every wrong command line names what is wrong; --help answers on stdout"""
    conf = os.path.join(d, "none.conf")
    for args, want in ((["--begin", str(BEGIN), "--out", d], "--begin without --end"),
                       (["--end", str(END), "--send"], "--end without --begin"),
                       (["--begin", "yesterday", "--end", "1", "--send"],
                        "--begin yesterday: not a number"),
                       (["--out", d, "--send"], "--send and --out exclude each other"),
                       (["--out", d, "--out-mail", d], "--out-mail: give one of"),
                       (["--send", "extra"], "extra: unexpected argument"),
                       (["--failure", "--begin", "1", "--end", "2", "--send"],
                        "--begin: failure reports take no period"),
                       (["--bogus"], "unrecognized option '--bogus'")):
        p = subprocess.run([REPORT, "-c", conf] + args, capture_output=True, text=True)
        ok("usage: %s -> exit 2, '%s', usage" % (" ".join(args), want),
           p.returncode == 2 and want in p.stderr and "usage:" in p.stderr, p.stderr)
    for prog in (REPORT, KEYGEN, CHECK):
        name = os.path.basename(prog)
        p = subprocess.run([prog, "--help"], capture_output=True, text=True)
        ok("%s --help: exit 0, usage on stdout, nothing on stderr" % name,
           p.returncode == 0 and p.stdout.startswith("usage: " + name) and
           p.stderr == "", "%d %r %r" % (p.returncode, p.stdout[:80], p.stderr))
        p = subprocess.run([prog, "--no-such-option"], capture_output=True, text=True)
        ok("%s --no-such-option: exit 2, the option named" % name,
           p.returncode == 2 and "--no-such-option" in p.stderr, p.stderr)


def test_pg_race(dns):
    if not pgcluster.available():
        R.fail("postgres: race", "PostgreSQL 15 is not installed")
        return
    d = tmpdir()
    with pgcluster.running("reports") as pg:
        uri = pg.uri("reports")
        rows = [row("pg%02d.example" % i, "192.0.2.%d" % (i + 1), BEGIN + i)
                for i in range(40)]
        put_rows(uri, rows)
        cmd, box = make_sendmail(d)
        conf = write_conf(d, dns, uri, sendmail=cmd, name="pg.conf")
        procs = [subprocess.Popen([REPORT, "-c", conf, "--send"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        codes = [p.returncode for p in procs]
        ms = mails(box)
        doms = collections.Counter(re.search(r"Report Domain: (\S+)",
                                             re.sub(r"\s+", " ", m["Subject"])).group(1)
                                   for m in ms)
        ok("postgres: two generators at once exit 0", codes == [0, 0],
           "%s %s" % (codes, [o[1][-300:] for o in outs]))
        R.eq("postgres: two generators at once send each of 40 reports once",
             (len(doms), max(doms.values()) if doms else 0), (40, 1))
        sent = [len(re.findall(r": sent to=", o[1])) for o in outs]
        ok("postgres: both generators took part or one held them all (%s)" % sent,
           sum(sent) == 40, outs[0][1][-500:])
        p = run(conf, "--send")
        ok("postgres: a third run sends nothing", p.returncode == 0 and
           len(mails(box)) == 40 and p.stderr.count("already sent") == 40,
           p.stderr[-500:])


def main():
    d = tmpdir()
    records = [txt("_dmarc.example.com", "v=DMARC1; p=reject"),
               txt("example.com._report._dmarc.reports.example.net", "v=DMARC1"),
               txt("example.com._report._dmarc.over.example.net",
                   "v=DMARC1; rua=mailto:other@over.example.net"),
               txt("example.com._report._dmarc.evil.example.net",
                   "v=DMARC1; rua=mailto:z@elsewhere.example")]
    with DNSServer(records, extra_conf=[refuse_zone("slow.example")]) as dns:
        db = "sqlite:%s/r.db" % d
        rows = make_rows()
        put_rows(db, rows)
        cmd, box = make_sendmail(d)
        conf = write_conf(d, dns, db, sendmail=cmd)
        files = R.run("out", test_out, d, conf, rows)
        if files:
            R.run("send", test_send, d, conf, box, files)
        R.run("sendmail fails", test_sendmail_fails, tmpdir(), dns)
        R.run("database errors", test_db_errors, tmpdir(), dns)
        R.run("unsigned report.email", test_unsigned_email, tmpdir(), dns)
        R.run("usage", test_usage, tmpdir())
        R.run("postgres", test_pg_race, dns)
    R.exit()


if __name__ == "__main__":
    main()
