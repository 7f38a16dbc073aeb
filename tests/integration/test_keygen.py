#!/usr/bin/python3
"""test_keygen - authmilter-keygen: key files, the printed zone record, and
--check, against a real unbound on loopback; keys made by it sign messages that
dkimpy verifies through a real DNS query to that server.
Prints "ok - NAME" / "not ok - NAME" per case; exits 1 when any failed."""

import base64
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KEYGEN, Results  # noqa: E402
from dnsserver import DNSServer, dkim_dnsfunc, txt  # noqa: E402
import tooltest  # noqa: E402

import dkim  # noqa: E402

DOMAIN = "keygen.example"

R = Results()
report = R.ok


def keygen(*args):
    return tooltest.run_tool([KEYGEN] + list(args))


def dkimpy_key(path, alg):
    """The key as dkimpy's sign() takes it: PEM for RSA, the base64 seed for
    Ed25519 (the last 32 bytes of the PKCS#8 DER)."""
    with open(path, "rb") as f:
        pem = f.read()
    if alg == "rsa":
        return pem
    der = subprocess.run(["openssl", "pkey", "-in", path, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return base64.b64encode(der[-32:])


MESSAGE = (b"From: Alice <alice@keygen.example>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: key test\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"Message-ID: <1@keygen.example>\r\n"
           b"\r\n"
           b"Hello  there.\r\n")


def main():
    return tooltest.main(run, R, "authmilter-keygen-")


def run(tmp):
    rc, out, err = keygen("-h")
    report("-h prints usage, exit 0", rc == 0 and "--check" in out, err)
    for args, why in ((["-x"], "unknown option"),
                      (["-a", "rsa", "-d", DOMAIN], "no selector"),
                      (["-a", "dsa", "-d", DOMAIN, "-s", "s"], "unknown algorithm"),
                      (["-a", "rsa", "-b", "512", "-d", DOMAIN, "-s", "s", "-o", tmp],
                       "RSA below 1024 bits"),
                      (["-a", "rsa", "-b", "2k", "-d", DOMAIN, "-s", "s", "-o", tmp],
                       "bits not a number"),
                      (["-a", "ed25519", "-b", "2048", "-d", DOMAIN, "-s", "s"],
                       "-b with ed25519"),
                      (["-a", "rsa", "-d", "../etc", "-s", "s", "-o", tmp],
                       "domain with a path"),
                      (["-a", "rsa", "-d", DOMAIN, "-s", 'a"b', "-o", tmp],
                       "selector with a quote"),
                      (["--check", "-d", DOMAIN, "-s", "s"], "--check without -k")):
        rc, out, err = keygen(*args)
        report("usage error exits 2: %s" % why, rc == 2 and err, "rc %d: %s" % (rc, err))
    report("refused options wrote no key", os.listdir(tmp) == [], os.listdir(tmp))

    records = []
    keys = {}
    for alg, sel, extra in (("rsa", "r2048", []), ("rsa", "r1024", ["-b", "1024"]),
                            ("ed25519", "ed", [])):
        rc, out, err = keygen("-a", alg, "-d", DOMAIN, "-s", sel, "-o", tmp, *extra)
        path = os.path.join(tmp, "%s.%s.key" % (sel, DOMAIN))
        report("%s %s: exit 0" % (alg, sel), rc == 0, err)
        st = os.stat(path) if os.path.exists(path) else None
        report("%s %s: key file mode 0600" % (alg, sel),
               st is not None and stat.S_IMODE(st.st_mode) == 0o600,
               oct(st.st_mode) if st else "missing")
        with open(path, "rb") as f:
            pem = f.read()
        report("%s %s: PEM PKCS#8" % (alg, sel),
               pem.startswith(b"-----BEGIN PRIVATE KEY-----\n"), pem[:40])
        name, parts = tooltest.parse_record(out)
        report("%s %s: zone record line" % (alg, sel),
               name == "%s._domainkey.%s." % (sel, DOMAIN) and parts, repr(out))
        if not parts:
            continue
        report("%s %s: strings of at most 255 bytes" % (alg, sel),
               all(len(p) <= 255 for p in parts) and
               (alg != "rsa" or sel != "r2048" or len(parts) >= 2),
               [len(p) for p in parts])
        joined = "".join(parts)
        report("%s %s: record is v=DKIM1; k=%s; p=" % (alg, sel, alg),
               joined.startswith("v=DKIM1; k=%s; p=" % alg), joined[:40])
        if alg == "rsa":
            spki = subprocess.run(["openssl", "pkey", "-in", path, "-pubout",
                                   "-outform", "DER"], capture_output=True).stdout
            report("%s %s: p= is the DER SubjectPublicKeyInfo" % (alg, sel),
                   joined.endswith("p=" + base64.b64encode(spki).decode()))
            bits = subprocess.run(["openssl", "pkey", "-in", path, "-text", "-noout"],
                                  capture_output=True, text=True).stdout
            want = "2048" if sel == "r2048" else "1024"
            report("%s %s: %s-bit key" % (alg, sel, want),
                   "(%s bit" % want in bits, bits[:60])
        else:
            report("ed25519: p= is 32 raw bytes",
                   len(base64.b64decode(joined.split("p=")[1])) == 32)
        records.append(txt(name, parts))
        keys[sel] = (alg, path)

        # O_EXCL: a second run refuses and leaves the key alone
        rc, out, err = keygen("-a", alg, "-d", DOMAIN, "-s", sel, "-o", tmp, *extra)
        with open(path, "rb") as f:
            same = f.read() == pem
        report("%s %s: second run refuses to overwrite" % (alg, sel),
               rc == 1 and "exists" in err and same and out == "", err)

    # Another key, never published, for the mismatch case
    rc, _, err = keygen("-a", "rsa", "-d", DOMAIN, "-s", "unpublished", "-o", tmp)
    other = os.path.join(tmp, "unpublished.%s.key" % DOMAIN)
    # A selector whose record carries the r2048 key under the ed selector name:
    # an Ed25519 key checked against an RSA record mismatches.
    with DNSServer(records) as dns:
        dnsfunc = dkim_dnsfunc(dns.port)

        for sel, (alg, path) in sorted(keys.items()):
            sigalg = b"ed25519-sha256" if alg == "ed25519" else b"rsa-sha256"
            try:
                sig = dkim.sign(MESSAGE, sel.encode(), DOMAIN.encode(),
                                dkimpy_key(path, alg), signature_algorithm=sigalg,
                                canonicalize=(b"relaxed", b"relaxed"))
                signed = sig + MESSAGE
                good = dkim.verify(signed, dnsfunc=dnsfunc)
                bad = dkim.verify(signed.replace(b"Hello", b"Jello"), dnsfunc=dnsfunc)
                detail = ""
            except Exception as e:  # report, do not stop the run
                good, bad, detail = False, True, repr(e)
            report("%s %s: dkimpy signs with the key and verifies via DNS" % (alg, sel),
                   good, detail)
            report("%s %s: and rejects a changed body" % (alg, sel), not bad, detail)

            rc, out, err = keygen("--check", "-d", DOMAIN, "-s", sel, "-k", path,
                                  "-n", dns.address)
            report("%s %s: --check says match, exit 0" % (alg, sel),
                   rc == 0 and out.startswith("match:"), out + err)

        conf = os.path.join(tmp, "milter.conf")
        with open(conf, "w") as f:
            f.write('dns {\n  nameservers = { "%s" }\n  timeout = 5\n}\n' % dns.address)
        rc, out, err = keygen("--check", "-d", DOMAIN, "-s", "ed", "-k", keys["ed"][1],
                              "-c", conf)
        report("--check -c milter.conf takes its nameservers: match",
               rc == 0 and out.startswith("match:"), out + err)
        rc, out, err = keygen("--check", "-d", DOMAIN, "-s", "r2048", "-k", other,
                              "-n", dns.address)
        report("--check with another RSA key: mismatch, exit 1",
               rc == 1 and out.startswith("mismatch:") and "# expected p=" in out,
               out + err)
        rc, out, err = keygen("--check", "-d", DOMAIN, "-s", "r2048",
                              "-k", keys["ed"][1], "-n", dns.address)
        report("--check Ed25519 key against an RSA record: mismatch, exit 1",
               rc == 1 and out.startswith("mismatch:"), out + err)
        rc, out, err = keygen("--check", "-d", DOMAIN, "-s", "nosuch", "-k", other,
                              "-n", dns.address)
        report("--check unpublished selector: missing, exit 1",
               rc == 1 and out.startswith("missing:"), out + err)
        rc, out, err = keygen("--check", "-d", DOMAIN, "-s", "r2048",
                              "-k", os.path.join(tmp, "absent.key"), "-n", dns.address)
        report("--check with an absent key file: exit 1 with the reason",
               rc == 1 and "No such file" in err, out + err)


if __name__ == "__main__":
    sys.exit(main())
