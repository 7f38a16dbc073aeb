#!/usr/bin/python3
"""test_dns - milter/dns/dns.c and milter/auth/iprev.c against a real unbound on loopback,
through tests/lib/dnsq. Prints "ok - NAME" / "not ok - NAME" per case."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import (DNSServer, DelayProxy, a, aaaa, closed_port, cname,  # noqa: E402
                       mx, refuse_zone, txt)
from harness import DNSQ, Results  # noqa: E402

R = Results()
report = R.ok


def dnsq(server, *args, timeout_ms=2000):
    """Run dnsq; (output lines, seconds taken)."""
    t0 = time.monotonic()
    p = subprocess.run([DNSQ, "-t", str(timeout_ms), "-s", server] + list(args),
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    if p.returncode != 0:
        return ["exit %d: %s" % (p.returncode, p.stderr.strip())], took
    return p.stdout.splitlines(), took


def expect(server, name, args, want, ordered=True, **kw):
    """The first line (status) and the records as a set unless ordered."""
    out, _ = dnsq(server, *args, **kw)
    if ordered:
        good = out == want
    else:
        good = out[:1] == want[:1] and sorted(out[1:]) == sorted(want[1:])
    report(name, good, "want %r\ngot  %r" % (want, out))


LONG = "v=DKIM1; k=rsa; p=" + "A" * 380          # one record, 398 bytes
HUGE = "x" * (16 * 1024 + 10)                     # a 16 KB record, TCP-sized

RECORDS = [
    a("host.example.org", "192.0.2.10"),
    a("host.example.org", "192.0.2.11"),
    aaaa("host.example.org", "2001:db8::10"),
    mx("example.org", 10, "MX1.Example.ORG"),
    mx("example.org", 20, "mx2.example.org"),
    txt("example.org", ["v=spf1 ", "ip4:192.0.2.0/24 ", "-all"]),
    txt("sel._domainkey.example.org", LONG),
    txt("huge.example.org", HUGE),
    txt("mixed.example.org", HUGE),
    txt("mixed.example.org", "small"),
    cname("alias.example.org", "host.example.org"),
    # iprev
    a("mail.example.org", "192.0.2.20"),
    a("elsewhere.example.org", "192.0.2.99"),
    aaaa("mail6.example.org", "2001:db8::25"),
    a("second.example.org", "192.0.2.30"),
    a("v4mapped.example.org", "192.0.2.40"),
]
PTRS = [
    ("192.0.2.20", "mail.example.org"),
    ("192.0.2.21", "elsewhere.example.org"),
    ("2001:db8::25", "mail6.example.org"),
    ("192.0.2.30", "nothing.example.org"),
    ("192.0.2.30", "second.example.org"),
    ("192.0.2.40", "v4mapped.example.org"),
    ("192.0.2.50", "host.refused.example"),
]
EXTRA = [refuse_zone("refused.example"), refuse_zone("18.198.in-addr.arpa")]


def main():
    if not os.access(DNSQ, os.X_OK):
        R.fail("dnsq built", "%s missing; make -C tests lib/dnsq" % DNSQ)
        return 1
    with DNSServer(RECORDS, PTRS, EXTRA) as dns:
        s = dns.address
        expect(s, "A: both addresses", ["A", "host.example.org"],
               ["ok", "192.0.2.10", "192.0.2.11"], ordered=False)
        expect(s, "A: final dot accepted", ["A", "host.example.org."],
               ["ok", "192.0.2.10", "192.0.2.11"], ordered=False)
        expect(s, "AAAA", ["AAAA", "host.example.org"], ["ok", "2001:db8::10"])
        expect(s, "MX: preference and lower-cased name", ["MX", "example.org"],
               ["ok", "10 mx1.example.org", "20 mx2.example.org"], ordered=False)
        expect(s, "CNAME followed for A", ["A", "alias.example.org"],
               ["ok", "192.0.2.10", "192.0.2.11"], ordered=False)
        expect(s, "PTR in 192.0.2.0/24 (default local zone lifted)",
               ["PTR", "20.2.0.192.in-addr.arpa"], ["ok", "mail.example.org"])
        v6rev = ".".join(reversed("20010db8000000000000000000000025")) + ".ip6.arpa"
        expect(s, "PTR in 2001:db8::/32", ["PTR", v6rev], ["ok", "mail6.example.org"])
        expect(s, "TXT: character-strings joined", ["TXT", "example.org"],
               ["ok", "v=spf1 ip4:192.0.2.0/24 -all"])
        expect(s, "TXT: 398-byte record in two strings",
               ["TXT", "sel._domainkey.example.org"], ["ok", LONG])
        expect(s, "TXT of 16 KB: delivered whole (consumers cap it themselves)",
               ["TXT", "huge.example.org"], ["ok", HUGE])
        expect(s, "TXT: a 16 KB RR beside a small one, both kept",
               ["TXT", "mixed.example.org"], ["ok", "small", HUGE], ordered=False)
        expect(s, "NXDOMAIN", ["A", "nope.example.org"], ["nxdomain"])
        expect(s, "NODATA", ["MX", "host.example.org"], ["nodata"])
        expect(s, "REFUSED: tempfail", ["A", "x.refused.example"],
               ["tempfail SERVFAIL"])
        expect(s, "empty label: nxdomain without lookup", ["A", "a..example.org"],
               ["nxdomain"])
        expect(s, "name over 253 chars: nxdomain", ["A", ("a" * 60 + ".") * 4 + "org"],
               ["nxdomain"])
        expect(s, "label over 63: nxdomain", ["A", "a" * 64 + ".org"], ["nxdomain"])

        # many threads, half the queries cancelled while running
        out, _ = dnsq(s, "-n", "3000", "A", "host.example.org")
        fds = out[1].split() if len(out) == 2 else []
        report("3000 concurrent lookups over 3 resolvers: answers, no fd leak",
               out[:1] == ["ok"] and len(fds) == 3 and fds[1] == fds[2], out)

        # iprev
        expect(s, "iprev: PTR confirms -> pass", ["iprev", "192.0.2.20"],
               ["pass mail.example.org forward-confirmed"])
        expect(s, "iprev: PTR name's A elsewhere -> fail", ["iprev", "192.0.2.21"],
               ["fail elsewhere.example.org no PTR name resolves to the address"])
        expect(s, "iprev: no PTR -> fail", ["iprev", "192.0.2.22"],
               ["fail - no PTR record"])
        expect(s, "iprev: IPv6 client -> pass", ["iprev", "2001:db8::25"],
               ["pass mail6.example.org forward-confirmed"])
        expect(s, "iprev: v4-mapped IPv6 checked as IPv4", ["iprev", "::ffff:192.0.2.40"],
               ["pass v4mapped.example.org forward-confirmed"])
        expect(s, "iprev: second of two PTR names confirms -> pass",
               ["iprev", "192.0.2.30"], ["pass second.example.org forward-confirmed"])
        expect(s, "iprev: PTR refused -> temperror", ["iprev", "198.18.0.1"],
               ["temperror - PTR lookup failed temporarily"])
        expect(s, "iprev: forward lookup refused -> temperror", ["iprev", "192.0.2.50"],
               ["temperror host.refused.example forward lookup failed temporarily"])

        # slow and silent forwarders
        with DelayProxy(dns.port, 0.05) as slow:
            out, took = dnsq(slow.address, "A", "host.example.org")
            report("50 ms slow server still answers", out[:1] == ["ok"], out)
        with DelayProxy(dns.port, None) as mute:
            out, took = dnsq(mute.address, "A", "host.example.org", timeout_ms=800)
            report("silent server: tempfail timeout within timeout + 1 s",
                   out == ["tempfail timeout"] and took <= 1.8,
                   "%r in %.2f s" % (out, took))
            out, took = dnsq(mute.address, "iprev", "192.0.2.20", timeout_ms=800)
            report("silent server: iprev temperror", out[:1] ==
                   ["temperror - PTR lookup failed temporarily"] and took <= 1.8,
                   "%r in %.2f s" % (out, took))

        port = dns.port
        dns.stop()
        out, took = dnsq("127.0.0.1@%d" % port, "A", "host.example.org",
                         timeout_ms=1000)
        report("server gone: tempfail within timeout + 1 s",
               out[:1] and out[0].startswith("tempfail") and took <= 2.0,
               "%r in %.2f s" % (out, took))
    out, took = dnsq("127.0.0.1@%d" % closed_port(), "TXT", "example.org",
                     timeout_ms=1000)
    report("closed port: tempfail within timeout + 1 s",
           out[:1] and out[0].startswith("tempfail") and took <= 2.0,
           "%r in %.2f s" % (out, took))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
