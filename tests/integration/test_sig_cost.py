#!/usr/bin/python3
"""test_sig_cost - what the signatures of one message may cost the daemon
(issue 24 finding 2), through the real daemon with DNS from unbound on loopback.

The attack: 50 ARC sets and 5 DKIM signatures, every one valid and naming one
key, an RSA-3072 key whose public exponent has 3,071 bits (one verification
about 100 times that of e=65537; on the tree before the fix 0.7 s of CPU per
message). Now the key is refused: dkim=permerror and arc=fail, each saying
"rsa public exponent of 3071 bits, over 32", in the A-R and the log.

The same message with a key the daemon accepts (e=65537, RSA-2048): the
public-key operations are bounded (DKIM_VERIFY_MAX_PK_OPS, 32, DKIM and ARC
together): the 5 DKIM signatures pass, the chain fails with "over 32 public-key
operations per message", and the log says how many signatures were not checked.

Figures (printed, never pass/fail): the daemon's CPU per message
(/proc/PID/stat utime+stime over N messages) for the refused key, the bounded
RSA-2048 message, and the dearest message the bounds allow: the same structure
with an RSA-8192 key whose exponent is 2^32-1 (tests/integration/fixtures/
rsa8192-e32.pem), the largest modulus and exponent dkim_keyrec.h accepts.
"""
import base64
import os
import random
import re
import sys
from math import gcd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, inbound_log_fields, run_miltc  # noqa: E402
from dnsserver import DNSServer, txt  # noqa: E402
from test_inbound import message  # noqa: E402

import dkim  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AUTHSERV = "mx.test.example"
IP = "192.0.2.30"
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id"]
SETS, DKIMS = 50, 5
N_CPU = int(os.environ.get("SIG_COST_MESSAGES", "5"))


