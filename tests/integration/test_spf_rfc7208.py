#!/usr/bin/python3
"""test_spf_rfc7208 - spf.c (libspf2 + our DNS layer) against the RFC 7208 suite.

For each scenario of /usr/share/doc/python3-spf/rfc7208-tests.yml.gz a real
unbound on loopback serves the scenario's zonedata; every test is one spfq run
(tests/lib/spfq) and its MAIL FROM verdict is compared with the expected results.
Like the suite's own driver (pyspf), a test without MAIL FROM checks
postmaster@HELO, and a name with only type-SPF records gets them as TXT too
(RFC 7208 removed type SPF; the suite relies on that duplication). TIMEOUT makes
the name's other types time out (see zone_records). Where a test gives the
expected explanation (22 do), spfq's for a fail must equal it; "DEFAULT" is
pyspf's driver's default text, which stands for "no exp= explanation".

Prints "ok - scenario/test" or "not ok - ...", then "# rfc7208: N/203".
A test listed in EXPECTED_DIFFERENCES, while our result is exactly the documented
one, prints "difference - NAME: why" (which run-suite counts apart, never as ok)
and is not in N; a summary of them follows the count.
"""

import concurrent.futures
import gzip
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, aaaa, cname, mx, ptr, txt, closed_port  # noqa: E402
from harness import SPFQ, Results  # noqa: E402

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
TIMEOUT_MS = 1500

# test name -> (the result we give, why it differs from the suite, and the RFC
# section that decides it). Empty: every case scores as pyspf scores it.
EXPECTED_DIFFERENCES = {
}


def label_ok(name):
    labels = name.rstrip(".").split(".")
    return all(0 < len(l) <= 63 for l in labels) and len(name) <= 253


def dns_name(name):
    """Zone-file spelling: spaces and other odd bytes as \\DDD."""
    out = ""
    for ch in name:
        c = ord(ch)
        if c <= 0x20 or c >= 0x7f or ch in '"\\;()':
            out += "\\%03d" % c
        else:
            out += ch
    return out


def zone_records(zonedata):
    """(local-data lines, server config lines) for one scenario.

    TIMEOUT (as in pyspf's driver): the types the name has records of are
    answered, every other type of that name times out. Here: a typetransparent
    local zone for the name, forwarded to a loopback port where nothing
    listens; names below it get zones of their own so only the name itself is
    affected."""
    records, conf = [], []
    zonedata = zonedata or {}
    timeouts = [n.rstrip(".").lower() for n, e in zonedata.items()
                if "TIMEOUT" in e]
    for t in timeouts:
        conf += ['local-zone: "%s." typetransparent' % dns_name(t),
                 "do-not-query-localhost: no",
                 "forward-zone:", '  name: "%s."' % dns_name(t),
                 "  forward-addr: 127.0.0.1@%d" % closed_port(),
                 "server:"]
    for name in zonedata:
        low = name.rstrip(".").lower()
        if label_ok(name) and low not in timeouts and \
                any(low.endswith("." + t) for t in timeouts):
            conf.append('local-zone: "%s." static' % dns_name(low))
    for name, entries in zonedata.items():
        if not label_ok(name):
            continue          # cannot exist in the DNS
        n = dns_name(name)
        has_txt = any(isinstance(e, dict) and "TXT" in e
                      for e in entries)
        for e in entries:
            if not isinstance(e, dict) or "NONE" in e.values():
                continue      # TIMEOUT, or "no record of this type"
            for typ, val in e.items():
                if typ == "A":
                    records.append(a(n, val))
                elif typ == "AAAA":
                    records.append(aaaa(n, val))
                elif typ == "MX":
                    records.append(mx(n, val[0], dns_name(val[1])))
                elif typ == "PTR":
                    records.append(ptr(n, dns_name(val)))
                elif typ == "CNAME":
                    records.append(cname(n, dns_name(val)))
                elif typ == "TXT" or (typ == "SPF" and not has_txt):
                    if isinstance(val, list) and not val:
                        val = [""]          # a TXT record with no strings
                    records.append(txt(n, val if isinstance(val, list) else
                                       [val[i:i + 255] for i in
                                        range(0, max(len(val), 1), 255)]))
    return records, conf


def run_one(address, test):
    """(result, reason, explanation or "DEFAULT") of one spfq run."""
    helo = str(test.get("helo", ""))
    mailfrom = str(test.get("mailfrom", ""))
    try:
        out = subprocess.run([SPFQ, "-s", address, "-t", str(TIMEOUT_MS),
                              str(test["host"]), helo, mailfrom],
                             capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "hang", "", None
    got = None
    exp = "DEFAULT"      # pyspf's driver sets this default explanation
    for line in out.stdout.splitlines():
        if line.startswith("mailfrom "):
            parts = line.split(" ", 2)
            got = (parts[1], parts[2] if len(parts) > 2 else "")
        elif line.startswith("mailfrom-explanation "):
            exp = line.split(" ", 1)[1]
    if got is None:
        return "crash(%d)" % out.returncode, out.stderr.strip()[:200], None
    return got + (exp,)


def main():
    R = Results()
    if not os.access(SPFQ, os.X_OK):
        R.fail("spfq not built (make -C tests lib/spfq)")
        R.exit()
    with gzip.open(SUITE, "rt") as f:
        docs = list(yaml.safe_load_all(f))
    total = explained = 0
    for doc in docs:
        records, conf = zone_records(doc.get("zonedata"))
        with DNSServer(records, extra_conf=conf) as dns:
            tests = sorted(doc["tests"].items())
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda t: run_one(dns.address, t[1]),
                                        tests))
        for (name, test), (got, reason, exp) in zip(tests, results):
            total += 1
            want = test["result"]
            want = want if isinstance(want, list) else [want]
            if "explanation" in test:
                explained += 1
                print("# %s: explanation %r" % (name, exp))
            if got in want and "explanation" in test and exp != test["explanation"]:
                R.fail(name, "explanation %r, want %r" % (exp, test["explanation"]))
            elif got in want:
                R.ok(name, True)
            elif name in EXPECTED_DIFFERENCES and \
                    EXPECTED_DIFFERENCES[name][0] == got:
                R.difference(name, "got %s, want %s: %s" %
                             (got, "/".join(want), EXPECTED_DIFFERENCES[name][1]))
            else:
                R.fail(name, "got %s (%s), want %s" % (got, reason, "/".join(want)))
    print("# rfc7208: %d/%d (the %d explanations compared)" % (R.passed, total,
                                                               explained))
    R.exit()


if __name__ == "__main__":
    main()
