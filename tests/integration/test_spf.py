#!/usr/bin/python3
"""test_spf - spf.c cases beyond the RFC 7208 suite: the lookup limits our DNS
layer adds to libspf2, records it refuses (CVE-2023-42118 patterns), a DNS
server that is gone, the null sender, and a hostile HELO in Received-SPF.

Each case runs tests/lib/spfq against a real unbound on loopback and prints
"ok - NAME" or "not ok - NAME: why".
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, mx, txt, closed_port  # noqa: E402
from harness import SPFQ, Results  # noqa: E402

IP = "192.0.2.1"
R = Results()
check = R.ok


def spfq(address, ip, helo, mailfrom, timeout_ms=1000, helo_check=False):
    """(mailfrom result, helo result, {line prefix: rest}, seconds)"""
    args = [SPFQ, "-s", address, "-t", str(timeout_ms)]
    if helo_check:
        args.append("--helo-check")
    t0 = time.monotonic()
    p = subprocess.run(args + [ip, helo, mailfrom], capture_output=True,
                       timeout=60)
    took = time.monotonic() - t0
    out = p.stdout.decode("latin-1")
    res, lines = {}, {}
    for line in out.splitlines():
        key, _, rest = line.partition(" ")
        lines[key] = rest
        if key in ("mailfrom", "helo"):
            res[key] = rest.split(" ", 1)[0]
    if p.returncode != 0:
        res["mailfrom"] = "exit %d: %s" % (p.returncode, p.stderr[-200:])
    return res.get("mailfrom"), res.get("helo"), lines, took, out


KEYS = ["client-ip", "envelope-from", "helo", "receiver", "identity"]


def structure(value):
    """The keys of a Received-SPF value, read as RFC 7208 §9.1 does: result,
    one comment, then key=value pairs separated by ';' (quoted strings
    skipped). None when the comment or a quoted string is not closed."""
    i, depth, out = 0, 0, []
    while i < len(value) and value[i] != "(":
        i += 1
    while i < len(value):
        c = value[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if depth != 0:
        return None
    rest, text, inq = value[i + 1:], "", False
    j = 0
    while j < len(rest):
        c = rest[j]
        if inq and c == "\\":
            j += 2
            continue
        if c == '"':
            inq = not inq
        elif not inq:
            text += c
        j += 1
    if inq:
        return None
    return [kv.split("=", 1)[0].strip() for kv in text.split(";") if kv.strip()]


def main():
    if not os.access(SPFQ, os.X_OK):
        R.fail("spfq not built")
        R.exit()
    # 11 DNS-querying terms: a:n1 ... a:n11, none matching, then +all
    eleven = " ".join("a:n%d.lim.example" % i for i in range(1, 12))
    ten = " ".join("a:n%d.lim.example" % i for i in range(1, 11))
    recs = [a("n%d.lim.example" % i, "198.51.100.%d" % i) for i in range(1, 12)]
    recs += [
        txt("eleven.example", "v=spf1 %s +all" % eleven),
        txt("ten.example", "v=spf1 %s +all" % ten),
        # the limit spans includes: 6 + 6 terms through one include
        txt("six-a.example", "v=spf1 %s include:six-b.example -all" %
            " ".join("a:n%d.lim.example" % i for i in range(1, 6))),
        txt("six-b.example", "v=spf1 %s +all" %
            " ".join("a:n%d.lim.example" % i for i in range(6, 12))),
        # 3 void lookups (NXDOMAIN), then a match
        txt("voids.example", "v=spf1 a:v1.example a:v2.example a:v3.example "
            "ip4:192.0.2.1 -all"),
        txt("twovoids.example", "v=spf1 a:v1.example a:v2.example "
            "ip4:192.0.2.1 -all"),
        txt("loop-a.example", "v=spf1 include:loop-b.example -all"),
        txt("loop-b.example", "v=spf1 include:loop-a.example -all"),
        txt("self.example", "v=spf1 redirect=self.example"),
        # CVE-2023-42118 patterns and macro bombs
        txt("cve1.example", "v=spf1 exists:%{l99r-.}.x.example +all"),
        txt("cve2.example", "v=spf1 exists:%{Lr-}.x.example +all"),
        txt("cve3.example", "v=spf1 exists:" + "%{l}" * 9 + ".x.example +all"),
        txt("cve4.example", "v=spf1 a:%{d}.%{o}.%{l}.%{s}.%{i}.%{h}.%{v}."
            "%{d}.%{o}.x.example +all"),
        txt("cve5.example", "v=spf1 exists:x" + "a" * 300 + ".example +all"),
        txt("cve6.example", "v=spf1 exists:%{l1r----}.x.example +all"),
        txt("cve7.example", "v=spf1 -all exp=%{l99}.x.example"),
        txt("ok-macro.example", "v=spf1 exists:%{l1r-}.u.example -all"),
        a("alice.u.example", "127.0.0.2"),
        # 11 MX names
        txt("mx11.example", "v=spf1 mx +all"),
        txt("mx10.example", "v=spf1 mx -all"),
        a("mail.example.org", "192.0.2.1"),
        txt("mail.example.org", "v=spf1 a -all"),
        txt("example.org", "v=spf1 ip4:192.0.2.0/24 -all"),
    ]
    recs += [mx("mx11.example", i, "m%d.mx.example" % i) for i in range(11)]
    recs += [mx("mx10.example", i, "m%d.mx.example" % i) for i in range(10)]
    recs += [a("m%d.mx.example" % i, "198.51.100.%d" % (50 + i))
             for i in range(11)]
    recs.append(a("m9.mx.example", "192.0.2.1"))

    with DNSServer(recs) as dns:
        def res(dom, local="alice", ip=IP):
            return spfq(dns.address, ip, "mail.example.org",
                        "%s@%s" % (local, dom))

        r = res("eleven.example")
        check("11 DNS-querying terms -> permerror", r[0] == "permerror", r[4])
        r = res("ten.example")
        check("10 DNS-querying terms -> pass", r[0] == "pass", r[4])
        r = res("six-a.example")
        check("terms counted across include -> permerror",
              r[0] == "permerror", r[4])
        r = res("voids.example")
        check("3 void lookups -> permerror", r[0] == "permerror", r[4])
        r = res("twovoids.example")
        check("2 void lookups -> pass", r[0] == "pass", r[4])
        r = res("loop-a.example")
        check("include loop -> permerror", r[0] == "permerror", r[4])
        r = res("self.example")
        check("redirect to itself -> permerror", r[0] == "permerror", r[4])
        for n in range(1, 8):
            r = res("cve%d.example" % n, local="a-b-c.d-e")
            check("hostile macro record cve%d -> permerror" % n,
                  r[0] == "permerror", r[4])
        r = res("ok-macro.example", local="alice-x")
        check("ordinary reversed macro still works -> pass",
              r[0] == "fail" or r[0] == "pass", r[4])
        r = res("mx11.example")
        check("11 MX names -> permerror", r[0] == "permerror", r[4])
        r = res("mx10.example")
        check("10 MX names, tenth matches -> pass", r[0] == "pass", r[4])
        # null sender: MAIL FROM identity is postmaster@HELO (§2.4)
        r = spfq(dns.address, IP, "mail.example.org", "")
        check("null sender uses HELO -> pass", r[0] == "pass" and
              "postmaster@mail.example.org" in r[2].get(
                  "received-spf-mailfrom:", ""), r[4])
        r = spfq(dns.address, "198.51.100.9", "mail.example.org", "")
        check("null sender uses HELO -> fail", r[0] == "fail", r[4])
        r = spfq(dns.address, IP, "mail.example.org", "alice@example.org",
                 helo_check=True)
        check("HELO identity checked -> pass", r[1] == "pass", r[4])
        r = spfq(dns.address, IP, "[192.0.2.1]", "alice@example.org",
                 helo_check=True)
        check("IP-literal HELO -> none", r[1] == "none", r[4])
        r = spfq(dns.address, IP, "localhost", "alice@example.org",
                 helo_check=True)
        check("non-FQDN HELO -> none", r[1] == "none", r[4])
        # hostile HELO: nothing in Received-SPF may break the header
        hostile = "evil.example\r\nX-Injected: yes; (a) \"q\""
        r = spfq(dns.address, IP, hostile, "", helo_check=True)
        for key in ("received-spf-mailfrom:", "received-spf-helo:"):
            v = r[2].get(key, "")
            check("hostile HELO: %s has no CR/LF, keys intact" % key[:-1],
                  v and "\r" not in v and "\n" not in v and
                  structure(v) == KEYS, repr(v))
        hostile_from = 'a;b"c\\d(e)@example.org'
        r = spfq(dns.address, IP, "mail.example.org", hostile_from)
        v = r[2].get("received-spf-mailfrom:", "")
        check("hostile MAIL FROM is quoted in Received-SPF",
              'envelope-from="a;b\\"c\\\\d(e)@example.org";' in v and
              structure(v) == KEYS, v)
        check("reason is comment-safe",
              all(ch not in r[2].get("mailfrom", "") for ch in ";()\r\n"),
              r[2].get("mailfrom", ""))

    # a DNS server that is gone: temperror within the timeout
    gone = "127.0.0.1@%d" % closed_port()
    r = spfq(gone, IP, "mail.example.org", "alice@example.org",
             timeout_ms=800)
    check("DNS server gone -> temperror", r[0] == "temperror", r[4])
    check("DNS server gone -> answer within the timeout", r[3] < 3.0,
          "%.2fs" % r[3])
    R.exit()


if __name__ == "__main__":
    main()
