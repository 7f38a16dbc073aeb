#!/usr/bin/python3
"""test_inbound - inbound messages through the real daemon (issue 4's proof).

A scenario table: each case is one message sent by tests/lib/miltc over the
daemon's socket, with a real unbound on loopback serving every record. For each
case the test checks the action and SMTP reply, our Authentication-Results (read
by python3-authres), and the fields of the one log line the daemon writes.

Covered: every iprev, SPF, DKIM and DMARC result the daemon gives, every action
(accept, reject, tempfail, quarantine, dry-run), From header edge cases, forged
A-R removal, p/sp/np, pct=0 (ignored under RFC 9989), strict alignment, the organizational domain under a
multi-label public suffix, an IDN From, DKIM signatures made by dkimpy (RSA,
Ed25519, rsa-sha1), by OpenDKIM (its milter in sign mode) and the RFC 8463
Appendix A vector.

Then the DMARC verdict of every case that has one is recomputed by Mail::DMARC
(libmail-dmarc-perl, PurePerl; Debian's implements RFC 7489) from the same SPF/DKIM
results and the same DNS server; where it must differ, the case says so (md_diff)
and why, naming the RFC 9989 section where the difference is the new standard.
test_dmarc9989.py diffs RFC 9989 cases against mailauth.

Run: AUTHMILTER_BUILDDIR=/work/main AUTHMILTER_SRCDIR=/work/main \\
     tests/integration/test_inbound.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, run_miltc  # noqa: E402
from dnsserver import (DNSServer, DelayProxy, a, refuse_zone,  # noqa: E402
                       txt)
from dkimsig import sign_tags  # noqa: E402

import authres  # noqa: E402
import dkim  # noqa: E402

AUTHSERV = "mx.test.example"
DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
OPENDKIM = shutil.which("opendkim") or "/usr/sbin/opendkim"


def _read(name, mode="rb"):
    with open(os.path.join(DKIMPY_DATA, name), mode) as f:
        return f.read()


RSA_KEY = _read("2048_testkey.key")
RSA_PUB = _read("2048_testkey_wo_markers.pub.txt", "r").strip()   # v=DKIM1; ... p=
ED_KEY = _read("ed25519test.key").strip()
ED_PUB = "v=DKIM1; " + _read("ed25519test.dns", "r").strip()
# RFC 8463 Appendix A: the keys dkimpy's own tests publish for this message
RFC8463_MSG = _read("rfc6376.signed.msg")
RFC8463_RSA = _read("test.txt", "r").strip()
RFC8463_ED = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

IP_GOOD = "192.0.2.10"       # mail.example.org, forward-confirmed; in the SPF records
IP_FWD = "192.0.2.50"        # fwd.example.net, forward-confirmed; in no SPF record
IP_LIAR = "192.0.2.60"       # PTR liar.example.net, whose A is another address
IP_TEMP = "192.0.2.70"       # its reverse zone answers REFUSED

IDN_U = "b\u00fccher.com"
IDN_A = "xn--bcher-kva.com"

SPF_GOOD = "v=spf1 ip4:192.0.2.10 -all"
RECORDS = [
    a("mail.example.org", IP_GOOD), a("fwd.example.net", IP_FWD),
    a("liar.example.net", "192.0.2.61"),
    # example.org: p=reject, SPF -all, DKIM keys
    a("example.org", "192.0.2.1"), txt("example.org", SPF_GOOD),
    txt("_dmarc.example.org", "v=DMARC1; p=reject"),
    txt("rsa._domainkey.example.org", RSA_PUB),
    txt("ed._domainkey.example.org", ED_PUB),
    txt("odk._domainkey.example.org", RSA_PUB),
    txt("revoked._domainkey.example.org", "v=DKIM1; k=rsa; p="),
    # example.net: p=quarantine, SPF ~all
    a("example.net", "192.0.2.2"), txt("example.net", "v=spf1 ip4:192.0.2.10 ~all"),
    txt("_dmarc.example.net", "v=DMARC1; p=quarantine"),
    txt("rsa._domainkey.example.net", RSA_PUB),
    # example.com: p=reject; football.example.com carries the RFC 8463 keys
    a("example.com", "192.0.2.3"), txt("example.com", SPF_GOOD),
    txt("_dmarc.example.com", "v=DMARC1; p=reject"),
    txt("rsa._domainkey.example.com", RSA_PUB),
    a("football.example.com", "192.0.2.4"),
    txt("brisbane._domainkey.football.example.com", RFC8463_ED),
    txt("test._domainkey.football.example.com", RFC8463_RSA),
    # sptest.com: p=none, sp=quarantine, np=reject
    a("sptest.com", "192.0.2.5"), a("a.sptest.com", "192.0.2.5"),
    txt("_dmarc.sptest.com", "v=DMARC1; p=none; sp=quarantine; np=reject"),
    # pct0.com: p=reject pct=0
    a("pct0.com", "192.0.2.6"), txt("_dmarc.pct0.com", "v=DMARC1; p=reject; pct=0"),
    # strict.com: strict alignment for both
    a("strict.com", "192.0.2.7"), a("sub.strict.com", "192.0.2.7"),
    txt("_dmarc.strict.com", "v=DMARC1; p=reject; adkim=s; aspf=s"),
    txt("sub.strict.com", SPF_GOOD), txt("rsa._domainkey.sub.strict.com", RSA_PUB),
    # example.co.uk under the multi-label public suffix co.uk
    a("example.co.uk", "192.0.2.8"), a("a.b.example.co.uk", "192.0.2.8"),
    txt("example.co.uk", SPF_GOOD),
    txt("_dmarc.example.co.uk", "v=DMARC1; p=reject; sp=quarantine"),
    # IDN, published under its A-label
    a(IDN_A, "192.0.2.9"), txt(IDN_A, SPF_GOOD),
    txt("_dmarc." + IDN_A, "v=DMARC1; p=reject"),
    # no DMARC record; SPF oddities; a broken DMARC record
    a("nodmarc.com", "192.0.2.11"), txt("rsa._domainkey.nodmarc.com", RSA_PUB),
    a("tempfail.com", "192.0.2.12"), txt("tempfail.com", SPF_GOOD),
    a("spfperm.com", "192.0.2.13"), txt("spfperm.com", "v=spf1 bogus:x -all"),
    a("spfneutral.com", "192.0.2.14"), txt("spfneutral.com", "v=spf1 ?all"),
    a("dkimtemp.com", "192.0.2.15"),
    a("badrec.com", "192.0.2.16"), txt("badrec.com", SPF_GOOD),
    txt("_dmarc.badrec.com", "v=DMARC1; p=bogus"),
    # SPF exp= (RFC 7208 §6.2): a good explanation, and one with a control byte
    a("spfexp.com", "192.0.2.17"),
    txt("spfexp.com", "v=spf1 ip4:192.0.2.10 -all exp=why.%{d}"),
    txt("why.spfexp.com", "%{i} may not send for %{d} (%{l}), see http://%{d}/spf"),
    a("badexp.com", "192.0.2.18"),
    txt("badexp.com", "v=spf1 ip4:192.0.2.10 -all exp=why.%{d}"),
    txt("why.badexp.com", "line one\r\n250 forged"),
]
PTRS = [(IP_GOOD, "mail.example.org"), (IP_FWD, "fwd.example.net"),
        (IP_LIAR, "liar.example.net")]
EXTRA = [refuse_zone("_dmarc.tempfail.com"), refuse_zone("spftemp.com"),
         refuse_zone("_domainkey.dkimtemp.com"),
         refuse_zone("70.2.0.192.in-addr.arpa")]


# ---------------------------------------------------------------- messages

def message(frm="a@example.org", body="Hello.\nSecond line.\n", extra=(),
            subject="test", from_lines=None):
    """A plain LF message; from_lines replaces the From header(s) (list, may be [])."""
    hdrs = list(extra)
    for f in (["From: " + frm] if from_lines is None else from_lines):
        hdrs.append(f)
    hdrs += ["To: rcpt@example.net", "Subject: " + subject,
             "Date: Mon, 01 Jan 2024 00:00:00 +0000",
             "Message-ID: <%s@test.example>" % re.sub(r"\W", "", subject)]
    return ("\n".join(hdrs) + "\n\n" + body).encode("utf-8")


def sign(msg, domain, selector="rsa", key=None, alg=b"rsa-sha256",
         canon=(b"relaxed", b"simple"), identity=None):
    """msg with a dkimpy signature on top (identity: the i= text as written)."""
    if key is None:
        key = ED_KEY if alg == b"ed25519-sha256" else RSA_KEY
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    canonicalize=canon, signature_algorithm=alg, linesep=b"\n",
                    identity=identity,
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"])
    return sig + msg


def sign_at(msg, t=None, x=None):
    """msg signed for example.org (s=rsa) with t= and x= as given (None: absent)."""
    tags = [(b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", b"relaxed/simple"),
            (b"d", b"example.org"), (b"s", b"rsa")]
    tags += [(k, str(v).encode()) for k, v in ((b"t", t), (b"x", x)) if v is not None]
    tags.append((b"h", b"from:to:subject:date:message-id"))
    return sign_tags(msg, tags, RSA_KEY)


def opendkim_sign(msg):
    """msg signed by OpenDKIM's milter (sign mode, d=example.org s=odk), driven by
    miltc as an internal client; returns the signed message."""
    m = Milter(start=False, command=[OPENDKIM, "-f", "-x", "{dir}/opendkim.conf"])
    os.chmod(m.dir, 0o700)
    keyfile = os.path.join(m.dir, "odk.key")
    with open(keyfile, "wb") as f:
        f.write(RSA_KEY)
    os.chmod(keyfile, 0o600)
    import pwd
    user = pwd.getpwuid(os.getuid()).pw_name
    with open(os.path.join(m.dir, "opendkim.conf"), "w") as f:
        f.write("Socket local:%s/sock\nMode s\nDomain example.org\nSelector odk\n"
                "KeyFile %s\nRequireSafeKeys false\nBackground no\nSyslog no\n"
                "UserID %s\nCanonicalization relaxed/relaxed\n"
                "PidFile %s/pid\n" % (m.dir, keyfile, user, m.dir))
    m.start()
    try:
        r = run_miltc(m.socket, msg, client_addr="127.0.0.1", mail_from="a@example.org",
                      rcpts=["rcpt@example.net"], output=True)
    finally:
        m.stop()
    if not r["output"] or b"DKIM-Signature:" not in r["output"]:
        raise RuntimeError("OpenDKIM did not sign: %s" % r["stdout"])
    return r["output"]


def many_sigs(msg, n):
    for _ in range(n):
        msg = sign(msg, "example.org")
    return msg


# ---------------------------------------------------------------- the table
#
# Keys: name, msg, ip (IP_GOOD), helo, mailfrom; action accept|reject|tempfail|
# quarantine; reply "550 5.7.1" (prefix); ar {method: result} or
# {method: [results in order]} (and "dmarc_from", "dmarc_dis", "props" checks);
# log {field: value}; logdkim [results in order]; dmarc our (result, disposition)
# for the Mail::DMARC comparison, None when DMARC was not evaluated; md_from the
# From value Mail::DMARC gets (raw header text; default: the From header);
# md_diff (result, disposition, why) when Mail::DMARC is expected to differ.

def cases():
    T = []
    good = dict(ip=IP_GOOD, helo="mail.example.org")

    def add(**kw):
        c = dict(good)
        c.update(kw)
        T.append(c)

    # --- DMARC through SPF and DKIM
    add(name="spf aligned pass, no DKIM: dmarc pass", mailfrom="x@example.org",
        msg=message(), action="accept",
        ar={"iprev": "pass", "spf": "pass", "dkim": "none", "dmarc": "pass",
            "dmarc_from": "example.org", "dmarc_dis": "none"},
        log={"iprev": "pass", "spf": "pass", "smtp.mailfrom": "example.org",
             "dkim": "none", "dmarc": "pass", "header.from": "example.org",
             "p": "reject", "action": "accept"},
        dmarc=("pass", "none"))
    add(name="aligned DKIM pass with SPF fail: accept", ip=IP_FWD,
        helo="fwd.example.net", mailfrom="x@example.org",
        msg=sign(message(subject="forwarded"), "example.org"), action="accept",
        ar={"iprev": "pass", "spf": "fail", "dkim": "pass", "dmarc": "pass"},
        log={"spf": "fail", "dmarc": "pass", "action": "accept"},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="neither aligned, p=reject: 550 5.7.1", mailfrom="x@example.com",
        msg=message(subject="neither"), action="reject", reply="550 5.7.1",
        log={"spf": "pass", "smtp.mailfrom": "example.com", "dmarc": "fail",
             "p": "reject", "action": "reject", "by": "dmarc"},
        dmarc=("fail", "reject"))
    add(name="p=quarantine: quarantine", mailfrom="x@example.org",
        msg=message("a@example.net", subject="quar"), action="quarantine",
        ar={"spf": "pass", "dmarc": "fail", "dmarc_from": "example.net",
            "dmarc_dis": "quarantine"},
        log={"dmarc": "fail", "p": "quarantine", "action": "quarantine",
             "by": "dmarc"},
        dmarc=("fail", "quarantine"))
    add(name="p=none: dmarc fail, accepted", mailfrom="x@example.org",
        msg=message("a@sptest.com", subject="pnone"), action="accept",
        ar={"dmarc": "fail", "dmarc_dis": "none"},
        log={"dmarc": "fail", "p": "none", "action": "accept"},
        dmarc=("fail", "none"))
    add(name="sp= for an existing subdomain: quarantine", mailfrom="x@example.org",
        msg=message("a@a.sptest.com", subject="sp"), action="quarantine",
        ar={"dmarc": "fail", "dmarc_from": "a.sptest.com", "dmarc_dis": "quarantine"},
        log={"dmarc": "fail", "p": "quarantine", "action": "quarantine"},
        dmarc=("fail", "quarantine"))
    add(name="np= for a non-existent subdomain: 550", mailfrom="x@example.org",
        msg=message("a@nx.sptest.com", subject="np"), action="reject",
        reply="550 5.7.1",
        log={"dmarc": "fail", "header.from": "nx.sptest.com", "p": "reject",
             "action": "reject", "by": "dmarc"},
        dmarc=("fail", "reject"),
        # Mail::DMARC 1.20211209 predates DMARCbis: it knows no np= and applies sp=
        md_diff=("fail", "quarantine", "Mail::DMARC has no np= (DMARCbis); uses sp="))
    add(name="pct=0 is ignored (RFC 9989): p=reject rejects: 550",
        mailfrom="x@example.org", msg=message("a@pct0.com", subject="pct"),
        action="reject", reply="550 5.7.1",
        log={"dmarc": "fail", "p": "reject", "policy.dmarc": "reject",
             "action": "reject", "by": "dmarc"},
        dmarc=("fail", "reject"),
        # RFC 9989 §4.7 / App. C.5: pct no longer exists; Mail::DMARC (RFC 7489)
        # still samples, and pct=0 takes every message out of the sample
        md_diff=("fail", "quarantine",
                 "RFC 9989 §4.7: pct removed; Mail::DMARC samples by RFC 7489"))
    add(name="strict alignment: subdomain DKIM and SPF do not align: 550",
        mailfrom="x@sub.strict.com",
        msg=sign(message("a@strict.com", subject="strict"), "sub.strict.com"),
        action="reject", reply="550 5.7.1",
        log={"spf": "pass", "smtp.mailfrom": "sub.strict.com", "dmarc": "fail",
             "action": "reject"},
        logdkim=["pass"], dmarc=("fail", "reject"))
    add(name="org domain under co.uk: a.b.example.co.uk passes via example.co.uk",
        mailfrom="x@example.co.uk", msg=message("a@a.b.example.co.uk", subject="couk"),
        action="accept",
        ar={"spf": "pass", "dmarc": "pass", "dmarc_from": "a.b.example.co.uk"},
        log={"dmarc": "pass", "header.from": "a.b.example.co.uk", "p": "quarantine",
             "action": "accept"},
        dmarc=("pass", "none"))
    add(name="org domain under co.uk: unaligned gets sp=quarantine",
        mailfrom="x@example.org", msg=message("a@a.b.example.co.uk", subject="couk2"),
        action="quarantine",
        ar={"dmarc": "fail", "dmarc_dis": "quarantine"},
        log={"dmarc": "fail", "p": "quarantine", "action": "quarantine"},
        dmarc=("fail", "quarantine"))

    # --- From header
    add(name="two From headers: 550", mailfrom="x@example.org",
        msg=message(from_lines=["From: a@example.org", "From: b@example.org"],
                    subject="twofrom"),
        action="reject", reply="550 5.7.1",
        log={"from-headers": "2", "action": "reject", "by": "from"}, dmarc=None)
    add(name="From with two domains: 550", mailfrom="x@example.org",
        msg=message("a@example.org, b@example.com", subject="twodom"),
        action="reject", reply="550 5.7.1",
        log={"from": None, "action": "reject", "by": "from"}, dmarc=None,
        md_from="a@example.org, b@example.com",
        # Mail::DMARC's get_from_dom takes the domain after the last '@' (its own
        # TODO says so); we refuse a From with several domains outright.
        md_diff=("fail", "reject", "Mail::DMARC reads only the last address"))
    add(name="no From header: 550", mailfrom="x@example.org",
        msg=message(from_lines=[], subject="nofrom"), action="reject",
        reply="550 5.7.1", log={"from-headers": "0", "action": "reject", "by": "from"},
        dmarc=None)
    add(name='"Doe, John" <john@example.com>: parsed, pass', mailfrom="john@example.com",
        msg=message('"Doe, John" <john@example.com>', subject="doe"), action="accept",
        ar={"spf": "pass", "dmarc": "pass", "dmarc_from": "example.com"},
        log={"dmarc": "pass", "header.from": "example.com"}, dmarc=("pass", "none"))
    add(name="IDN From (UTF-8): record under the A-label, pass",
        mailfrom="x@" + IDN_A, msg=message("user@" + IDN_U, subject="idn"),
        action="accept", ar={"spf": "pass", "dmarc": "pass", "dmarc_from": IDN_A},
        log={"dmarc": "pass", "header.from": IDN_A, "p": "reject"},
        dmarc=("pass", "none"), md_from=IDN_A)
    add(name="forged A-R with our authserv-id removed, another kept",
        mailfrom="x@example.org",
        msg=message(subject="forged", extra=[
            "Authentication-Results: other.example.net; spf=pass smtp.mailfrom=x@y.example",
            "Authentication-Results: " + AUTHSERV.upper() + " (forged);\n\tdkim=pass header.d=example.org"]),
        action="accept", ar={"dmarc": "pass"}, deleted=[2],
        log={"dmarc": "pass"}, dmarc=("pass", "none"))

    # --- DMARC temperror / permerror / none
    add(name="_dmarc lookup REFUSED: 451 4.7.1", mailfrom="x@tempfail.com",
        msg=message("a@tempfail.com", subject="dmtemp"), action="tempfail",
        reply="451 4.7.1",
        log={"spf": "pass", "dmarc": "temperror", "action": "tempfail", "by": "dmarc"},
        dmarc=("temperror", "none"),
        # Net::DNS returns the REFUSED packet; Mail::DMARC reads "no answer" as no
        # record, falls back to the org domain (the same) and says none.
        md_diff=("none", "none", "Mail::DMARC takes REFUSED for no record"))
    add(name="DMARC record without valid p or rua: no DMARC, accepted",
        mailfrom="x@badrec.com", msg=message("a@badrec.com", subject="perm"),
        action="accept", ar={"dmarc": "none"},
        log={"dmarc": "none", "action": "accept"}, dmarc=("none", "none"),
        # RFC 9989 §4.10.1: no valid p and no valid rua: no DMARC processing.
        # Mail::DMARC's validate() starts from result "fail" and returns it when
        # discover_policy gives up ("no valid rua"), with disposition none.
        md_diff=("fail", "none", "RFC 9989 §4.10.1: such a record means no DMARC; "
                 "Mail::DMARC reports fail"))
    add(name="no DMARC record, SPF none: accept", mailfrom="x@nodmarc.com",
        msg=message("a@nodmarc.com", subject="none"), action="accept",
        ar={"spf": "none", "dkim": "none", "dmarc": "none"},
        log={"spf": "none", "dmarc": "none", "action": "accept"},
        dmarc=("none", "none"))

    # --- SPF results
    add(name="SPF fail without DMARC: 550 5.7.23", ip=IP_FWD, helo="fwd.example.net",
        mailfrom="x@example.org", msg=message("a@nodmarc.com", subject="spffail"),
        action="reject", reply="550 5.7.23",
        log={"spf": "fail", "dmarc": "none", "action": "reject", "by": "spf"},
        dmarc=("none", "none"))
    add(name="SPF fail with exp=: the explanation in the 550 reply", ip=IP_FWD,
        helo="fwd.example.net", mailfrom="joe@spfexp.com",
        msg=message("a@nodmarc.com", subject="spfexp"), action="reject",
        reply="550 5.7.23", reply_text="550 5.7.23 SPF fail: 192.0.2.50 may not send "
        "for spfexp.com (joe), see http://spfexp.com/spf",
        log={"spf": "fail", "action": "reject", "by": "spf"}, dmarc=("none", "none"))
    add(name="SPF fail with a control byte in exp=: the default reply", ip=IP_FWD,
        helo="fwd.example.net", mailfrom="joe@badexp.com",
        msg=message("a@nodmarc.com", subject="badexp"), action="reject",
        reply="550 5.7.23", reply_text="550 5.7.23 SPF fail: badexp.com does not "
        "permit this host to send its mail",
        log={"spf": "fail", "action": "reject", "by": "spf"}, dmarc=("none", "none"))
    add(name="SPF softfail: accepted by default", ip=IP_FWD, helo="fwd.example.net",
        mailfrom="x@example.net", msg=message("a@nodmarc.com", subject="soft"),
        action="accept", ar={"spf": "softfail", "dmarc": "none"},
        log={"spf": "softfail", "action": "accept"}, dmarc=("none", "none"))
    add(name="SPF temperror: 451 4.7.24", mailfrom="x@spftemp.com",
        msg=message("a@nodmarc.com", subject="spftemp"), action="tempfail",
        reply="451 4.7.24",
        log={"spf": "temperror", "action": "tempfail", "by": "spf"},
        dmarc=("none", "none"))
    add(name="SPF permerror: accepted by default", mailfrom="x@spfperm.com",
        msg=message("a@nodmarc.com", subject="spfperm"), action="accept",
        ar={"spf": "permerror"}, log={"spf": "permerror", "action": "accept"},
        dmarc=("none", "none"))
    add(name="SPF neutral: accepted", mailfrom="x@spfneutral.com",
        msg=message("a@nodmarc.com", subject="neutral"), action="accept",
        ar={"spf": "neutral"}, log={"spf": "neutral", "action": "accept"},
        dmarc=("none", "none"))

    # --- iprev
    add(name="iprev fail (PTR does not confirm) shown in A-R", ip=IP_LIAR,
        helo="liar.example.net", mailfrom="x@nodmarc.com",
        msg=message("a@nodmarc.com", subject="liar"), action="accept",
        ar={"iprev": "fail", "props": {"policy.iprev": IP_LIAR}},
        log={"iprev": "fail", "action": "accept"}, dmarc=("none", "none"))
    add(name="iprev temperror (reverse zone REFUSED) shown in A-R", ip=IP_TEMP,
        helo="temp.example.net", mailfrom="x@nodmarc.com",
        msg=message("a@nodmarc.com", subject="ptrtemp"), action="accept",
        ar={"iprev": "temperror", "props": {"policy.iprev": IP_TEMP}},
        log={"iprev": "temperror", "action": "accept"}, dmarc=("none", "none"))

    # --- DKIM results
    body_signed = sign(message(subject="altered"), "example.org")
    add(name="dkim fail: body altered after signing", mailfrom="x@example.org",
        msg=body_signed.replace(b"Second line.", b"Second line!"), action="accept",
        ar={"dkim": "fail", "spf": "pass", "dmarc": "pass",
            "props": {"header.d": "example.org", "header.s": "rsa"}},
        logdkim=["fail"], log={"dmarc": "pass"}, dmarc=("pass", "none"))
    add(name="dkim temperror: key lookup REFUSED", mailfrom="x@example.org",
        msg=sign(message(subject="keytemp"), "dkimtemp.com"), action="accept",
        ar={"dkim": "temperror", "props": {"header.d": "dkimtemp.com"}},
        logdkim=["temperror"], dmarc=("pass", "none"))
    add(name="dkim permerror: revoked key (p=)", mailfrom="x@example.org",
        msg=sign(message(subject="revoked"), "example.org", selector="revoked"),
        action="accept", ar={"dkim": "permerror", "props": {"header.s": "revoked"}},
        logdkim=["permerror"], dmarc=("pass", "none"))
    # time (RFC 6376 §6.1.1, RFC 8601 §2.7.1): outside the 300 s allowance an
    # expired signature and one from the future are permerror, the reason in the
    # A-R comment and in the log line
    now = int(time.time())
    # (SPF aligns, so DMARC passes and the message and its A-R stay)
    add(name="x= in the past: dkim=permerror (signature expired)",
        mailfrom="x@example.org",
        msg=sign_at(message(subject="expired"), t=now - 86400, x=now - 3600),
        action="accept", ar={"dkim": "permerror", "dmarc": "pass"},
        ar_text=["dkim=permerror (signature expired) header.d=example.org"],
        logdkim=["permerror"], logreason=["signature expired"],
        dmarc=("pass", "none"))
    add(name="t= an hour in the future: dkim=permerror (t= in the future)",
        mailfrom="x@example.org",
        msg=sign_at(message(subject="future"), t=now + 3600),
        action="accept", ar={"dkim": "permerror", "dmarc": "pass"},
        ar_text=["dkim=permerror (t= in the future) header.d=example.org"],
        logdkim=["permerror"], logreason=["t= in the future"],
        dmarc=("pass", "none"))
    add(name="x= in the future, t= now: pass", mailfrom="x@example.com",
        msg=sign_at(message(subject="fresh"), t=now, x=now + 3600),
        action="accept", ar={"dkim": "pass", "dmarc": "pass"},
        ar_text=["dkim=pass header.d=example.org"],
        logdkim=["pass"], logreason=[None], dmarc=("pass", "none"))
    add(name="rsa-sha1 signature does not pass (DMARC fails: quarantine)",
        mailfrom="x@example.com",
        msg=sign(message("a@example.net", subject="sha1"), "example.net",
                 alg=b"rsa-sha1"),
        # the signature is refused (RFC 8301) but still named: d=, s=, a= salvaged
        action="quarantine", ar={"dkim": "!pass", "dmarc": "fail",
                                 "props": {"header.d": "example.net",
                                           "header.a": "rsa-sha1"}},
        logdkim=["!pass"], log={"dmarc": "fail"}, dmarc=("fail", "quarantine"))
    add(name="7 signatures, max_signatures=5: 5 verified, dkim-ignored=2",
        mailfrom="x@example.com", msg=many_sigs(message(subject="many"), 7),
        action="accept", ar={"dkim": ["pass"] * 5, "dmarc": "pass"},
        logdkim=["pass"] * 5, log={"dkim-ignored": "2", "dmarc": "pass"},
        dmarc=("pass", "none"))
    add(name="dkimpy RSA relaxed/relaxed, SPF unaligned: dmarc pass",
        mailfrom="x@example.org",
        msg=sign(message("a@example.com", subject="rsarr"), "example.com",
                 canon=(b"relaxed", b"relaxed")),
        action="accept", ar={"dkim": "pass", "dmarc": "pass",
                             "props": {"header.d": "example.com", "header.a": "rsa-sha256"}},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="i= in dkim-quoted-printable (jlong=40example.org): pass, header.i decoded",
        mailfrom="x@example.com",
        msg=sign(message(subject="qpi"), "example.org", identity=b"jlong=40example.org"),
        action="accept", ar={"dkim": "pass", "dmarc": "pass",
                             "props": {"header.i": "jlong@example.org"}},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="dkimpy RSA simple/simple, SPF unaligned: dmarc pass",
        mailfrom="x@example.com",
        msg=sign(message(subject="rsass"), "example.org", canon=(b"simple", b"simple")),
        action="accept", ar={"dkim": "pass", "dmarc": "pass"},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="dkimpy Ed25519, SPF unaligned: dmarc pass", mailfrom="x@example.com",
        msg=sign(message(subject="ed"), "example.org", selector="ed",
                 alg=b"ed25519-sha256"),
        action="accept", ar={"dkim": "pass", "dmarc": "pass",
                             "props": {"header.a": "ed25519-sha256", "header.s": "ed"}},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="OpenDKIM-signed (its milter, sign mode): pass", mailfrom="x@example.com",
        msg=opendkim_sign(message(subject="opendkim")), action="accept",
        ar={"dkim": "pass", "dmarc": "pass", "props": {"header.s": "odk"}},
        logdkim=["pass"], dmarc=("pass", "none"))
    add(name="RFC 8463 Appendix A message: Ed25519 and RSA pass",
        mailfrom="x@example.org", msg=RFC8463_MSG, action="accept",
        ar={"dkim": ["pass", "pass"], "dmarc": "pass",
            "dmarc_from": "football.example.com"},
        logdkim=["pass", "pass"], log={"dmarc": "pass"}, dmarc=("pass", "none"))
    return T


# ---------------------------------------------------------------- checking

def parse_log(line):
    """The inbound log line as (fields, dkim list, flags)."""
    body = line.split(": inbound ", 1)[1]
    fields, dk, flags = {}, [], set()
    prev = ""
    for tok in re.findall(r"\([^)]*\)|\S+", body):
        after_dkim, prev = prev.startswith("dkim="), tok
        if tok.startswith("(") and tok.endswith(")"):
            if after_dkim:
                dk[-1]["reason"] = tok[1:-1]    # dkim=RESULT (reason)
            else:
                flags.add(tok.strip("()"))
            continue
        k, eq, v = tok.partition("=")
        if not eq:
            flags.add(tok)
            continue
        if k == "dkim":
            dk.append({"dkim": v})
        elif k in ("header.d", "header.s") and dk and "header.from" not in fields \
                and "dmarc" not in fields:
            dk[-1][k] = v
        else:
            fields.setdefault(k, v)
    return fields, dk, flags


def result_ok(got, want):
    if want.startswith("!"):
        return got is not None and got != want[1:]
    return got == want


def check_case(R, m, c, qid):
    name = c["name"]
    r = run_miltc(m.socket, c["msg"], client_addr=c["ip"], client_name="[%s]" % c["ip"],
                  helo=c["helo"], mail_from=c["mailfrom"], rcpts=["rcpt@example.net"],
                  queue_id=qid)
    action = "quarantine" if r["quarantine"] is not None else r["action"]
    R.eq("%s: action" % name, action, c["action"])
    if c.get("reply"):
        R.ok("%s: reply %s" % (name, c["reply"]), (r["reply"] or "").startswith(
            c["reply"] + " "), r["reply"])
    if c.get("reply_text"):
        R.eq("%s: reply text" % name, r["reply"], c["reply_text"])
    out = {"ar": None, "log": None}
    ars = [mod for mod in r["mods"] if mod[2].lower() == "authentication-results"
           and mod[0] in ("add", "insert")]
    if c["action"] in ("accept", "quarantine"):
        if R.eq("%s: one A-R added" % name, len(ars), 1):
            h = authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + ars[0][3])
            out["ar"] = h
            check_ar(R, name, h, c.get("ar", {}), ars[0][3])
            flat = re.sub(r"\s+", " ", ars[0][3])
            for text in c.get("ar_text", []):
                R.ok("%s: A-R has %r" % (name, text), text in flat, flat)
    else:
        R.eq("%s: no A-R on a refusal" % name, len(ars), 0)
    if "deleted" in c:
        dels = [mod[1] for mod in r["mods"] if mod[0] == "change"
                and mod[2].lower() == "authentication-results" and mod[3] == ""]
        R.eq("%s: A-R deleted at index" % name, dels, c["deleted"])
    line = m.wait_log(r"%s: inbound " % re.escape(qid), timeout=3)
    if not R.ok("%s: log line" % name, line is not None, m.log_tail(3)):
        return out
    fields, dk, flags = parse_log(line)
    out["log"] = (fields, dk)
    for k, v in c.get("log", {}).items():
        if k == "dkim":
            R.eq("%s: log dkim" % name, [d["dkim"] for d in dk], [v])
        elif v is True:
            R.ok("%s: log %s" % (name, k), k in flags, line)
        elif v is None:
            R.ok("%s: log has %s" % (name, k), k in fields, line)
        else:
            R.eq("%s: log %s" % (name, k), fields.get(k), v)
    if "logreason" in c:
        R.eq("%s: log dkim reasons" % name, [d.get("reason") for d in dk],
             c["logreason"])
    if "logdkim" in c:
        got = [d["dkim"] for d in dk]
        R.ok("%s: log dkim results" % name, len(got) == len(c["logdkim"]) and all(
            result_ok(g, w) for g, w in zip(got, c["logdkim"])),
            "got %r want %r" % (got, c["logdkim"]))
    want_act = {"accept": "accept", "quarantine": "quarantine", "reject": "reject",
                "tempfail": "tempfail"}[c["action"]]
    R.eq("%s: log action" % name, fields.get("action"), want_act)
    return out


def check_ar(R, name, h, want, raw):
    R.eq("%s: A-R authserv-id" % name, h.authserv_id, AUTHSERV)
    by = {}
    for res in h.results:
        by.setdefault(res.method, []).append(res)
    for meth, w in want.items():
        if meth in ("dmarc_from", "dmarc_dis", "props"):
            continue
        got = [x.result for x in by.get(meth, [])
               if meth != "spf" or any(p.name == "mailfrom" for p in x.properties)]
        ws = w if isinstance(w, list) else [w]
        R.ok("%s: A-R %s=%s" % (name, meth, w), len(got) == len(ws) and all(
            result_ok(g, x) for g, x in zip(got, ws)), "got %r" % got)
    if "dmarc_from" in want:
        d = by.get("dmarc", [])
        R.eq("%s: A-R dmarc header.from" % name,
             d and {p.type + "." + p.name: p.value for p in d[0].properties}
             .get("header.from"), want["dmarc_from"])
    if "dmarc_dis" in want:
        d = by.get("dmarc", [])
        reason = (d[0].reason or "") if d else ""
        R.ok("%s: A-R dmarc dis=%s" % (name, want["dmarc_dis"]),
             "dis=" + want["dmarc_dis"] in ar_comment(raw, "dmarc"), reason)
    for prop, val in want.get("props", {}).items():
        found = any(p.type + "." + p.name == prop and p.value == val
                    for res in h.results for p in res.properties)
        R.ok("%s: A-R %s=%s" % (name, prop, val), found,
             [(r.method, [(p.type, p.name, p.value) for p in r.properties])
              for r in h.results])


def ar_comment(raw, method):
    """The comment after METHOD=RESULT in the raw value (python-authres keeps
    the result comment only for some methods)."""
    m = re.search(r"\b%s=\w+\s*\(([^)]*)\)" % method, raw)
    return m.group(1) if m else ""


# ---------------------------------------------------------------- Mail::DMARC

MD_PERL = r'''
use strict; use warnings;
use JSON::PP; use Net::DNS::Resolver; use Mail::DMARC::PurePerl;
my $port = shift;
my $res = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port,
    recurse => 1, dnsrch => 0, defnames => 0, udp_timeout => 2, tcp_timeout => 2,
    retry => 1);
my $js = JSON::PP->new->canonical;
$| = 1;
while (my $line = <STDIN>) {
    my $in = $js->decode($line);
    my %out = (name => $in->{name});
    eval {
        my $d = Mail::DMARC::PurePerl->new;
        $d->set_resolver($res);
        $d->source_ip($in->{ip});
        if (defined $in->{from}) { $d->header_from($in->{from}) }
        else { $d->header_from_raw($in->{from_raw}) }
        $d->spf($in->{spf});
        $d->dkim($in->{dkim});
        my $r = $d->validate;
        $out{result} = $r->result;
        $out{disposition} = $r->disposition;
        1;
    } or do { $out{error} = "$@"; };
    print $js->encode(\%out), "\n";
}
'''


def from_header(msg):
    m = re.search(rb"^From:[ \t]*(.*)$", msg, re.M | re.I)
    return m.group(1).decode() if m else None


def md_input(c, out):
    """What Mail::DMARC is told: the From, and our SPF and DKIM results (from
    the log line, which exists for refusals too)."""
    fields, dk = out["log"]
    spf = []
    if fields.get("spf") and fields.get("smtp.mailfrom") not in (None, "-"):
        spf.append({"domain": fields["smtp.mailfrom"], "scope": "mfrom",
                    "result": fields["spf"]})
    dkim_in = [{"domain": d.get("header.d", ""), "selector": d.get("header.s", ""),
                "result": d["dkim"]} for d in dk if d["dkim"] != "none"]
    j = {"name": c["name"], "ip": c["ip"], "spf": spf, "dkim": dkim_in}
    md_from = c.get("md_from") or from_header(c["msg"])
    if "@" in md_from:
        j["from_raw"] = md_from
    else:
        j["from"] = md_from
    return j


def compare_mail_dmarc(R, dns, todo):
    lines = "".join(json.dumps(md_input(c, out)) + "\n" for c, out in todo)
    p = subprocess.run(["perl", "-e", MD_PERL, str(dns.port)], input=lines.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    got = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    if not R.eq("Mail::DMARC answered every case", len(got), len(todo)):
        print("# " + p.stderr.decode()[-500:])
        return
    diffs = sum(1 for c, _ in todo if "md_diff" in c)
    print("# Mail::DMARC: %d cases, %d expected differences (%d of them RFC 9989's)" % (
        len(todo), diffs, sum(1 for c, _ in todo if "RFC 9989" in c.get(
            "md_diff", ("", "", ""))[2])))
    for (c, out), g in zip(todo, got):
        name = "Mail::DMARC agrees: " + c["name"]
        if "error" in g:
            R.fail(name, g["error"])
            continue
        theirs = (g["result"], g["disposition"])
        if "md_diff" in c:
            want = c["md_diff"][:2]
            if theirs == want:
                R.difference("Mail::DMARC: " + c["name"], "%s/%s, ours %s/%s: %s" % (
                    theirs + tuple(c["dmarc"] or ("-", "-")) + (c["md_diff"][2],)))
            else:
                R.fail("Mail::DMARC differs as expected (%s): %s" % (
                    c["md_diff"][2], c["name"]), "got %r, want %r" % (theirs, want))
        else:
            R.eq(name, theirs, c["dmarc"])


# ---------------------------------------------------------------- other daemons

def extra_daemon_cases(R, dns, base_conf):
    # dry_run: the p=reject failure is logged as a rejection and accepted
    conf = dict(base_conf, dry_run=True)
    with Milter(conf) as m:
        r = run_miltc(m.socket, message(subject="dry"), client_addr=IP_GOOD,
                      client_name="[%s]" % IP_GOOD, helo="mail.example.org",
                      mail_from="x@example.com", rcpts=["rcpt@example.net"],
                      queue_id="DRY1")
        R.eq("dry_run: accepted", (r["action"], r["quarantine"]), ("accept", None))
        ars = [mod[3] for mod in r["mods"] if mod[2] == "Authentication-Results"]
        R.ok("dry_run: A-R says dmarc=fail", ars and any(
            x.method == "dmarc" and x.result == "fail" for x in
            authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + ars[0]).results), ars)
        line = m.wait_log(r"DRY1: inbound ", 3) or ""
        R.ok("dry_run: log action=reject (dry-run)",
             "action=reject (dry-run)" in line and "by=dmarc" in line, line)

    # stricter actions: iprev fail rejects at connect, softfail quarantines
    conf = dict(base_conf, iprev={"on_fail": "reject"},
                spf={"on_softfail": "quarantine"})
    with Milter(conf) as m:
        r = run_miltc(m.socket, message("a@nodmarc.com", subject="c"), client_addr=IP_LIAR,
                      client_name="[%s]" % IP_LIAR, helo="liar.example.net",
                      mail_from="x@nodmarc.com", rcpts=["rcpt@example.net"])
        R.eq("iprev.on_fail=reject: refused at connect", (r["action"], r["step"]),
             ("reject", "connect"))
        R.ok("iprev.on_fail=reject: 550 5.7.25", (r["reply"] or "").startswith(
            "550 5.7.25 "), r["reply"])
        line = m.wait_log(r"connect client=.*iprev=fail action=reject", 3)
        R.ok("iprev.on_fail=reject: logged", line is not None, m.log_tail(3))
        r = run_miltc(m.socket, message("a@nodmarc.com", subject="s"), client_addr=IP_FWD,
                      client_name="[%s]" % IP_FWD, helo="fwd.example.net",
                      mail_from="x@example.net", rcpts=["rcpt@example.net"],
                      queue_id="SOFTQ")
        R.ok("spf.on_softfail=quarantine: quarantined", r["quarantine"] is not None,
             r["stdout"])
        line = m.wait_log(r"SOFTQ: inbound ", 3) or ""
        R.ok("spf.on_softfail=quarantine: log action=quarantine by=spf",
             "spf=softfail" in line and "action=quarantine by=spf" in line, line)

    # every lookup slower than dns.timeout: the _dmarc lookup times out
    with DelayProxy(dns.port, 3.0) as slow:
        conf = dict(base_conf, dns={"nameservers": [slow.address], "timeout": 1})
        with Milter(conf) as m:
            r = run_miltc(m.socket, message(subject="slow"), client_addr=IP_GOOD,
                          client_name="[%s]" % IP_GOOD, helo="mail.example.org",
                          mail_from="x@example.org", rcpts=["rcpt@example.net"],
                          queue_id="SLOW1")
            R.eq("DNS slower than dns.timeout: tempfail", r["action"], "tempfail")
            R.ok("DNS slower than dns.timeout: 451 4.7.1", (r["reply"] or "").startswith(
                "451 4.7.1 "), r["reply"])
            line = m.wait_log(r"SLOW1: inbound ", 3) or ""
            # every lookup timed out; the _dmarc one names the tempfail
            R.ok("DNS slower than dns.timeout: temperrors and by=dmarc logged",
                 all(f in line for f in ("iprev=temperror", "spf=temperror",
                                          "dmarc=temperror", "action=tempfail by=dmarc")),
                 line)


def main():
    R = Results()
    with DNSServer(RECORDS, ptrs=PTRS, extra_conf=EXTRA) as dns:
        base = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [dns.address], "timeout": 2}}
        table = cases()
        todo = []
        with Milter(base) as m:
            for i, c in enumerate(table):
                out = R.run(c["name"], check_case, R, m, c, "Q%03d" % i)
                if out and out["log"] and (c.get("dmarc") or c.get("md_diff")):
                    todo.append((c, out))
        print("# %d inbound cases in the table" % len(table))
        R.run("Mail::DMARC comparison", compare_mail_dmarc, R, dns, todo)
        R.run("other configurations", extra_daemon_cases, R, dns, base)
    R.exit()


if __name__ == "__main__":
    main()
