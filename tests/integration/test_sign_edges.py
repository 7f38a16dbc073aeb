#!/usr/bin/python3
"""test_sign_edges - outbound signing of malformed header blocks (issue 25, items 6
and 7), through the real daemon and a loopback unbound holding the keys.

- "Subject : x" (obsolete white space before the colon, RFC 5322 §4.5.8) sent by a
  milter client that passes the name with its trailing space (miltc --raw-names;
  Postfix strips it, other MTAs may not): the field is signed as Subject under
  simple/simple and relaxed/relaxed, over what the verifier sees ("Subject : x"),
  and Mail::DKIM verifies the RSA signature on the message as delivered (dkimpy
  cannot read such a message at all: its parser refuses a space before the colon,
  so it verifies the relaxed signatures on the same message with the space
  removed, which relaxed canonicalization makes equivalent). "From : a@x" is a
  From: the message is signed for its domain.
- Two From fields outbound: under dkim.on_sign_error = "tempfail" (the default:
  no unsigned mail out) a 550 5.7.1 naming RFC 5322 §3.6, under "accept" accepted
  unsigned; both logged with their reason and counted on /metrics
  (authmilter_unsigned_total{reason="several-from-headers"}).
"""
import os
import re
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from test_sign_interop import (PERL_VERIFY, World, crlf, dkimpy_verify,  # noqa: E402
                               signatures)

import dkim  # noqa: E402

OBS = (b"From: Alice <alice@example.com>\nTo: Bob <bob@example.net>\n"
       b"Subject : hello there\nDate: Sat, 21 Nov 2026 12:00:00 +0000\n"
       b"Message-ID: <obs@example.com>\n\nHello.\n")
OBS_FROM = OBS.replace(b"From: Alice", b"From : Alice")
TWO_FROM = (b"From: alice@example.com\nFrom: carol@example.com\nTo: bob@example.net\n"
            b"Subject: x\n\nBody.\n")


def mail_dkim_rsa(msg, port):
    """Mail::DKIM's result for the RSA signature (s=2026r) of msg"""
    path = os.path.join(harness.tmpdir(), "m.eml")
    with open(path, "wb") as f:
        f.write(msg)
    p = subprocess.run(["perl", "-e", PERL_VERIFY, str(port), path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        if len(f) >= 4 and f[1] == "2026r":
            return f[3] if f[3] == "pass" else "%s (%s)" % (f[3], f[4:])
    return "no answer: " + p.stderr.decode()[-300:]


def h_tags(msg):
    return [x.lower().replace(" ", "").replace("\t", "") for x in
            re.findall(r"(?:^|;)\s*h=([^;]*);", msg.decode().replace("\r\n\t", ""))]


def check_obs_subject(t, w, canon):
    with harness.Milter(w.conf(canon)) as m:
        r = harness.run_miltc(m.socket, OBS, output=True, client_addr="127.0.0.1",
                              queue_id="OBS1", extra_args=["--raw-names"])
        out = crlf(r["output"] or b"")
        t.ok("%s: the delivered message keeps 'Subject : hello there'" % canon,
             b"\r\nSubject : hello there\r\n" in out, out[:400])
        t.eq("%s: signed (RSA, Ed25519)" % canon, [s[:3] for s in signatures(out)],
             [("example.com", "2026r", "rsa-sha256"),
              ("example.com", "2026e", "ed25519-sha256")])
        t.ok("%s: h= names subject twice (the field and its oversigning)" % canon,
             h_tags(out) and all(x.split(":").count("subject") == 2
                                 for x in h_tags(out)), h_tags(out))
        t.eq("%s: Mail::DKIM verifies the RSA signature" % canon,
             mail_dkim_rsa(out, w.dns.port), "pass")
        try:
            dkim.DKIM(out).verify(dnsfunc=lambda *_: None)
            parsed = True
        except dkim.MessageFormatError:
            parsed = False
        t.ok("%s: dkimpy cannot read 'Subject :' (its limit; why Mail::DKIM)" % canon,
             not parsed, "dkimpy parsed it")
        if canon == "relaxed/relaxed":
            same = out.replace(b"\r\nSubject : ", b"\r\nSubject: ")
            t.eq("relaxed: dkimpy verifies both on the message without the space",
                 dkimpy_verify(same, w.dns.port), [True, True])
        altered = out.replace(b"Subject : hello there", b"Subject : hello world")
        t.ok("%s: a changed Subject fails in Mail::DKIM (the field is covered)" % canon,
             mail_dkim_rsa(altered, w.dns.port).startswith("fail"),
             mail_dkim_rsa(altered, w.dns.port))
        r = harness.run_miltc(m.socket, OBS_FROM, output=True, client_addr="127.0.0.1",
                              queue_id="OBS2", extra_args=["--raw-names"])
        out = crlf(r["output"] or b"")
        t.eq("%s: 'From : alice@example.com' is a From: signed for example.com" % canon,
             ([s[:2] for s in signatures(out)], mail_dkim_rsa(out, w.dns.port)),
             ([("example.com", "2026r"), ("example.com", "2026e")], "pass"))


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return r.read().decode()


def unsigned_count(page, reason):
    m = re.search(r'^authmilter_unsigned_total\{reason="%s"\} (\d+)$' % reason, page,
                  re.M)
    return int(m.group(1)) if m else None


def check_two_from(t, w, on_sign_error, action, reply):
    port = harness.free_port()
    conf = dict(w.conf("relaxed/relaxed"), metrics={"listen": "127.0.0.1:%d" % port})
    if on_sign_error is not None:
        conf["dkim"] = dict(conf["dkim"], on_sign_error=on_sign_error)
    name = "on_sign_error=%s" % (on_sign_error or "(default)")
    with harness.Milter(conf) as m:
        r = harness.run_miltc(m.socket, TWO_FROM, output=True, client_addr="127.0.0.1",
                              queue_id="TWO1")
        t.eq("two From, %s: action" % name, r["action"], action)
        t.eq("two From, %s: reply" % name, r["reply"], reply)
        t.eq("two From, %s: no signature" % name,
             signatures(crlf(r["output"] or b"")), [])
        line = m.wait_log(r"TWO1: outbound ", 5) or ""
        t.ok("two From, %s: the log line gives the reason and the action" % name,
             "dkim-sign=none reason=several-from-headers action=%s" % action in line,
             line)
        page = scrape(port)
        t.eq("two From, %s: counted on /metrics" % name,
             unsigned_count(page, "several-from-headers"), 1)
        t.eq("two From, %s: other reasons not counted" % name,
             unsigned_count(page, "no-from"), 0)


def main():
    t = harness.Results()
    w = World()
    try:
        for canon in ("simple/simple", "relaxed/relaxed"):
            t.run("obsolete WSP before the colon, %s" % canon, check_obs_subject, t, w,
                  canon)
        t.run("two From, default", check_two_from, t, w, None, "reject",
              "550 5.7.1 several From header fields (RFC 5322 section 3.6): not signed, "
              "not sent")
        t.run("two From, accept", check_two_from, t, w, "accept", "accept", None)
    finally:
        w.dns.cleanup()
    t.exit()


if __name__ == "__main__":
    main()
