#!/usr/bin/python3
"""test_dmarc_dns - DMARC discovery (dmarc_lookup_start / dmarc_evaluate) against
a real unbound on loopback, under both dmarc.discovery modes (RFC 9989 tree walk,
RFC 7489 with the PSL): the From domain's record, the organizational domain's,
sp= for existing and np= for non-existent subdomains, several records (none),
one with neither p nor rua (no DMARC), none at all, REFUSED (temperror).

The cases and their expected verdicts are in tests/unit/test_dmarc.c
(dns_cases); it runs them when DMARC_TEST_NS names the server.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, mx, txt, refuse_zone  # noqa: E402
from harness import BUILDDIR, Results  # noqa: E402

RECORDS = [
    txt("_dmarc.example.com", "v=DMARC1; p=none; sp=quarantine; np=reject"),
    a("example.com", "192.0.2.1"),
    a("a.example.com", "192.0.2.2"),
    mx("own.example.com", 10, "mx.example.com"),
    txt("_dmarc.own.example.com", "v=spf1 -all"),
    txt("_dmarc.own.example.com", "v=DMARC1; p=reject"),
    txt("_dmarc.multi.example", "v=DMARC1; p=reject"),
    txt("_dmarc.multi.example", "v=DMARC1; p=none"),
    txt("_dmarc.bad.example", "v=DMARC1; p=bogus"),
    a("nothing.example", "192.0.2.3"),
    txt("_dmarc.pass.example", "v=DMARC1; p=reject"),
]


def main():
    with DNSServer(RECORDS, extra_conf=[refuse_zone("temp.example")]) as dns:
        env = dict(os.environ, DMARC_TEST_NS=dns.address)
        r = subprocess.run([os.path.join(BUILDDIR, "tests", "unit", "test_dmarc")],
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    out = r.stdout.decode(errors="replace")
    lines = [l for l in out.splitlines() if "dns " in l or "resolver" in l]
    # the unit test's own "ok - dns ..." lines, as it printed them
    for l in lines:
        print(l)
    R = Results()
    R.ok("test_dmarc with DNS (%d checks)" % len(lines),
         r.returncode == 0 and len(lines) > 10)
    R.exit()


main()
