#!/usr/bin/python3
"""test_spoof - issue 11's six findings, each a way to spoof past authmilter, through
the real daemon (tests/lib/miltc over its socket, a real unbound on loopback).

Every case here passed or vouched for spoofed mail on the tree before the fix:
  1. a MAIL FROM longer than a fixed copy: DMARC aligned with the cut copy
     (496 x "a" @paypal.example.evil.example, and a quoted local part);
  2. a forged A-R after 10,000 header fields survived (never stored, never deleted);
     more forged fields than we delete: the message is refused;
  3. outbound (SASL or internal) mail kept a forged A-R naming us;
  4. a DNS failure on an aligned DKIM key made dmarc=fail and a permanent 550;
  5. an l= signature kept passing after text was appended;
  6. attacker text (';', '=', '(') inside our own A-R values.
Postfix versions of 1 and 2 are in test_postfix.py.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, run_miltc  # noqa: E402
from dnsserver import DNSServer, a, refuse_zone, txt  # noqa: E402

import authres  # noqa: E402
import dkim  # noqa: E402

AUTHSERV = "mx.test.example"
IP = "192.0.2.10"
DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
with open(os.path.join(DKIMPY_DATA, "2048_testkey.key"), "rb") as f:
    RSA_KEY = f.read()
with open(os.path.join(DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt")) as f:
    RSA_PUB = f.read().strip()

RECORDS = [
    a("mail.example.org", IP),
    # the spoofed brand: p=reject, strict SPF alignment, nobody may send
    txt("paypal.example", "v=spf1 -all"),
    txt("_dmarc.paypal.example", "v=DMARC1; p=reject; aspf=s"),
    # the attacker's own names, SPF published for the client
    txt("paypal.example.evil.example", "v=spf1 ip4:%s -all" % IP),
    txt("evil.example", "v=spf1 ip4:%s -all" % IP),
    # a signer whose key zone refuses (REFUSED: a temporary failure)
    txt("dkimtemp.example", "v=spf1 -all"),
    txt("_dmarc.dkimtemp.example", "v=DMARC1; p=reject"),
    # a signer with a working key; SPF never passes for it
    txt("short.example", "v=spf1 -all"),
    txt("_dmarc.short.example", "v=DMARC1; p=reject"),
    txt("rsa._domainkey.short.example", RSA_PUB),
]
EXTRA = [refuse_zone("_domainkey.dkimtemp.example")]


def message(frm, subject, body="Hello.\n", extra=()):
    hdrs = ["From: " + frm, "To: rcpt@example.net", "Subject: " + subject,
            "Date: Mon, 01 Jan 2024 00:00:00 +0000",
            "Message-ID: <%s@test.example>" % re.sub(r"\W", "", subject)] + list(extra)
    return ("\n".join(hdrs) + "\n\n" + body).encode()


def sign(msg, domain, length=False):
    return dkim.sign(msg, b"rsa", domain.encode(), RSA_KEY, linesep=b"\n", length=length,
                     include_headers=[b"from", b"to", b"subject", b"date"]) + msg


def send(m, msg, mail_from, qid, helo="mail.example.org", **kw):
    kw.setdefault("client_addr", IP)
    kw.setdefault("client_name", "mail.example.org")
    return run_miltc(m.socket, msg, helo=helo, mail_from=mail_from,
                     rcpts=["rcpt@example.net"], queue_id=qid, **kw)


def our_ar(r):
    ars = [mod[3] for mod in r["mods"] if mod[0] in ("add", "insert")
           and mod[2].lower() == "authentication-results"]
    return ars[0] if len(ars) == 1 else None


def deleted(r):
    return [mod[1] for mod in r["mods"] if mod[0] == "change"
            and mod[2].lower() == "authentication-results" and mod[3] == ""]


def long_mail_from(R, m):
    """1: the whole MAIL FROM is what SPF evaluated and what DMARC aligns with."""
    frm = message("service@paypal.example", "long")
    # the old 512-byte copy ended exactly at "...@paypal.example"
    plain = "a" * 496 + "@paypal.example.evil.example"
    quoted = '"' + "a" * 495 + '@paypal.example"@evil.example'
    for name, sender in (("long local part", plain), ("quoted local part", quoted)):
        qid = "LONG%d" % len(name)
        r = send(m, frm, sender, qid)
        R.eq("1 %s: spoof of p=reject paypal.example refused" % name, r["action"],
             "reject")
        line = m.wait_log(r"%s: inbound " % qid, 3) or ""
        R.ok("1 %s: spf=pass for the attacker's domain, dmarc=fail" % name,
             "spf=pass" in line and "dmarc=fail header.from=paypal.example" in line
             and "action=reject by=dmarc" in line, line)


def forged_past_cap(R, m):
    """2: forged A-R fields are seen and deleted wherever they stand."""
    forged = "Authentication-Results: %s; dmarc=pass header.from=paypal.example" % AUTHSERV
    fill = ["X-Fill-%d: v" % i for i in range(10000)]
    msg = message("a@evil.example", "cap", extra=[forged, "Authentication-Results: "
                  "other.example; spf=pass"] + fill + [forged])
    r = send(m, msg, "a@evil.example", "CAP1")
    R.eq("2 forged A-R after 10,000 fields: accepted (SPF aligned)", r["action"], "accept")
    # occurrences 1 and 3 are ours (2 is foreign), deleted from the last
    R.eq("2 forged A-R after 10,000 fields: both forged deleted, last first, the "
         "foreign one kept", deleted(r), [3, 1])
    line = m.wait_log(r"CAP1: inbound ", 3) or ""
    R.ok("2 logged headers=over-limit", "headers=over-limit" in line, line)

    # a signature cannot be checked when fields it may cover were not stored
    signed = sign(message("a@short.example", "capsig"), "short.example")
    head, _, body = signed.partition(b"\n\n")
    msg = head + b"\n" + "\n".join(fill).encode() + b"\n\n" + body
    r = send(m, msg, "x@short.example", "CAP2")
    R.eq("2 signed message past the caps: DKIM cannot pass, DMARC rejects", r["action"],
         "reject")
    line = m.wait_log(r"CAP2: inbound ", 3) or ""
    R.ok("2 signed message past the caps: dkim=permerror logged",
         "dkim=permerror (header fields over limit) header.d=short.example" in line, line)

    many = message("a@evil.example", "many", extra=[forged] * 10001)
    r = send(m, many, "a@evil.example", "CAP3")
    R.eq("2 more forged A-R than we delete: refused", r["action"], "reject")
    R.ok("2 more forged A-R than we delete: 550 5.7.1",
         (r["reply"] or "").startswith("550 5.7.1 "), r["reply"])
    line = m.wait_log(r"CAP3: inbound ", 3) or ""
    R.ok("2 more forged A-R than we delete: logged by=authres",
         "action=reject by=authres" in line, line)


def outbound_forged(R, m):
    """3: internal and authenticated mail is stripped of A-R naming us too."""
    forged = "Authentication-Results: %s; dmarc=pass header.from=paypal.example" % AUTHSERV
    msg = message("service@paypal.example", "colleague", extra=[forged])
    for name, kw in (("SASL client", {"auth": "alice"}),
                     ("internal host", {"client_addr": "127.0.0.1",
                                        "client_name": "localhost"})):
        qid = "OUT%d" % len(name)
        r = send(m, msg, "alice@example.com", qid, **kw)
        R.eq("3 outbound (%s): accepted" % name, r["action"], "accept")
        R.eq("3 outbound (%s): forged A-R deleted" % name, deleted(r), [1])
        line = m.wait_log(r"%s: outbound " % qid, 3) or ""
        R.ok("3 outbound (%s): logged as outbound" % name, "outbound" in line, line)


def dkim_key_tempfail(R, m):
    """4: an aligned key lookup that failed temporarily is a temperror, not a 550."""
    msg = sign(message("a@dkimtemp.example", "keytemp"), "dkimtemp.example")
    r = send(m, msg, "x@dkimtemp.example", "KEYT")
    R.eq("4 DKIM key lookup REFUSED, SPF fails: tempfail, not reject", r["action"],
         "tempfail")
    R.ok("4 reply 451 4.7.1", (r["reply"] or "").startswith("451 4.7.1 "), r["reply"])
    line = m.wait_log(r"KEYT: inbound ", 3) or ""
    R.ok("4 logged dkim=temperror dmarc=temperror by=dmarc",
         "dkim=temperror" in line and "dmarc=temperror" in line and
         "action=tempfail by=dmarc" in line, line)


def body_length(R, m, m_allow):
    """5: text appended after l= is vouched for by nobody."""
    signed = sign(message("a@short.example", "lsig", body="Hi\n"), "short.example",
                  length=True)
    whole = send(m, signed, "x@short.example", "LEN0")
    R.eq("5 l= covering the whole body: accepted (dkim=pass)", whole["action"], "accept")
    phish = signed + b"\nClick http://phish.example/ to keep your account.\n"
    r = send(m, phish, "x@short.example", "LEN1")
    R.eq("5 l= signature with text appended: DMARC fails, rejected", r["action"], "reject")
    line = m.wait_log(r"LEN1: inbound ", 3) or ""
    R.ok("5 logged dkim=policy dmarc=fail",
         re.search(r"dkim=policy \(l= covers \d+ of \d+ body bytes\) header\.d=short\.example",
                   line) is not None
         and "dmarc=fail" in line, line)
    r = send(m_allow, phish, "x@short.example", "LEN2")
    R.eq("5 dkim.allow_partial_body = true: accepted", r["action"], "accept")
    ar = our_ar(r) or ""
    R.ok("5 allow_partial_body: A-R dkim=pass with the l= comment",
         re.search(r"dkim=pass \([^)]*l=\d+", ar) is not None, ar)


def authres_injection(R, m):
    """6: nothing from the peer reads as a result of ours."""
    sender = '"x;dkim=pass header.d=paypal.example"@evil.example'
    r = send(m, message("a@evil.example", "inject"), sender, "INJ1",
             helo="evil.example")
    ar = our_ar(r)
    R.ok("6 A-R added", ar is not None, r["mods"])
    ar = ar or ""
    R.ok("6 quoted MAIL FROM with ';' and '=': written as the domain alone",
         "smtp.mailfrom=evil.example;" in ar or ar.rstrip().endswith(
             "smtp.mailfrom=evil.example"), ar)
    R.ok("6 no attacker text in our A-R", "paypal" not in ar and ar.count(";") ==
         len(re.findall(r";\s*\r?\n", ar)), ar)
    h = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + ar)
    got = [(x.method, x.result) for x in h.results]
    R.ok("6 python3-authres reads no dkim result but our dkim=none",
         [x for x in got if x[0] == "dkim"] == [("dkim", "none")], got)

    r = send(m, message("a@evil.example", "injhelo"), "a@evil.example", "INJ2",
             helo="x;dkim=pass header.d=paypal.example")
    ar = our_ar(r) or ""
    R.ok("6 HELO with ';' and spaces: no attacker text in our A-R", ar and
         "paypal" not in ar, ar)


def main():
    R = Results()
    with DNSServer(RECORDS, ptrs=[(IP, "mail.example.org")], extra_conf=EXTRA) as dns:
        base = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [dns.address], "timeout": 2}}
        allow = dict(base, dkim={"allow_partial_body": True})
        with Milter(base) as m, Milter(allow) as m_allow:
            R.run("1 long MAIL FROM", long_mail_from, R, m)
            R.run("2 forged A-R past the caps", forged_past_cap, R, m)
            R.run("3 outbound forged A-R", outbound_forged, R, m)
            R.run("4 DKIM key temperror", dkim_key_tempfail, R, m)
            R.run("5 l= body length", body_length, R, m, m_allow)
            R.run("6 A-R injection", authres_injection, R, m)
    R.exit()


if __name__ == "__main__":
    main()
