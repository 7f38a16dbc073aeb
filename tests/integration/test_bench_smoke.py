#!/usr/bin/python3
"""test_bench_smoke - a few hundred messages through tests/bench/loadgen against the
daemon, outbound signing and inbound checks at the same time: zero errors and the
expected count of each action. Checks the load path, not speed.

    outbound  200 messages, 8 connections x 5 messages, client 127.0.0.1: all
              accepted, each with one DKIM-Signature
    inbound   150 messages signed by sender.example from its SPF-listed host: all
              accepted, each with Authentication-Results, none signed
    forged     60 unsigned messages From sender.example (p=reject) from a host SPF
              fails: all rejected
"""
import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402

LOADGEN = os.path.join(harness.BUILDDIR, "tests", "bench", "loadgen")
IN_DOMAIN = "sender.example"
IN_IP = "198.18.0.10"
BAD_IP = "198.18.7.7"


def make_key(d, name):
    path = os.path.join(d, name + ".key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path], check=True,
                   stderr=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE).stdout
    return path, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def message(domain, n):
    body = "".join("line %04d of the smoke test body, some text to hash\n" % i
                   for i in range(n))
    return ("From: Smoke <smoke@%s>\nTo: rcpt@example.net\nSubject: smoke\n"
            "Date: Fri, 21 Nov 2025 12:00:00 +0000\nMessage-ID: <smoke.%d@%s>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s" % (domain, n, domain, body))


def start_loadgen(sock, path, conns, total, per_conn, client, mail_from):
    return subprocess.Popen([LOADGEN, "-s", sock, "-c", str(conns), "-n", str(total),
                             "-m", str(per_conn), "-a", client, "-f", mail_from,
                             "-H", "mail." + IN_DOMAIN, "-t", "30", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(p):
    out, err = p.communicate(timeout=300)
    text = out.decode()
    if p.returncode != 0 or not text.strip():
        raise RuntimeError("loadgen exited %d: %s" % (p.returncode, err.decode()))
    return json.loads(text.strip().splitlines()[-1]), text


def main():
    r = harness.Results()
    if not os.access(LOADGEN, os.X_OK):
        r.fail("loadgen built", LOADGEN + " missing (make -C tests bench/loadgen)")
        r.exit()
    d = harness.tmpdir()
    out_key, out_rec = make_key(d, "out")
    in_key, in_rec = make_key(d, "in")
    dns = DNSServer([txt("s1._domainkey.example.com", out_rec),
                     txt("s2._domainkey." + IN_DOMAIN, in_rec),
                     txt(IN_DOMAIN, "v=spf1 ip4:198.18.0.0/24 -all"),
                     txt("_dmarc." + IN_DOMAIN, "v=DMARC1; p=reject"),
                     a("mail." + IN_DOMAIN, IN_IP)],
                    ptrs=[(IN_IP, "mail." + IN_DOMAIN)])
    keys = {'key "out"': {"domain": "example.com", "selector": "s1", "file": out_key},
            'key "in"': {"domain": IN_DOMAIN, "selector": "s2", "file": in_key}}
    conf = {"authserv_id": "smoke.test", "log": {"stderr": True, "level": "warning"},
            "dns": {"nameservers": [dns.address]},
            "dkim": dict(keys, require_safe_keys=False)}
    with harness.Milter(conf) as m:
        out_path = os.path.join(d, "out.eml")
        with open(out_path, "w") as f:
            f.write(message("example.com", 60))
        # the inbound message: signed by sender.example through the daemon itself
        signed = harness.run_miltc(m.socket, message(IN_DOMAIN, 60), client_addr="127.0.0.1",
                                   mail_from="smoke@" + IN_DOMAIN, output=True)
        r.ok("inbound message signed for the test", signed["output"] is not None and
             b"DKIM-Signature:" in signed["output"], signed["stdout"][:200])
        in_path = os.path.join(d, "in.eml")
        with open(in_path, "wb") as f:
            f.write(signed["output"] or b"")
        forged_path = os.path.join(d, "forged.eml")
        with open(forged_path, "w") as f:
            f.write(message(IN_DOMAIN, 20))

        runs = {
            "outbound": start_loadgen(m.socket, out_path, 8, 200, 5, "127.0.0.1",
                                      "smoke@example.com"),
            "inbound": start_loadgen(m.socket, in_path, 6, 150, 3, IN_IP,
                                     "smoke@" + IN_DOMAIN),
            "forged": start_loadgen(m.socket, forged_path, 4, 60, 1, BAD_IP,
                                    "smoke@" + IN_DOMAIN),
        }
        res = {}
        for name, p in runs.items():
            res[name] = r.run("loadgen %s ran" % name, finish, p)
        if res["outbound"]:
            o, text = res["outbound"]
            r.eq("outbound: no errors", o["errors"], 0)
            r.eq("outbound: all accepted", o["actions"],
                 {"accept": 200, "reject": 0, "tempfail": 0, "discard": 0, "quarantine": 0})
            r.eq("outbound: one signature each", o["dkim_signatures"], 200)
            r.eq("outbound: no Authentication-Results", o["authres"], 0)
            r.ok("outbound: latency figures present", o["latency_ms"]["max"] > 0 and
                 o["msgs_per_s"] > 0, text)
        if res["inbound"]:
            i, text = res["inbound"]
            r.eq("inbound: no errors", i["errors"], 0)
            r.eq("inbound: all accepted", i["actions"],
                 {"accept": 150, "reject": 0, "tempfail": 0, "discard": 0, "quarantine": 0})
            r.eq("inbound: one Authentication-Results each", i["authres"], 150)
            r.eq("inbound: nothing signed", i["dkim_signatures"], 0)
        if res["forged"]:
            f_, text = res["forged"]
            r.eq("forged: no errors", f_["errors"], 0)
            r.eq("forged: all rejected", f_["actions"],
                 {"accept": 0, "reject": 60, "tempfail": 0, "discard": 0, "quarantine": 0})
        r.ok("daemon still running after the load", m.running(), m.log_tail())
        # one inbound message by hand: the A-R says pass for each method
        one = harness.run_miltc(m.socket, signed["output"] or b"", client_addr=IN_IP,
                                helo="mail." + IN_DOMAIN, mail_from="smoke@" + IN_DOMAIN)
        ar = " ".join(v for n, v in one["added"] if n.lower() == "authentication-results")
        for method in ("iprev=pass", "spf=pass", "dkim=pass", "dmarc=pass"):
            r.ok("inbound A-R has " + method, method in ar, ar)
    dns.cleanup()
    r.exit()


if __name__ == "__main__":
    main()
