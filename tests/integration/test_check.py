#!/usr/bin/python3
"""test_check - authmilter-check, the outbound DNS checklist, against a real
unbound on loopback: one zone where everything is right, then one zone per
mistake (each made once), asserting the line that names it, the record or
change it proposes, and the exit code; a resolver that is gone gives exit 2 and
names the query. Keys are made with authmilter-keygen, as test_keygen does.
Prints "ok - NAME" / "not ok - NAME" per case; exits 1 when any failed."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CHECK, KEYGEN, Results  # noqa: E402
from dnsserver import (DNSServer, a, aaaa, closed_port, mx,  # noqa: E402
                       refuse_zone, txt)
import tooltest  # noqa: E402

DOMAIN = "example.com"
IP4, IP6 = "192.0.2.10", "2001:db8::10"
HOST = "mail.example.com"
SPF = "v=spf1 ip4:%s ip6:%s include:_spf.example.net -all" % (IP4, IP6)
DMARC = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:agg@reports.example.net"
REPORT_AUTH = "example.com._report._dmarc.reports.example.net"

R = Results()
report = R.ok


def keygen(tmp, alg, sel, bits=None):
    """A key made by authmilter-keygen: (path, TXT record line for unbound,
    the record text joined)."""
    args = [KEYGEN, "-a", alg, "-d", DOMAIN, "-s", sel, "-o", tmp]
    if bits:
        args += ["-b", str(bits)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    name, parts = tooltest.parse_record(out)
    return (os.path.join(tmp, "%s.%s.key" % (sel, DOMAIN)), txt(name, parts),
            "".join(parts))


def base_records(keys):
    return [mx(DOMAIN, 10, HOST), a(HOST, IP4), aaaa(HOST, IP6),
            txt(DOMAIN, SPF),
            txt("_spf.example.net", "v=spf1 a:out.example.net -all"),
            a("out.example.net", "198.51.100.1"),
            keys["r1"][1], keys["e1"][1],
            txt("_dmarc." + DOMAIN, DMARC),
            txt(REPORT_AUTH, "v=DMARC1")]


PTRS = [(IP4, HOST), (IP6, HOST)]


def write_conf(tmp, ns, keys, timeout=2, sections=None):
    """milter.conf with the resolver and key sections (name, domain, selector,
    file, subdomains)."""
    if sections is None:
        sections = [("rsa", DOMAIN, "r1", keys["r1"][0], False),
                    ("ed", DOMAIN, "e1", keys["e1"][0], False)]
    path = os.path.join(tmp, "milter.conf")
    with open(path, "w") as f:
        f.write('dns {\n  nameservers = { "%s" }\n  timeout = %d\n}\n'
                % (ns, timeout))
        f.write("dkim {\n")
        for name, dom, sel, fn, sub in sections:
            f.write('  key "%s" {\n    domain = "%s"\n    selector = "%s"\n'
                    '    file = "%s"\n    subdomains = %s\n  }\n'
                    % (name, dom, sel, fn, "true" if sub else "false"))
        f.write("}\n")
    return path


def check(conf, *args):
    return tooltest.run_tool([CHECK, "-c", conf] + list(args))


def run_case(tmp, keys, name, records, want_rc, want, ptrs=PTRS, args=None,
             sections=None, extra_conf=(), absent=()):
    """One zone, one run: want is a list of regular expressions, each of which
    must match a whole line of the output; absent: none may match a line."""
    if args is None:
        args = ["-d", DOMAIN, "--ip", IP4, "--ip", IP6, "--helo", HOST]
    with DNSServer(records, ptrs=ptrs, extra_conf=extra_conf) as dns:
        conf = write_conf(tmp, dns.address, keys, sections=sections)
        rc, out, err = check(conf, *args)
    lines = out.splitlines()
    missing = [w for w in want if not any(re.fullmatch(w, ln) for ln in lines)]
    present = [w for w in absent if any(re.fullmatch(w, ln) for ln in lines)]
    report("%s: exit %d" % (name, want_rc), rc == want_rc,
           "rc %d\n%s%s" % (rc, out, err))
    report("%s: the lines" % name, not missing and not present,
           "missing %r, present %r\n%s%s" % (missing, present, out, err))
    return out


def c1_case(tmp, keys, good, dm):
    """C1 controls in UTF-8 (CSI U+009B, OSC U+009D), invalid UTF-8 (a lone 0x9b, a
    truncated sequence, an overlong '/') and a bidi override in a TXT record: each
    printed as '?', while a well-formed 'é' stays (issue 24, finding 8)."""
    junk = (b"; x=\xc2\x9b2J\xc2\x9d0;owned\x07|\x9b|\xe2\x82|\xc0\xaf|"
            b"\xe2\x80\xaeevil|caf\xc3\xa9")
    with DNSServer(replace(good, dm, txt("_dmarc." + DOMAIN, DMARC.encode() + junk)),
                   ptrs=PTRS) as dns:
        conf = write_conf(tmp, dns.address, keys)
        p = subprocess.run([CHECK, "-c", conf, "-d", DOMAIN, "--ip", IP4, "--ip", IP6,
                            "--helo", HOST], capture_output=True, timeout=120)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith(b"ok   dmarc example.com")]
    shown = line[0] if line else b""
    report("C1 controls and invalid UTF-8 from DNS: each one '?'",
           shown.endswith(b'; x=?2J?0;owned?|?|??|??|?evil|caf\xc3\xa9"'), p.stdout)
    try:
        text = p.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        text = None
        report("C1 case: the whole output is well-formed UTF-8", False, e)
    if text is not None:
        report("C1 case: the whole output is well-formed UTF-8", True)
        bad = [c for c in text if 0x80 <= ord(c) <= 0x9f or c in "\u202a\u202b\u202c"
               "\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"]
        report("C1 case: no C1 control or bidi override reaches the terminal", not bad,
               [hex(ord(c)) for c in bad])


def without(records, *starts):
    return [r for r in records if not any(r.startswith(s) for s in starts)]


def replace(records, start, new):
    return without(records, start) + [new]


def main():
    return tooltest.main(run, R, "authmilter-check-")


def run(tmp):
    rc, out, err = check("/nonexistent.conf", "-h")
    report("-h prints usage, exit 0", rc == 0 and "--ip" in out, out + err)
    for args, why in ((["--ip", IP4], "no -d"),
                      (["-d", DOMAIN, "--ip", "192.0.2.300"], "bad --ip"),
                      (["-d", "not a domain"], "bad domain"),
                      (["-d", DOMAIN, "stray"], "stray argument")):
        rc, out, err = check("/nonexistent.conf", *args)
        report("usage error exits 2: %s" % why, rc == 2 and err and not out,
               "rc %d: %s%s" % (rc, out, err))
    rc, out, err = check(os.path.join(tmp, "absent.conf"), "-d", DOMAIN)
    report("unreadable config exits 2 with the reason", rc == 2 and "absent.conf" in err,
           "rc %d: %s%s" % (rc, out, err))

    keys = {"r1": keygen(tmp, "rsa", "r1"), "e1": keygen(tmp, "ed25519", "e1"),
            "r1024": keygen(tmp, "rsa", "r1024", 1024),
            "other": keygen(tmp, "rsa", "other")}
    good = base_records(keys)

    out = run_case(tmp, keys, "everything right", good, 0, [
        r"ok   mx example\.com: 10 mail\.example\.com",
        r"ok   mx host mail\.example\.com: 192\.0\.2\.10, 2001:db8::10",
        r"ok   ptr 192\.0\.2\.10: mail\.example\.com, which resolves back to "
        r"192\.0\.2\.10 \(FCrDNS\)",
        r"ok   ptr 2001:db8::10: mail\.example\.com, which resolves back to .*",
        r"ok   helo mail\.example\.com: resolves to 192\.0\.2\.10",
        r"ok   helo mail\.example\.com: resolves to 2001:db8::10",
        r'ok   spf example\.com: "%s"' % re.escape(SPF),
        r"ok   spf lookups: 2 of 10 DNS lookups, 0 of 2 void lookups when no "
        r"mechanism matches",
        r"ok   spf 192\.0\.2\.10: pass for example\.com \(0 of 10 lookups, 0 of 2 void\)",
        r"ok   spf 2001:db8::10: pass for example\.com .*",
        r"ok   dkim r1\._domainkey\.example\.com: publishes the key of .*r1\.example"
        r"\.com\.key \(rsa-sha256, 2048 bits\)",
        r"ok   dkim e1\._domainkey\.example\.com: publishes the key of .* "
        r"\(ed25519-sha256\)",
        r'ok   dmarc example\.com: own record at _dmarc\.example\.com: "%s"'
        % re.escape(DMARC),
        r"ok   dmarc policy: p=reject applies to example\.com",
        r"ok   dmarc rua mailto:dmarc@example\.com: within example\.com",
        r"ok   dmarc rua mailto:agg@reports\.example\.net: reports\.example\.net "
        r"takes reports for example\.com .*",
        r"ok   dmarc alignment spf: MAIL FROM domain example\.com aligns \(aspf=r\)",
        r"ok   dmarc alignment dkim: key rsa signs d=example\.com, which aligns "
        r"\(adkim=r\)",
        r"all ok \(\d+ checks\)"], absent=[r"(warn|FAIL|error).*"])
    # the 2048-bit record is over 255 bytes: shown cut into strings that, joined,
    # are the record, none longer than 255
    m = re.search(r"^     \d+ bytes, over one string's 255: in zone-file syntax, "
                  r"r1\._domainkey\.example\.com\. IN TXT \( (.*) \)$", out, re.M)
    parts = re.findall(r'"([^"]*)"', m.group(1)) if m else []
    report("a 2048-bit key record is shown in strings of at most 255 bytes",
           len(parts) == 2 and all(len(p) <= 255 for p in parts) and
           "".join(parts) == keys["r1"][2], out)

    run_case(tmp, keys, "no MX", without(good, DOMAIN + ". 60 IN MX"), 1, [
        r"FAIL mx example\.com: no MX record; bounces and replies to the domain "
        r"cannot be delivered",
        r"     publish: example\.com\. IN MX 10 mail\.example\.com\.",
        r"1 FAIL, 0 warn, \d+ ok"])
    run_case(tmp, keys, "null MX", replace(good, DOMAIN + ". 60 IN MX",
                                           "example.com. 60 IN MX 0 ."), 0, [
        r"warn mx example\.com: null MX \(RFC 7505\).*", r"0 FAIL, 1 warn, \d+ ok"])
    run_case(tmp, keys, "MX host without an address",
             replace(good, DOMAIN + ". 60 IN MX", mx(DOMAIN, 10, "mx2.example.com")),
             1, [r"FAIL mx host mx2\.example\.com: no A or AAAA record \(nxdomain\)",
                 r"     publish: mx2\.example\.com\. IN A 192\.0\.2\.10"])
    run_case(tmp, keys, "no PTR", good, 1, [
        r"FAIL ptr 192\.0\.2\.10: no PTR record at 10\.2\.0\.192\.in-addr\.arpa "
        r"\(no PTR record\)",
        r"     publish \(in the reverse zone; ask whoever gave you the address\): "
        r"10\.2\.0\.192\.in-addr\.arpa\. IN PTR mail\.example\.com\.",
        r"ok   ptr 2001:db8::10: .*"], ptrs=[(IP6, HOST)])
    run_case(tmp, keys, "PTR not forward-confirmed", good + [a("other.example.net",
                                                              "198.51.100.7")], 1, [
        r"FAIL ptr 192\.0\.2\.10: PTR other\.example\.net, which does not resolve "
        r"back to 192\.0\.2\.10 \(no PTR name resolves to the address\)",
        r"     publish: other\.example\.net\. IN A 192\.0\.2\.10"],
        ptrs=[(IP4, "other.example.net"), (IP6, HOST)])
    run_case(tmp, keys, "HELO name elsewhere", good + [a("helo.example.com",
                                                        "198.51.100.9")], 1, [
        r"FAIL helo helo\.example\.com: does not resolve to 192\.0\.2\.10 "
        r"\(A holds other addresses\)",
        r"     publish: helo\.example\.com\. IN A 192\.0\.2\.10",
        r"FAIL helo helo\.example\.com: does not resolve to 2001:db8::10 \(AAAA nodata\)"],
        args=["-d", DOMAIN, "--ip", IP4, "--ip", IP6, "--helo", "helo.example.com"])

    run_case(tmp, keys, "no SPF record", without(good, DOMAIN + ". 60 IN TXT"), 1, [
        r"FAIL spf example\.com: no SPF record",
        r'     publish: example\.com\. IN TXT "v=spf1 ip4:192\.0\.2\.10 '
        r'ip6:2001:db8::10 -all"'])
    run_case(tmp, keys, "two SPF records", good + [txt(DOMAIN, "v=spf1 mx -all")], 1, [
        r"FAIL spf example\.com: 2 SPF records; receivers give permerror "
        r"\(RFC 7208 §4\.5\)",
        r"     change: merge them into one v=spf1 record"])
    run_case(tmp, keys, "SPF +all", replace(good, DOMAIN + ". 60 IN TXT",
                                            txt(DOMAIN, "v=spf1 mx +all")), 0, [
        r"warn spf example\.com: \+all lets every address on the internet pass",
        r"     change: end the record with -all \(or ~all\)",
        r"0 FAIL, 1 warn, \d+ ok"])
    run_case(tmp, keys, "SPF ?all", replace(good, DOMAIN + ". 60 IN TXT",
                                            txt(DOMAIN, "v=spf1 include:_spf.example.net ?all")),
             1, [
        r"warn spf example\.com: \?all leaves every other address neutral.*",
        r"FAIL spf 192\.0\.2\.10: neutral for example\.com: .*"])
    run_case(tmp, keys, "SPF does not authorize the address",
             replace(good, DOMAIN + ". 60 IN TXT",
                     txt(DOMAIN, "v=spf1 ip4:198.51.100.0/24 ip6:%s -all" % IP6)), 1, [
        r"FAIL spf 192\.0\.2\.10: fail for example\.com: sender is not authorized",
        r'     change: authorize the address: example\.com\. IN TXT "v=spf1 '
        r'ip4:192\.0\.2\.10 ip4:198\.51\.100\.0/24 ip6:2001:db8::10 -all"',
        r"ok   spf 2001:db8::10: pass for example\.com .*",
        r"1 FAIL, 0 warn, \d+ ok"])
    run_case(tmp, keys, "SPF syntax error",
             replace(good, DOMAIN + ". 60 IN TXT",
                     txt(DOMAIN, "v=spf1 ip4:%s ip6:%s ip4:999.1.1.1 -all" % (IP4, IP6))),
             1, [r"FAIL spf example\.com: permerror: .*"])
    eleven = " ".join("a:h%d.example.com" % i for i in range(1, 12))
    run_case(tmp, keys, "SPF with 11 lookups",
             replace(good, DOMAIN + ". 60 IN TXT",
                     txt(DOMAIN, "v=spf1 ip4:%s ip6:%s %s -all" % (IP4, IP6, eleven)))
             + [a("h%d.example.com" % i, "198.51.100.%d" % i) for i in range(1, 12)],
             1, [r"FAIL spf lookups: more than 10 DNS lookups when no mechanism "
                 r"matches: receivers stop with permerror \(RFC 7208 §4\.6\.4\)",
                 r"     change: replace include:, a, mx and exists terms .*",
                 r"ok   spf 192\.0\.2\.10: pass .*"])
    run_case(tmp, keys, "SPF with 3 void lookups",
             replace(good, DOMAIN + ". 60 IN TXT",
                     txt(DOMAIN, "v=spf1 ip4:%s ip6:%s a:gone1.example.com "
                         "a:gone2.example.com a:gone3.example.com -all" % (IP4, IP6))),
             1, [r"FAIL spf lookups: more than 2 lookups find no record \(void\).*"])
    run_case(tmp, keys, "SPF within limits: the counts",
             replace(good, DOMAIN + ". 60 IN TXT",
                     txt(DOMAIN, "v=spf1 a:h1.example.com a:gone1.example.com "
                         "ip4:%s ip6:%s -all" % (IP4, IP6)))
             + [a("h1.example.com", "198.51.100.1")],
             0, [r"ok   spf lookups: 2 of 10 DNS lookups, 1 of 2 void lookups when "
                 r"no mechanism matches",
                 r"ok   spf 192\.0\.2\.10: pass for example\.com \(2 of 10 lookups, "
                 r"1 of 2 void\)"])

    r1name = "r1._domainkey.example.com. 60 IN TXT"
    out = run_case(tmp, keys, "DKIM record missing", without(good, r1name), 1, [
        r"FAIL dkim r1\._domainkey\.example\.com: no key record \(nxdomain\)",
        r'     publish: r1\._domainkey\.example\.com\. IN TXT \( "v=DKIM1; k=rsa; '
        r'p=[^"]*" "[^"]*" \)'])
    m = re.search(r'^     publish: r1\._domainkey\.example\.com\. IN TXT \( (.*) \)$',
                  out, re.M)
    parts = re.findall(r'"([^"]*)"', m.group(1)) if m else []
    report("the record to publish is the key's, in strings of at most 255 bytes",
           parts and all(len(p) <= 255 for p in parts) and
           "".join(parts) == keys["r1"][2], out)
    run_case(tmp, keys, "DKIM record of another key",
             replace(good, r1name, keys["other"][1].replace("other._domainkey",
                                                            "r1._domainkey")), 1, [
        r"FAIL dkim r1\._domainkey\.example\.com: does not publish the public key "
        r"of .*r1\.example\.com\.key",
        r"     publish: r1\._domainkey\.example\.com\. IN TXT \( .* \)"])
    halves = keys["r1"][2][:200], keys["r1"][2][200:]
    run_case(tmp, keys, "DKIM record split into two TXT records",
             without(good, r1name) + [txt("r1._domainkey." + DOMAIN, halves[0]),
                                      txt("r1._domainkey." + DOMAIN, halves[1])], 1, [
        r"FAIL dkim r1\._domainkey\.example\.com: does not publish the public key .*",
        r"     TXT record \d: not a key record: .*",
        r"     2 TXT records: one key record must be one TXT record \(its strings "
        r"are joined; separate records are not\)"])
    run_case(tmp, keys, "DKIM t=y",
             replace(good, r1name, txt("r1._domainkey." + DOMAIN,
                                       keys["r1"][2].replace("k=rsa;", "k=rsa; t=y;"))),
             0, [r"ok   dkim r1\._domainkey\.example\.com: publishes the key .*",
                 r"warn dkim r1\._domainkey\.example\.com: t=y: the key is in testing "
                 r"mode, verifiers may treat its signatures as unsigned",
                 r"     change: remove t=y from the record once signing works"])
    run_case(tmp, keys, "DKIM RSA 1024", good + [keys["r1024"][1]], 0, [
        r"ok   dkim r1024\._domainkey\.example\.com: publishes the key of .* "
        r"\(rsa-sha256, 1024 bits\)",
        r"warn dkim r1024\._domainkey\.example\.com: RSA key of 1024 bits; 2048 is "
        r"the least that large receivers expect \(RFC 8301 allows 1024\)",
        r"     change: authmilter-keygen -a rsa -d example\.com -s NEWSELECTOR, .*"],
        sections=[("small", DOMAIN, "r1024", keys["r1024"][0], False)])
    run_case(tmp, keys, "no DKIM key configured", good, 0, [
        r"warn dkim example\.com: no key in .*milter\.conf signs its mail, so DMARC "
        r"rests on SPF alone, which forwarding breaks"], sections=[])

    dm = "_dmarc.example.com. 60 IN TXT"
    run_case(tmp, keys, "no DMARC record", without(good, dm), 1, [
        r"FAIL dmarc example\.com: no DMARC record at _dmarc\.example\.com",
        r'     publish: _dmarc\.example\.com\. IN TXT "v=DMARC1; p=none; '
        r'rua=mailto:dmarc-reports@example\.com"'])
    # RFC 9989 §4.7: the version is case-sensitive; v=dmarc1 is no DMARC record
    run_case(tmp, keys, "DMARC v=dmarc1",
             replace(good, dm, txt("_dmarc." + DOMAIN, DMARC.replace("DMARC1", "dmarc1"))),
             1, [r'FAIL dmarc example\.com: the record at _dmarc\.example\.com is invalid: '
                 r'not a DMARC record \(no v=DMARC1 first\): "v=dmarc1; .*"'])
    out = run_case(tmp, keys, "control bytes from DNS",
                   replace(good, dm, txt("_dmarc." + DOMAIN, DMARC + "; x=\x1b[2J")),
                   0, [r'ok   dmarc example\.com: own record at _dmarc\.example\.com: '
                       r'".*; x=\?\[2J"'])
    report("control bytes from DNS never reach the terminal", "\x1b" not in out, out)
    c1_case(tmp, keys, good, dm)
    run_case(tmp, keys, "DMARC invalid",
             replace(good, dm, txt("_dmarc." + DOMAIN, "v=DMARC1; p=bogus")), 1, [
        r'FAIL dmarc example\.com: the record at _dmarc\.example\.com is invalid: '
        r'.*: "v=DMARC1; p=bogus"'])
    run_case(tmp, keys, "two DMARC records",
             good + [txt("_dmarc." + DOMAIN, "v=DMARC1; p=none")], 1, [
        r"FAIL dmarc example\.com: 2 DMARC records at _dmarc\.example\.com; "
        r"receivers use none of them \(RFC 7489 §6\.6\.3\)"])
    run_case(tmp, keys, "DMARC p=none, no rua",
             replace(good, dm, txt("_dmarc." + DOMAIN, "v=DMARC1; p=none")), 0, [
        r"warn dmarc policy: p=none applies to example\.com: receivers report, but "
        r"act on nothing",
        r"warn dmarc rua: none; no aggregate reports reach you",
        r"     change: add rua=mailto:dmarc-reports@example\.com"])
    run_case(tmp, keys, "external rua not authorized", without(good, REPORT_AUTH), 1, [
        r"FAIL dmarc rua mailto:agg@reports\.example\.net: reports\.example\.net has "
        r"not authorized reports for example\.com, so receivers send it none",
        r'     publish \(in reports\.example\.net\'s zone\): example\.com\._report\.'
        r'_dmarc\.reports\.example\.net\. IN TXT "v=DMARC1"'])

    sub = "news.example.com"
    sub_records = [mx(sub, 10, HOST), a(HOST, IP4), txt(sub, "v=spf1 ip4:%s -all" % IP4),
                   keys["r1"][1],
                   txt("_dmarc." + DOMAIN, "v=DMARC1; p=none; sp=quarantine; adkim=s; "
                       "rua=mailto:dmarc@example.com")]
    run_case(tmp, keys, "subdomain: inherited DMARC, strict DKIM alignment",
             sub_records, 1, [
                 r"ok   dmarc news\.example\.com: inherited from the organizational "
                 r"domain at _dmarc\.example\.com: .*",
                 r"ok   dmarc policy: sp=quarantine applies to news\.example\.com",
                 r"ok   dkim r1\._domainkey\.example\.com: publishes the key .*",
                 r"FAIL dmarc alignment dkim: key rsa signs d=example\.com, which does "
                 r"not align with news\.example\.com under adkim=s",
                 r"     change: set adkim=r in the DMARC record, or sign with a key "
                 r"for news\.example\.com itself"],
             args=["-d", sub, "--ip", IP4],
             sections=[("rsa", DOMAIN, "r1", keys["r1"][0], True)])

    # DNS trouble: exit 2, the query named, nothing checked after it
    run_case(tmp, keys, "REFUSED at the selector", without(good, r1name), 2, [
        r"error r1\._domainkey\.example\.com TXT lookup failed \((SERVFAIL|REFUSED)\)",
        r"could not check: r1\._domainkey\.example\.com TXT lookup failed "
        r"\((SERVFAIL|REFUSED)\); 0 FAIL, 0 warn, \d+ ok before it"],
        extra_conf=[refuse_zone("_domainkey.example.com")],
        absent=[r".*dmarc.*"])
    run_case(tmp, keys, "REFUSED at the PTR", good, 2, [
        r"could not check: 10\.2\.0\.192\.in-addr\.arpa PTR lookup failed "
        r"\(temporary failure\); 0 FAIL, 0 warn, 2 ok before it"],
        ptrs=[(IP6, HOST)], extra_conf=[refuse_zone("10.2.0.192.in-addr.arpa")],
        absent=[r".*spf.*"])
    run_case(tmp, keys, "REFUSED at an SPF include", without(good, "_spf.example.net"), 2, [
        r"ok   spf example\.com: .*",
        r"error example\.com SPF term lookup failed \(.*\)",
        r"could not check: example\.com SPF term lookup failed \(.*\); 0 FAIL, "
        r"0 warn, \d+ ok before it"],
        extra_conf=[refuse_zone("_spf.example.net")], absent=[r".*dkim.*"])
    conf = write_conf(tmp, "127.0.0.1@%d" % closed_port(), keys, timeout=1)
    rc, out, err = check(conf, "-d", DOMAIN, "--ip", IP4)
    report("DNS down: exit 2 naming the first query",
           rc == 2 and re.search(r"^could not check: example\.com MX lookup failed "
                                 r"\(.+\); 0 FAIL, 0 warn, 0 ok before it$", out, re.M)
           and "ptr" not in out, "rc %d\n%s%s" % (rc, out, err))


if __name__ == "__main__":
    sys.exit(main())
