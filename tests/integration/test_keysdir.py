#!/usr/bin/python3
"""test_keysdir - dkim.keys_directory: signing keys from SELECTOR.DOMAIN.key files
(issue 17).

The real daemon signs outbound mail (miltc) with keys from a directory written by
authmilter-keygen (Ed25519 and RSA) beside 300 more Ed25519 key files and a key
section; dkimpy verifies the signatures against a loopback unbound. A reload
(SIGUSR1) picks up an added file and drops a removed one. Every kind of bad input
(a mis-named file, a group-readable key, the same selector and domain twice, a
file clashing with a key section, an unreadable file, a dangling link, a FIFO, a
file that holds no key, a missing directory) gives "FILE: what is wrong" and exit
status 1 from -n and at start, and at reload leaves the running set untouched,
good files added in the same reload included.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Milter, MilterError, Results, run_miltc  # noqa: E402
from dnsserver import DNSServer, dkim_verify_all, txt  # noqa: E402


KEYGEN = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")
FILLER = 300
ED_PKCS8 = bytes.fromhex("302e020100300506032b657004220420")


def keygen(keydir, alg, domain, selector):
    """authmilter-keygen's file and its TXT record."""
    p = subprocess.run([KEYGEN, "-a", alg, "-d", domain, "-s", selector, "-o", keydir],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = p.stdout.decode()
    return (os.path.join(keydir, "%s.%s.key" % (selector, domain)),
            txt(out.split()[0], "".join(re.findall(r'"([^"]*)"', out))))


def filler(keydir, n):
    """n Ed25519 keys, PKCS#8 PEM written directly (d000.example ... )."""
    for i in range(n):
        pem = base64.b64encode(ED_PKCS8 + os.urandom(32)).decode()
        path = os.path.join(keydir, "f%d.d%03d.example.key" % (i % 2, i))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, ("-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n"
                      % pem).encode())
        os.close(fd)


def message(frm, subject="test"):
    return ("From: %s\nTo: rcpt@example.net\nSubject: %s\n"
            "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@test.example>\n\n"
            "Hello.\n" % (frm, subject, re.sub(r"\W", "", subject + frm))).encode()


def send(m, frm):
    """The signed output and the (d, s, a) of every signature on it."""
    r = run_miltc(m.socket, message(frm), client_addr="127.0.0.1", mail_from=frm,
                  rcpts=["rcpt@example.net"], output=True)
    out = r["output"] or b""
    sigs = []
    for name, value in r["added"]:
        if name == "DKIM-Signature":
            tags = dict((k.strip(), re.sub(r"\s+", "", v)) for k, _, v in
                        (x.partition("=") for x in value.split(";")))
            sigs.append((tags.get("d"), tags.get("s"), tags.get("a")))
    return out, sigs


def verified(out, port):
    """dkimpy's verdict on every signature of out."""
    return dkim_verify_all(out, port)