def big_exponent_key():
    """an RSA-3072 key whose public exponent has 3,071 bits (PKCS#1 PEM)"""
    pn = rsa.generate_private_key(65537, 3072).private_numbers()
    p, q = pn.p, pn.q
    lam = (p - 1) * (q - 1) // gcd(p - 1, q - 1)
    while True:
        e = random.getrandbits(3071) | (1 << 3070) | 1
        if gcd(e, lam) == 1:
            break
    d = pow(e, -1, lam)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                 rsa.RSAPublicNumbers(e, p * q)).private_key()


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def record(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def costly(domain, keypem, sets=SETS, dkims=DKIMS):
    """a message From domain with dkims DKIM signatures and sets ARC sets, every
    one valid and made with keypem (s=k, d=domain)"""
    msg = message("pay@%s" % domain, subject="costly",
                  body="cost\n").replace(b"\n", b"\r\n")
    for _ in range(dkims):
        msg = dkim.sign(msg, b"k", domain.encode(), keypem, include_headers=SIGNED,
                        linesep=b"\r\n") + msg
    for i in range(sets):
        # each hop its own authserv-id: dkimpy takes cv= from the A-R naming it
        srv = "hop%d.%s" % (i + 1, domain)
        ar = "spf=pass smtp.mailfrom=%s" % domain if i == 0 else "arc=pass"
        msg = ("Authentication-Results: %s; %s\r\n" % (srv, ar)).encode() + msg
        msg = b"".join(dkim.arc_sign(msg, b"k", domain.encode(), keypem,
                                     srv.encode(), include_headers=SIGNED)) + msg
    return msg


def send(m, msg, qid):
    return run_miltc(m.socket, msg, client_addr=IP, client_name="[%s]" % IP,
                     helo="mail.example", mail_from="pay@evil.test",
                     rcpts=["rcpt@example.net"], queue_id=qid)


def our_ar(r):
    ars = [re.sub(r"\s+", " ", v) for n, v in r["added"]
           if n.lower() == "authentication-results"]
    return ars[0] if len(ars) == 1 else ""


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # utime + stime


def cpu_per_message(m, msg, tag):
    """the daemon's CPU seconds per message over N_CPU messages"""
    hz = os.sysconf("SC_CLK_TCK")
    before = cpu_ticks(m.proc.pid)
    for i in range(N_CPU):
        send(m, msg, "%s%d" % (tag, i))
    return (cpu_ticks(m.proc.pid) - before) / hz / N_CPU


def check_refused(R, m, msg):
    r = send(m, msg, "E1")
    ar = our_ar(r)
    line = m.wait_log(r"E1: inbound ", 10) or ""
    f = inbound_log_fields(line) if line else {}
    why = "rsa public exponent of 3071 bits, over 32"
    R.eq("big exponent: 5 DKIM verdicts in the A-R", len(re.findall(r"\bdkim=", ar)), 5)
    R.eq("big exponent: every one permerror",
         len(re.findall(r"\bdkim=permerror \(bad key record: %s\)" % why, ar)), 5)
    R.ok("big exponent: arc=fail naming the exponent in the A-R",
         re.search(r"\barc=fail \([^)]*%s\)" % why, ar) is not None, ar)
    R.eq("big exponent: log dkim=permerror", f.get("dkim"), "permerror")
    R.eq("big exponent: log arc=fail", f.get("arc"), "fail")
    R.ok("big exponent: the log line names the exponent", why in line, line)
    R.ok("big exponent: no operation bound reached (nothing verified)",
         m.wait_log(r"E1: .*public-key operations per message", 1) is None,
         m.log_tail())


def check_bounded(R, m, msg):
    r = send(m, msg, "B1")
    ar = our_ar(r)
    line = m.wait_log(r"B1: inbound ", 10) or ""
    f = inbound_log_fields(line) if line else {}
    R.eq("bounded: the 5 DKIM signatures pass",
         len(re.findall(r"\bdkim=pass\b", ar)), 5)
    R.ok("bounded: arc=fail, over 32 public-key operations per message (A-R)",
         re.search(r"\barc=fail \([^)]*over 32 public-key operations per message\)",
                   ar) is not None, ar)
    R.eq("bounded: log arc=fail", f.get("arc"), "fail")
    note = m.wait_log(r"B1: \d+ DKIM/ARC signatures not checked: over 32 "
                      r"public-key operations per message", 5)
    R.ok("bounded: logged how many signatures were not checked", note is not None,
         m.log_tail())
    R.ok("daemon still runs", m.running(), m.log_tail())


def main():
    R = Results()
    big = big_exponent_key()
    ok = rsa.generate_private_key(65537, 2048)
    with open(os.path.join(HERE, "fixtures", "rsa8192-e32.pem"), "rb") as fh:
        dear = serialization.load_pem_private_key(fh.read(), None)
    zones = [txt("k._domainkey.evil.test", record(big)),
             txt("k._domainkey.ok.test", record(ok)),
             txt("k._domainkey.dear.test", record(dear))]
    attack = costly("evil.test", pem(big))
    bounded = costly("ok.test", pem(ok))
    # enough sets to spend the whole bound: 5 DKIM + 14 AMS + 14 AS > 32
    dearest = costly("dear.test", pem(dear), sets=14)
    with DNSServer(zones) as dns:
        with Milter({"authserv_id": AUTHSERV, "dns": {"nameservers": [dns.address]},
                     "arc": {"verify": True}}) as m:
            R.run("refused key", check_refused, R, m, attack)
            R.run("bounded operations", check_bounded, R, m, bounded)
            for name, msg, tag in (("3071-bit exponent (refused)", attack, "C"),
                                   ("RSA-2048, bound reached", bounded, "D"),
                                   ("RSA-8192 e=2^32-1, bound reached", dearest, "W")):
                cpu = cpu_per_message(m, msg, tag)
                print("# CPU per message, %s: %.4f s (%d messages, %d bytes)"
                      % (name, cpu, N_CPU, len(msg)))
            R.ok("daemon still runs after the figures", m.running(), m.log_tail())
    R.exit()


if __name__ == "__main__":
    main()
