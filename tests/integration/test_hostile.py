#!/usr/bin/python3
"""test_hostile - the hostile corpus (tests/data/hostile/MANIFEST) through the daemon.

Every case: the final action and a fragment of its log line as the manifest says,
then the daemon must still run and judge a plain message. The authres cases also
check the header edits: every A-R that names our authserv-id (any spelling) is
deleted (header-change with an empty value) from the last to the first, a foreign
one stays, and ours is still added. At the end the daemon's open file descriptors
are what they were before the corpus (nothing leaked per message).
Prints "ok - NAME" / "not ok - NAME" per check."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, cname, refuse_zone, txt  # noqa: E402
from harness import SRCDIR, Milter, Results, run_miltc  # noqa: E402

R = Results()
DATA = os.path.join(SRCDIR, "tests", "data", "hostile")
AUTHSERV = "mx.test.example"
CLIENT = "192.0.2.10"

PLAIN = (b"From: Alice <alice@good.example>\r\nTo: bob@example.com\r\n"
         b"Subject: plain\r\n\r\nHello.\r\n")
TAIL = b"To: bob@example.com\r\nSubject: hostile\r\nMessage-ID: <h@good.example>\r\n\r\nbody\r\n"
B64 = "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgZGVjb2Rlcw=="
SIG = ("v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s; h=from:to:subject; "
       "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=%s")


def keyrec_16384():
    with open(os.path.join(DATA, "rsa16384.keyrec")) as f:
        return f.read().strip()


def zone():
    z = [a("mail.example.org", CLIENT),
         txt("good.example", "v=spf1 ip4:192.0.2.10 -all"),
         txt("_dmarc.good.example", "v=DMARC1; p=none"),
         # DKIM key records
         txt("garbage._domainkey.keys.example", "v=DKIM1; k=rsa; p=!!!not*base64@@@"),
         txt("wrongk._domainkey.keys.example",
             "v=DKIM1; k=dsa; p=MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
         txt("big._domainkey.keys.example", keyrec_16384()),
         # SPF
         txt("macro.example", "v=spf1 " + " ".join(
             "exists:%{l}%{l}%{l}%{l}%{l}%{l}%{l}%{l}.%{d}%{d}%{d}%{d}" for _ in range(8))
             + " -all"),
         txt("loop.example", "v=spf1 include:loop2.example -all"),
         txt("loop2.example", "v=spf1 include:loop.example -all"),
         txt("void.example", "v=spf1 " + " ".join(
             "exists:v%d.void.example" % i for i in range(100)) + " ip4:192.0.2.10 -all"),
         # over 16 KB in 255-byte strings; the ip is at the end
         txt("huge.example", "v=spf1 " + " ".join(
             "ip4:10.%d.%d.0/24" % (i // 250, i % 250) for i in range(1100))
             + " ip4:192.0.2.10 -all"),
         # about 1.6 KB: too big for a UDP answer (EDNS 1232), unbound sets TC=1
         # and the resolver asks again over TCP; the padding is unknown modifiers
         txt("tcp.example", "v=spf1 " + " ".join(
             "x-pad%d=%s" % (i, "p" * 240) for i in range(6)) + " ip4:192.0.2.10 -all"),
         txt("ip6many.example", "v=spf1 " + " ".join(
             "ip6:2001:db8:aaaa:bbbb:cccc:dddd:%x::/112" % i for i in range(40))
             + " ip4:192.0.2.10 -all"),
         # 65 terms, 1.1 KB: the client is not listed, -all must fail it
         txt("many.example", "v=spf1 " + " ".join(
             "ip4:10.0.%d.0/24" % i for i in range(64)) + " -all"),
         # DMARC
         # 1,000 URIs in about 13 KB (TCP again); only DMARC_MAX_URIS are kept
         txt("_dmarc.rua.example", "v=DMARC1; p=reject; rua=" + ",".join(
             ["mailto:a@r.e"] * 1000)),
         # over 16 KB, on TCP: parsed like any other record, 32 rua URIs kept
         txt("_dmarc.huge.example", "v=DMARC1; p=reject; rua=" + ",".join(
             "mailto:a%d@r.example" % i for i in range(1000))),
         # a repeated tag makes the record invalid (RFC 6376 §3.2): no DMARC
         txt("_dmarc.dup.example", "v=DMARC1; p=none; p=reject; p=reject"),
         txt("_dmarc.nonascii.example",
             "v=DMARC1; p=reject; rua=mailto:\u00fcber@\u00e9xample.example".encode()),
         cname("_dmarc.cnameloop.example", "_dmarc.cl2.example"),
         cname("_dmarc.cl2.example", "_dmarc.cnameloop.example"),
         # issue 11: the spoofed brand and the attacker's names
         txt("paypal.example", "v=spf1 -all"),
         txt("_dmarc.paypal.example", "v=DMARC1; p=reject; aspf=s"),
         txt("paypal.example.evil.example", "v=spf1 ip4:192.0.2.10 -all"),
         txt("evil.example", "v=spf1 ip4:192.0.2.10 -all"),
         # ARC (issue 15): a real RSA key whose signatures the corpus never matches
         txt("arc._domainkey.sealer.example", ARC_KEY)]
    for i in range(1, 16):
        z.append(txt("d%d.deep.example" % i,
                     "v=spf1 include:d%d.deep.example -all" % (i + 1)))
    z.append(txt("d16.deep.example", "v=spf1 ip4:192.0.2.10 -all"))
    return z


# issue 15: the ARC fields of the generated cases (fake b=, structurally as named)
ARC_KEY = ("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5Ru5WVhkPiBuE+mOf29u"
           "qontUfoQpcWX04sA/V6dRmZ0I2kRHOSKYXLW84sqPiWyfKH4WaP7f0p6RvENyIqFjCYWDPxSX5Ck/rj0jUz"
           "Q6FKloUb9M/0hhdUy2xa7przy7wudLu7WpgxyMLogPZfWMV369vvPefyvuXF8B3rCuy5qSNyvnDf0Dn4/blI"
           "Lfyw5df4JWJIj0FfXxc3LMMLQM+Nn8q71iJmH5qXuB78GWUjT7erEXnrXdWKZimM9l6fMSOb6EBm0AwNVR+m"
           "OGwt05LPrSHFrwKJSNRB5gBOzXfmjdUpghIq+wLF1trz+oJt5CcZs45GPjiuyUomI+HgFpQIDAQAB")
ARC_AAR = "ARC-Authentication-Results: i=%d; sealer.example; dmarc=pass header.from=good.example"
ARC_AMS = ("ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed; d=sealer.example; "
           "s=arc; h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=" + B64)
ARC_AS = "ARC-Seal: i=%d; a=rsa-sha256; cv=%s; d=sealer.example; s=arc; b=" + B64


def arc_set(i):
    return "\r\n".join([ARC_AS % (i, "none" if i == 1 else "pass"), ARC_AMS % i,
                         ARC_AAR % i]).encode() + b"\r\n"


def config(dns_addr):
    return {"authserv_id": AUTHSERV,
            "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns_addr], "timeout": 3},
            "dkim": {"verify": True}}


def gen(name):
    """The messages too big to commit."""
    from_good = b"From: a@good.example\r\n"
    if name == "header-1mb":
        return from_good + b"X-Big: " + b"x" * (1024 * 1024) + b"\r\n" + TAIL
    if name == "headers-60kb-x20":      # each under libmilter's 64 KB packet
        return from_good + b"".join(b"X-Big%d: " % i + b"y" * 60000 + b"\r\n"
                                    for i in range(20)) + TAIL
    if name == "headers-10000":
        return from_good + b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + TAIL
    if name == "dkim-1000":
        return b"".join(("DKIM-Signature: " + SIG % ("good.example", "s%d" % i, B64)
                         + "\r\n").encode() for i in range(1000)) + from_good + TAIL
    if name == "dkim-b-60kb":
        return ("DKIM-Signature: " + SIG % ("good.example", "s1", "A" * 61440)
                + "\r\n").encode() + from_good + TAIL
    if name == "dkim-b-100kb":
        return ("DKIM-Signature: " + SIG % ("good.example", "s1", "A" * 102400)
                + "\r\n").encode() + from_good + TAIL
    if name == "authres-100":
        return (b"Authentication-Results: other.example; spf=pass\r\n"
                + b"".join(b"Authentication-Results: mx.test.example; spf=pass x=%d\r\n"
                           % i for i in range(100)) + from_good + TAIL)
    if name == "authres-past-cap":     # issue 11: a forgery after the header caps
        return (from_good + b"Authentication-Results: mx.test.example; dmarc=pass\r\n"
                + b"".join(b"X-F%d: v\r\n" % i for i in range(10000))
                + b"Authentication-Results: other.example; spf=pass\r\n"
                + b"Authentication-Results: mx.test.example; dmarc=pass\r\n" + TAIL)
    if name == "forged-ar-10001":      # more forgeries than we would delete
        return from_good + b"Authentication-Results: mx.test.example; dmarc=pass\r\n" \
            * 10001 + TAIL
    if name == "arc-oversized-aar":
        return arc_set(1).replace(b"header.from=good.example",
                                  b"header.from=good.example; x=" + b"p" * 20000) \
            + from_good + TAIL
    if name == "arc-160-fields":
        return b"".join(arc_set(1) for _ in range(54)) \
            + from_good + TAIL
    if name == "arc-17-sealers":    # 17 distinct key names: 16 are looked up
        return b"".join(arc_set(i).replace(b"d=sealer.example", b"d=s%d.sealer.example" % i)
                        for i in range(17, 0, -1)) + from_good + TAIL
    if name == "arc-50-sets":
        return b"".join(arc_set(i) for i in range(50, 0, -1)) + from_good + TAIL
    raise KeyError(name)


def manifest():
    cases = []
    with open(os.path.join(DATA, "MANIFEST")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, msg, mailfrom, action, rx = [x.strip() for x in re.split(r"\s*\|\s*", line, 4)]
            cases.append((name, msg, mailfrom, action, rx))
    return cases


def message(ref):
    if ref.startswith("gen:"):
        return gen(ref[4:])
    with open(os.path.join(DATA, ref), "rb") as f:
        return f.read()


def our_authres(res):
    return [v for op, _i, n, v in res["mods"]
            if op == "insert" and n.lower() == "authentication-results"]


def ar_indexes(msg):
    """1-based indexes among the A-R fields: (ours, foreign) by how the test wrote them."""
    ours, foreign = [], []
    hdr = msg.split(b"\r\n\r\n", 1)[0].replace(b"\r\n\t", b" ")
    n = 0
    for line in hdr.split(b"\r\n"):
        if line.lower().startswith(b"authentication-results:"):
            n += 1
            (foreign if b"other.example" in line else ours).append(n)
    return ours, foreign


def check_authres_edits(name, msg, res):
    ours, foreign = ar_indexes(msg)
    changes = [(idx, v) for op, idx, n, v in res["mods"]
               if op == "change" and n.lower() == "authentication-results"]
    R.eq("%s: every forged A-R deleted (%d), from the last to the first"
         % (name, len(ours)), [i for i, _v in changes], sorted(ours, reverse=True))
    R.ok("%s: deletions carry an empty value" % name, all(v == "" for _i, v in changes),
         changes[:3])
    R.ok("%s: foreign A-R %s untouched" % (name, foreign),
         not any(i in foreign for i, _v in changes), changes)
    R.ok("%s: our A-R still added" % name,
         len(our_authres(res)) == 1 and our_authres(res)[0].lstrip().startswith(AUTHSERV),
         res["mods"][-3:])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def plain_ok(m, qid):
    res = run_miltc(m.socket, PLAIN, check=False, client_addr=CLIENT,
                    client_name="mail.example.org", helo="mail.example.org",
                    mail_from="alice@good.example", rcpts=["bob@example.com"],
                    queue_id=qid, run_timeout=60)
    return res["rc"] == 0 and res["action"] == "accept" and \
        any("dmarc=pass" in v for v in our_authres(res)), res


def run_case(m, n, case):
    name, ref, mailfrom, action, rx = case
    qid = "QH%03d" % n
    msg = message(ref)
    t0 = time.monotonic()
    res = run_miltc(m.socket, msg, check=False, client_addr=CLIENT,
                    client_name="mail.example.org", helo="mail.example.org",
                    mail_from=mailfrom, rcpts=["bob@example.com"], queue_id=qid,
                    run_timeout=60)
    took = time.monotonic() - t0
    line = m.wait_log(r"\b%s: inbound " % qid, timeout=5)
    known = action.startswith("known:")
    action = action[len("known:"):] if known else action
    if action == "error":
        got = res["rc"] == 2 and res["action"] is None
    else:
        got = res["rc"] == 0 and res["action"] == action
    what = "session ended by the daemon" if action == "error" else "action " + action
    detail = "rc=%s action=%s reply=%s stderr=%s" % (
        res["rc"], res["action"], res["reply"], res["stderr"].strip()[:200])
    logged = line is not None and re.search(rx, line)
    if known and not (got and logged):
        print("# KNOWN BUG (not counted) - %s: want %s and /%s/; got %s; log: %s"
              % (name, what, rx, detail, line), flush=True)
    else:
        R.ok("%s: %s (%.2fs)" % (name, what, took), got, detail)
        R.ok("%s: log line matches /%s/" % (name, rx), logged,
             line if line else m.log_tail(5))
    if name.startswith("authres"):
        check_authres_edits(name, msg, res)
    ok, pres = plain_ok(m, qid + "P")
    R.ok("%s: daemon still up and judging" % name, m.running() and ok,
         "running=%s %s" % (m.running(), pres.get("stderr", "")[:200]))


def main():
    cases = manifest()
    with DNSServer(zone(), ptrs=[(CLIENT, "mail.example.org")],
                   extra_conf=[refuse_zone("_domainkey.slowarc.example")]) as dns:
        with Milter(config(dns.address)) as m:
            for i in range(3):        # warm-up: threads, resolver, caches
                plain_ok(m, "QWARM%d" % i)
            fds0 = fd_count(m.proc.pid)
            for n, case in enumerate(cases):
                R.run(case[0], run_case, m, n, case)
            time.sleep(0.5)
            fds1 = fd_count(m.proc.pid)
            R.ok("%d cases: fds %d -> %d (no leak)" % (len(cases), fds0, fds1),
                 abs(fds1 - fds0) <= 2)
            rc = m.stop()
            R.eq("daemon stops cleanly after the corpus", rc, 0)
    R.exit()


if __name__ == "__main__":
    main()