def wait_new_log(m, n, pattern, timeout=5):
    """The log lines after the first n once one matches pattern; None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = m.log_lines()[n:]
        if any(re.search(pattern, x) for x in lines):
            return "\n".join(lines)
        time.sleep(0.05)
    return None


def check(m, base):
    """(exit status, output) of authmilter -n on m's config."""
    p = subprocess.run([harness.AUTHMILTER, "-n", "-c", m.config_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode()


def signing_case(t, m, dns, keydir, staged):
    out, sigs = send(m, "alice@example.com")
    t.eq("example.com: signed with e2026 from the directory", sigs,
         [("example.com", "e2026", "ed25519-sha256")])
    t.eq("example.com: dkimpy verifies", verified(out, dns.port), [True])
    out, sigs = send(m, "bob@example.net")
    t.eq("example.net: signed with the directory's RSA key", sigs,
         [("example.net", "r2026", "rsa-sha256")])
    t.eq("example.net: dkimpy verifies", verified(out, dns.port), [True])
    out, sigs = send(m, "carol@example.org")
    t.eq("example.org: the key section still signs", sigs,
         [("example.org", "sec", "ed25519-sha256")])
    t.eq("example.org: dkimpy verifies", verified(out, dns.port), [True])
    out, sigs = send(m, "dave@d123.example")
    t.eq("one of 300 filler domains: signed with its own key", sigs,
         [("d123.example", "f1", "ed25519-sha256")])
    out, sigs = send(m, "erin@nokey.example")
    t.eq("a domain without a key: unsigned", sigs, [])
    t.ok("log: no-key-for-domain", m.wait_log(r"dkim-sign=none reason=no-key-for-domain",
                                              3), m.log_tail(3))

    # reload: one file added, one removed
    shutil.move(staged, os.path.join(keydir, os.path.basename(staged)))
    os.unlink(os.path.join(keydir, "r2026.example.net.key"))
    n = len(m.log_lines())
    m.reload()
    t.ok("reload with a file added and one removed",
         wait_new_log(m, n, r"reloaded "), m.log_tail(3))
    out, sigs = send(m, "frank@example.info")
    t.eq("added file: example.info signed after the reload", sigs,
         [("example.info", "new", "ed25519-sha256")])
    t.eq("added file: dkimpy verifies", verified(out, dns.port), [True])
    out, sigs = send(m, "bob@example.net")
    t.eq("removed file: example.net no longer signed", sigs, [])


# Bad inputs: (name, how to make it in keydir, the message that must name it)
def bad_cases(keydir, sectionfile):
    def write(name, text=b"", mode=0o600):
        path = os.path.join(keydir, name)
        with open(path, "wb") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def copy_of(src, name, mode=0o600):
        with open(src, "rb") as f:
            return write(name, f.read(), mode)

    good = os.path.join(keydir, "e2026.example.com.key")
    return [
        ("mis-named (no selector.domain.key)",
         lambda: write("README", b"keys live here\n"),
         r"/README: not a key file name: want SELECTOR\.DOMAIN\.key"),
        ("mis-named (selector only)", lambda: copy_of(good, "lonely.key"),
         r"/lonely\.key: not a key file name"),
        ("mis-named (bad domain)", lambda: copy_of(good, "s.exa_mple..com.key"),
         r"/s\.exa_mple\.\.com\.key: not a key file name"),
        ("group-readable", lambda: copy_of(good, "g.example.com.key", 0o640),
         r"/g\.example\.com\.key: mode 0640: readable by group or others; chmod 600"),
        ("duplicate selector and domain (case differs)",
         lambda: copy_of(good, "e2026.Example.COM.key"),
         r"/e2026\.example\.com\.key: selector e2026 of example\.com is also "
         r".*/e2026\.Example\.COM\.key|/e2026\.Example\.COM\.key: selector e2026 of "
         r"example\.com is also .*/e2026\.example\.com\.key"),
        ("clashes with a key section",
         lambda: copy_of(sectionfile, "sec.example.org.key"),
         r"/sec\.example\.org\.key: selector sec of example\.org is also key \"sec\" "
         r"\(.*milter\.conf:\d+\)"),
        ("dangling link",
         lambda: os.symlink("/nonexistent/key", os.path.join(keydir, "l.example.com.key")),
         r"/l\.example\.com\.key: No such file or directory"),
        ("FIFO (must not hang)",
         lambda: os.mkfifo(os.path.join(keydir, "p.example.com.key"), 0o600),
         r"/p\.example\.com\.key: not a regular file"),
        ("a directory", lambda: os.mkdir(os.path.join(keydir, "x.example.com.key"), 0o700),
         r"/x\.example\.com\.key: not a regular file"),
        ("no key inside", lambda: write("n.example.com.key", b"not a key\n"),
         r"/n\.example\.com\.key: no usable PEM private key"),
    ]


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        os.rmdir(path)
    else:
        os.unlink(path)


def bad_input_case(t, m, keydir, sectionfile, staged2):
    before = set(os.listdir(keydir))
    for name, make, want in bad_cases(keydir, sectionfile):
        make()
        made = [os.path.join(keydir, x) for x in set(os.listdir(keydir)) - before]
        rc, out = check(m, None)
        t.ok("-n, %s: exit 1 and FILE: what is wrong" % name,
             rc == 1 and re.search(want, out), "rc %d: %s" % (rc, out[-400:]))
        # at reload, with a good file added beside it: nothing of it is taken
        shutil.copy(staged2, os.path.join(keydir, os.path.basename(staged2)))
        n = len(m.log_lines())
        m.reload()
        lines = wait_new_log(m, n, r"reload refused: .*has errors") or ""
        t.ok("reload, %s: refused with the file named" % name,
             re.search(want, lines), lines[-400:])
        _, sigs = send(m, "alice@example.com")
        _, sigs2 = send(m, "gina@example.biz")
        t.ok("reload, %s: the old set still signs, the good new file is not taken"
             % name, sigs == [("example.com", "e2026", "ed25519-sha256")] and
             sigs2 == [], (sigs, sigs2))
        os.unlink(os.path.join(keydir, os.path.basename(staged2)))
        for p in made:
            remove(p)
    # and at start: the daemon refuses to run
    bad_cases(keydir, sectionfile)[3][1]()
    m2 = Milter(m.config_text, start=False)
    try:
        m2.start()
        t.fail("start with a group-readable key: started anyway")
    except MilterError:
        t.ok("start with a group-readable key: exit 1, the file named",
             m2.returncode == 1 and m2.wait_log(r"g\.example\.com\.key: mode 0640", 1),
             m2.log_tail(3))
    finally:
        m2.stop()
        os.unlink(os.path.join(keydir, "g.example.com.key"))


def unreadable_case(t, base):
    """EACCES: the check runs as nobody over a root-owned 0600 key."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        t.ok("unreadable key: needs root and setpriv (skipped)", True)
        return
    top = harness.tmpdir()
    os.chmod(top, 0o755)
    keydir = os.path.join(top, "keys")
    os.mkdir(keydir, 0o755)
    os.chmod(keydir, 0o755)
    keygen(keydir, "ed25519", "example.com", "u1")
    conf = os.path.join(top, "milter.conf")
    with open(conf, "w") as f:
        f.write(harness.conf_text(dict(base, user="", dkim={"keys_directory": keydir}))
                + "\n")
    os.chmod(conf, 0o644)
    p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        harness.AUTHMILTER, "-n", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode()
    t.ok("unreadable key (as nobody): exit 1, \"FILE: Permission denied\"",
         p.returncode == 1 and "%s/u1.example.com.key: Permission denied" % keydir in out,
         out[-300:])


def main():
    t = Results()
    top = harness.tmpdir()
    keydir = os.path.join(top, "keys")
    os.mkdir(keydir, 0o700)
    stage = os.path.join(top, "stage")
    os.mkdir(stage, 0o700)
    secdir = os.path.join(top, "sec")
    os.mkdir(secdir, 0o700)
    records = []
    for d, alg, dom, sel in ((keydir, "ed25519", "example.com", "e2026"),
                             (keydir, "rsa", "example.net", "r2026"),
                             (secdir, "ed25519", "example.org", "sec"),
                             (stage, "ed25519", "example.info", "new"),
                             (stage, "ed25519", "example.biz", "biz")):
        path, rec = keygen(d, alg, dom, sel)
        records.append(rec)
    filler(keydir, FILLER)
    sectionfile = os.path.join(secdir, "sec.example.org.key")
    with DNSServer(records) as dns:
        base = {"authserv_id": "mx.test.example", "dns": {"nameservers": [dns.address]},
                "dkim": {"keys_directory": keydir,
                         "key \"sec\"": {"domain": "example.org", "selector": "sec",
                                         "file": sectionfile}}}
        with Milter(base) as m:
            rc, out = check(m, base)
            t.ok("-n accepts the directory (%d files)" % len(os.listdir(keydir)),
                 rc == 0, out)
            t.run("signing", signing_case, t, m, dns, keydir,
                  os.path.join(stage, "new.example.info.key"))
            t.run("bad input", bad_input_case, t, m, keydir, sectionfile,
                  os.path.join(stage, "biz.example.biz.key"))
        t.run("unreadable", unreadable_case, t, dict(base, dkim={}))
        m = Milter(dict(base, dkim={"keys_directory": os.path.join(top, "missing")}),
                   start=False)
        rc, out = check(m, base)
        t.ok("missing directory: FILE:LINE: dkim.keys_directory: cannot open",
             rc == 1 and re.search(r"milter\.conf:\d+: dkim\.keys_directory: cannot open "
                                   r"\".*/missing\": No such file or directory", out), out)
    t.exit()


if __name__ == "__main__":
    main()
