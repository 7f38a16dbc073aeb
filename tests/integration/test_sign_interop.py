#!/usr/bin/python3
"""test_sign_interop.py - outbound signatures from the real daemon, checked by three
independent verifiers (issue 3).

Every message of tests/data/sign/ (edge cases: folding, tabs, trailing whitespace,
odd-case names, repeated fields, empty and blank bodies, no final line break, UTF-8
headers, 8-bit body, 2,000-character lines, comments in From, two leading spaces)
goes through authmilter over its socket with miltc, once with Postfix-style folds
(bare LF inside header values) and once with Sendmail-style folds (CRLF), under each
of the four canonicalizations. Each message gets two signatures for example.com
(RSA-2048 s=2026r first, Ed25519 s=2026e second), whose keys are published in a
loopback unbound. Each signature is verified on its own by dkimpy, by Mail::DKIM
(RSA only: Debian's has no Ed25519) and by OpenDKIM run as a verifying milter (its
libunbound forwarded to the loopback server), which must all say pass.
A 20 MB message with a base64 attachment, generated here, is signed under
simple/simple and relaxed/relaxed and checked by dkimpy and OpenDKIM.

Then, against the relaxed/relaxed daemon: a Subject added after signing breaks the
signature (Subject is oversigned) while an unsigned field added does not; the
outbound log line; unsigned mail and its reason (no From, two From fields, two
addresses, a domain with no key); subdomains = true signs with d= the parent; a
SASL-authenticated client from a foreign address is signed.

Prints "# interop: N signatures, dkimpy X/X, Mail::DKIM Y/Y, OpenDKIM Z/Z".
"""
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import dnsserver  # noqa: E402

import dkim  # noqa: E402  (Debian's python3-dkim, under /usr/bin/python3)

CORPUS = os.path.join(harness.SRCDIR, "tests", "data", "sign")
KEYGEN = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")
OPENDKIM = shutil.which("opendkim") or "/usr/sbin/opendkim"
CANONS = ("simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed")
BIG_CANONS = ("simple/simple", "relaxed/relaxed")
# The signatures each corpus message must carry, top to bottom (the key order).
WANT = [("example.com", "2026r", "rsa-sha256"), ("example.com", "2026e", "ed25519-sha256")]
BIG_MB = 20
VERIFY_ID = "verify.test"
# Verifiers that do not follow RFC 6376 on a corpus message: file -> {verifier: the
# body canonicalization it gets wrong}. Such a failure is accepted only when the same
# verifier fails the same way on a signature dkimpy made for the same message (and
# dkimpy verifies that one): the fault is the verifier's, not the signer's.
#   10-no-final-newline.eml: the body's last line has no CRLF. RFC 6376 3.4.3 and
#   3.4.4 add one before hashing (authmilter and dkimpy do). Mail::DKIM 1.20230212's
#   simple body canonicalization hashes the unterminated line as it is ("body has
#   been altered"); OpenDKIM 2.11 with a relaxed body reports no signature at all
#   ("message not signed"). Over SMTP the case cannot occur: DATA always ends the
#   last line, and Postfix and Sendmail terminate it for local submission too.
DEVIATIONS = {"10-no-final-newline.eml": {"Mail::DKIM": "simple", "OpenDKIM": "relaxed"}}

# Mail::DKIM over a list of files: one line per signature,
# FILE TAB SELECTOR TAB ALGORITHM TAB RESULT TAB DETAIL.
PERL_VERIFY = r'''
use strict; use warnings;
use Mail::DKIM::Verifier; use Mail::DKIM::DNS; use Net::DNS::Resolver;
my $port = shift @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $port, recurse => 1, udp_timeout => 3, tcp_timeout => 3, retry => 2));
for my $f (@ARGV) {
    open(my $fh, '<:raw', $f) or die "$f: $!";
    my $v = Mail::DKIM::Verifier->new();
    my $chunk;
    while (read($fh, $chunk, 65536)) { $v->PRINT($chunk); }
    close($fh);
    $v->CLOSE();
    my $n = 0;
    for my $s ($v->signatures) {
        $n++;
        my $d = $s->result_detail // '';
        $d =~ s/[\t\r\n]/ /g;
        print join("\t", $f, $s->selector // '', $s->algorithm // '', $s->result // '', $d), "\n";
    }
    print join("\t", $f, '-', '-', 'nosig', ''), "\n" if $n == 0;
}
'''


# ---------------------------------------------------------------- DNS for dkimpy

# ---------------------------------------------------------------- helpers

def keygen(keydir, alg, domain, selector):
    """keygen - authmilter-keygen's key file and (record name, TXT value)."""
    p = subprocess.run([KEYGEN, "-a", alg, "-d", domain, "-s", selector, "-o", keydir],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = p.stdout.decode()
    name = out.split()[0]
    value = "".join(re.findall(r'"([^"]*)"', out))
    return os.path.join(keydir, "%s.%s.key" % (selector, domain)), name, value


def crlf(data):
    """crlf - the message with every line ending as CRLF (as it travels by SMTP)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def header_block(msg):
    """header_block - the header fields of msg as [(name, raw field incl. CRLFs)]."""
    end = msg.find(b"\r\n\r\n")
    head = msg if end < 0 else msg[:end + 2]
    fields = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += line + b"\r\n"
        else:
            fields.append([line.split(b":", 1)[0], line + b"\r\n"])
    return fields


def signatures(msg):
    """signatures - [(d, s, a, c, b)] of the DKIM-Signature fields, top to bottom."""
    out = []
    for name, raw in header_block(msg):
        if name.lower() != b"dkim-signature":
            continue
        val = raw.split(b":", 1)[1].decode("ascii", "replace")
        tags = {}
        for t in val.split(";"):
            k, _, v = t.partition("=")
            tags[k.strip()] = re.sub(r"\s+", "", v)
        out.append((tags.get("d", ""), tags.get("s", ""), tags.get("a", ""),
                    tags.get("c", ""), tags.get("b", "")))
    return out


def dkimpy_verify(msg, port):
    """dkimpy_verify - [True/False] per signature, each verified on its own."""
    d = dkim.DKIM(msg)
    fn = dnsserver.dkim_dnsfunc(port)
    res = []
    for i in range(len(signatures(msg))):
        try:
            res.append(bool(d.verify(idx=i, dnsfunc=fn)))
        except Exception:       # dkimpy raises on malformed input
            res.append(False)
    return res


class OpenDKIM:
    """OpenDKIM as a verifying milter on its own socket; its libunbound is given an
    unbound config that forwards everything to the loopback test server."""

    def __init__(self, dns_port):
        self.m = harness.Milter(start=False, command=[OPENDKIM, "-f", "-x",
                                                      "{dir}/opendkim.conf"])
        d = self.m.dir
        os.chmod(d, 0o700)
        with open(os.path.join(d, "unbound.conf"), "w") as f:
            f.write('server:\n  do-not-query-localhost: no\n'
                    'forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@%d\n' % dns_port)
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
        with open(os.path.join(d, "opendkim.conf"), "w") as f:
            f.write("Socket local:%s/sock\nMode v\nBackground no\nSyslog no\n"
                    "UserID %s\nPidFile %s/pid\nResolverConfiguration %s/unbound.conf\n"
                    "AuthservID %s\nAlwaysAddARHeader yes\nMaximumHeaders 0\n"
                    % (d, user, d, d, VERIFY_ID))
        self.m.start()

    def verify(self, msg, fold_crlf=False):
        """verify - {(selector, header.b prefix): result} from OpenDKIM's A-R."""
        r = harness.run_miltc(self.m.socket, msg, client_addr="192.0.2.7",
                              client_name="mx.sender.example", helo="mx.sender.example",
                              mail_from="alice@example.com", rcpts=["rcpt@example.net"],
                              fold_crlf=fold_crlf, run_timeout=120)
        out = {}
        for name, value in r["added"]:
            if name.lower() != "authentication-results":
                continue
            value = re.sub(r"\([^()]*\)", " ", value)       # comments hold ";"
            for part in value.split(";")[1:]:
                m = re.search(r"\bdkim=(\w+)", part)
                if not m:
                    continue
                s = re.search(r"header\.s=(\S+)", part)
                b = re.search(r"header\.b=(\S+)", part)
                out[(s.group(1) if s else "", b.group(1) if b else "")] = m.group(1)
        return out

    @staticmethod
    def result_for(results, sel, b):
        for (s, prefix), res in results.items():
            if s == sel and prefix and b.startswith(prefix):
                return res
        return None

    def stop(self):
        self.m.stop()


def mail_dkim(files, port):
    """mail_dkim - {(file, selector): (result, detail)} from Mail::DKIM for all files."""
    out = {}
    if not files:
        return out
    p = subprocess.run(["perl", "-e", PERL_VERIFY, str(port)] + list(files),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f, sel, _alg, res, detail = (line.split("\t") + [""] * 5)[:5]
        out[(f, sel)] = (res, detail)
    if p.returncode != 0:
        out[("perl", "")] = ("error", p.stderr.decode("utf-8", "replace")[-500:])
    return out


def reference_sign(path, w, canon):
    """reference_sign - the corpus message signed by dkimpy (RSA key, same canon)."""
    with open(path, "rb") as fh:
        msg = crlf(fh.read())
    with open(w.rsa[0], "rb") as fh:
        key = fh.read()
    hc, bc = canon.encode().split(b"/")
    return dkim.sign(msg, b"2026r", b"example.com", key, canonicalize=(hc, bc),
                     include_headers=[b"from", b"to", b"subject", b"date"]) + msg


def big_message(path):
    """big_message - write a ~20 MB message: text part plus a base64 attachment."""
    rnd = random.Random(3)
    raw = bytes(rnd.getrandbits(8) for _ in range(4096)) * (BIG_MB * 1024 * 1024 * 3 // 4
                                                            // 4096)
    b64 = base64.encodebytes(raw)
    with open(path, "wb") as f:
        f.write(b"From: Alice <alice@example.com>\nTo: Bob <bob@example.net>\n"
                b"Subject: a 20 MB attachment\nDate: Sat, 21 Nov 2026 12:00:00 +0000\n"
                b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"big\"\n\n"
                b"--big\nContent-Type: text/plain\n\nSee the attachment.\n\n--big\n"
                b"Content-Type: application/octet-stream; name=\"big.bin\"\n"
                b"Content-Transfer-Encoding: base64\n\n")
        f.write(b64)
        f.write(b"\n--big--\n")
    return path


# ---------------------------------------------------------------- the world

class World:
    """World - keys, the loopback DNS server, the daemon's configuration."""

    def __init__(self):
        kd = harness.tmpdir()
        os.chmod(kd, 0o700)
        self.rsa = keygen(kd, "rsa", "example.com", "2026r")
        self.ed = keygen(kd, "ed25519", "example.com", "2026e")
        self.parent = keygen(kd, "rsa", "parent.example", "2026p")
        recs = [dnsserver.txt(k[1], k[2]) for k in (self.rsa, self.ed, self.parent)]
        self.dns = dnsserver.DNSServer(recs)

    def conf(self, canon):
        return {"authserv_id": "mx.test.example", "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [self.dns.address], "timeout": 3},
                "dkim": {"canonicalization": canon,
                         'key "example.com-rsa"': {"domain": "example.com",
                                                   "selector": "2026r",
                                                   "file": self.rsa[0]},
                         'key "example.com-ed25519"': {"domain": "example.com",
                                                       "selector": "2026e",
                                                       "file": self.ed[0]},
                         'key "parent"': {"domain": "parent.example",
                                          "selector": "2026p", "file": self.parent[0],
                                          "subdomains": True}}}


class Tally:
    """Tally - signatures made; [passed, counted] per verifier; known deviations."""

    def __init__(self):
        self.sigs = 0
        self.dkimpy = [0, 0]
        self.perl = [0, 0]
        self.odkim = [0, 0]
        self.deviations = []    # verifier failures dkimpy-made signatures share

    @staticmethod
    def count(pair, ok):
        pair[1] += 1
        if ok:
            pair[0] += 1


# ---------------------------------------------------------------- the matrix

def sign_one(t, m, msg, canon, label, fold_crlf, qid):
    """sign_one - msg through the daemon; returns the signed message (CRLF) or None
    after a failed check on the signatures' presence, order and c=."""
    r = harness.run_miltc(m.socket, msg, output=True, client_addr="127.0.0.1",
                          client_name="localhost", mail_from="alice@example.com",
                          rcpts=["bob@example.net"], queue_id=qid, fold_crlf=fold_crlf,
                          check=False, run_timeout=300)
    if r["rc"] != 0 or r["action"] != "accept" or not r["output"]:
        t.fail("%s: signed" % label, "rc=%s action=%s %s\n%s" % (
            r["rc"], r["action"], r["stderr"].strip(), m.log_tail(3)))
        return None
    out = crlf(r["output"])
    sigs = signatures(out)
    got = [(d, s, a) for d, s, a, _c, _b in sigs]
    if got != WANT or any(c != canon for _d, _s, _a, c, _b in sigs):
        t.fail("%s: two signatures, RSA then Ed25519, c=%s" % (label, canon),
               "got %r" % [(x[:4]) for x in sigs])
        return None
    return out


def negative_control(t, w, od, canon, signed, outdir):
    """negative_control - one body byte changed after signing: every verifier must say
    fail for every signature (the plumbing can report a failure)."""
    bad = signed.replace(b"A plain body.", b"A plain b0dy.")
    path = os.path.join(outdir, "%s.tampered.eml" % canon.replace("/", "-"))
    with open(path, "wb") as fh:
        fh.write(bad)
    sigs = signatures(bad)
    odr = od.verify(bad)
    perl = mail_dkim([path], w.dns.port)
    got = (dkimpy_verify(bad, w.dns.port),
           [OpenDKIM.result_for(odr, s[1], s[4]) for s in sigs],
           perl.get((path, "2026r"), ("missing", ""))[0])
    t.eq("%s: a body changed after signing fails in dkimpy, OpenDKIM and Mail::DKIM"
         % canon, got, ([False, False], ["fail", "fail"], "fail"))


def run_matrix(t, w, od, tally, big_path):
    files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
    t.ok("corpus: tests/data/sign holds at least 20 messages (%d)" % len(files),
         len(files) >= 20)
    outdir = harness.tmpdir()
    for canon in CANONS:
        t0 = time.monotonic()
        try:
            m = harness.Milter(w.conf(canon))
        except harness.MilterError as e:
            t.fail("%s: daemon starts" % canon, e)
            continue
        cases = []      # (file, label, path, signed msg, dkimpy list, OpenDKIM dict)
        n = 0
        for f in files:
            with open(os.path.join(CORPUS, f), "rb") as fh:
                msg = fh.read()
            for fold_crlf in (False, True):
                n += 1
                label = "%s %s (%s folds)" % (canon, f, "CRLF" if fold_crlf else "LF")
                out = sign_one(t, m, msg, canon, label, fold_crlf, "Q%04d" % n)
                if out is None:
                    continue
                path = os.path.join(outdir, "%s.%s.%s" % (canon.replace("/", "-"),
                                                          "crlf" if fold_crlf else "lf", f))
                with open(path, "wb") as fh:
                    fh.write(out)
                cases.append((f, label, path, out, dkimpy_verify(out, w.dns.port),
                              od.verify(out, fold_crlf)))
        refs = {}       # file -> (path, message) of the same message signed by dkimpy
        for f in sorted(DEVIATIONS):
            ref = reference_sign(os.path.join(CORPUS, f), w, canon)
            path = os.path.join(outdir, "%s.dkimpy.%s" % (canon.replace("/", "-"), f))
            with open(path, "wb") as fh:
                fh.write(ref)
            refs[f] = (path, ref)
        perl = mail_dkim([c[2] for c in cases] + [r[0] for r in refs.values()],
                         w.dns.port)
        if ("perl", "") in perl:
            t.fail("%s: Mail::DKIM ran" % canon, perl[("perl", "")][1])
        ref_res = {}    # (file, verifier) -> result on the dkimpy-made RSA signature
        for f, (path, ref) in refs.items():
            sig = signatures(ref)[0]
            ref_res[(f, "dkimpy")] = "pass" if dkimpy_verify(ref, w.dns.port) == [True] \
                else "fail"
            ref_res[(f, "Mail::DKIM")] = perl.get((path, sig[1]), ("missing", ""))[0]
            ref_res[(f, "OpenDKIM")] = OpenDKIM.result_for(od.verify(ref), sig[1], sig[4])
        body_canon = canon.split("/")[1]
        for f, label, path, out, py, odr in cases:
            bad = []
            for i, (d, s, a, c, b) in enumerate(signatures(out)):
                tally.sigs += 1
                ok_py = i < len(py) and py[i]
                Tally.count(tally.dkimpy, ok_py)
                if not ok_py:
                    bad.append("dkimpy %s: fail" % s)
                results = [("OpenDKIM", tally.odkim, OpenDKIM.result_for(odr, s, b),
                            repr(odr))]
                if a.startswith("rsa"):
                    pres = perl.get((path, s), ("missing", ""))
                    results.append(("Mail::DKIM", tally.perl, pres[0], pres[1]))
                for who, pair, res, detail in results:
                    if res == "pass":
                        Tally.count(pair, True)
                    elif DEVIATIONS.get(f, {}).get(who) == body_canon and \
                            ref_res.get((f, who)) == res and \
                            ref_res.get((f, "dkimpy")) == "pass":
                        tally.deviations.append((who, canon, f, s))
                    else:
                        Tally.count(pair, False)
                        bad.append("%s %s: %s (%s)" % (who, s, res, detail))
            t.ok("%s: dkimpy, Mail::DKIM (RSA) and OpenDKIM pass both signatures%s"
                 % (label, " (or fail exactly as on dkimpy's own signature: "
                    "known verifier deviation)" if f in DEVIATIONS else ""),
                 not bad, "; ".join(bad))
        plain = [c for c in cases if c[0] == "01-plain.eml"]
        if plain:
            negative_control(t, w, od, canon, plain[0][3], outdir)
        if canon in BIG_CANONS and big_path:
            label = "%s %d MB attachment" % (canon, BIG_MB)
            with open(big_path, "rb") as fh:
                big = fh.read()
            out = sign_one(t, m, big, canon, label, False, "QBIG")
            if out is not None:
                py = dkimpy_verify(out, w.dns.port)
                odr = od.verify(out)
                bad = []
                for i, (d, s, a, c, b) in enumerate(signatures(out)):
                    tally.sigs += 1
                    Tally.count(tally.dkimpy, py[i])
                    res = OpenDKIM.result_for(odr, s, b)
                    Tally.count(tally.odkim, res == "pass")
                    if not py[i]:
                        bad.append("dkimpy %s: fail" % s)
                    if res != "pass":
                        bad.append("OpenDKIM %s: %s %r" % (s, res, odr))
                t.ok("%s: dkimpy and OpenDKIM pass both signatures" % label,
                     not bad, "; ".join(bad))
        if canon == "relaxed/relaxed":
            t.run("relaxed/relaxed: daemon cases", daemon_cases, t, w, m)
        m.stop()
        print("# %s: %d messages in %.1fs" % (canon, len(cases), time.monotonic() - t0),
              flush=True)


# ---------------------------------------------------------------- daemon cases

PLAIN = (b"From: Alice <alice@example.com>\nTo: Bob <bob@example.net>\n"
         b"Subject: hello\nDate: Sat, 21 Nov 2026 12:00:00 +0000\n"
         b"Message-ID: <plain@example.com>\n\nHello.\n")


def with_from(frm, rest=b"To: bob@example.net\nSubject: x\n\nBody.\n"):
    return (b"From: " + frm + b"\n" if frm is not None else b"") + rest


def add_field(msg, field):
    """add_field - msg with field appended at the end of its header block."""
    end = msg.find(b"\r\n\r\n")
    return msg[:end + 2] + field + b"\r\n" + msg[end + 2:]


def daemon_cases(t, w, m):
    port = w.dns.port

    # a field added after signing: oversigned Subject breaks it, X-Added does not
    r = harness.run_miltc(m.socket, PLAIN, output=True, client_addr="127.0.0.1",
                          queue_id="OVER1")
    signed = crlf(r["output"] or b"")
    base = dkimpy_verify(signed, port)
    t.eq("oversign: the message verifies before the change", base, [True, True])
    h = [x.lower() for x in re.findall(r"(?:^|;)\s*h=([^;]*);", signed.decode().replace("\r\n\t", ""))]
    t.ok("oversign: h= names Subject twice (one more than present)",
         h and all(x.replace(" ", "").split(":").count("subject") == 2 for x in h), h)
    t.eq("oversign: a second Subject appended after signing fails in dkimpy (both)",
         dkimpy_verify(add_field(signed, b"Subject: replaced"), port), [False, False])
    t.eq("oversign: a second From appended after signing fails in dkimpy (both)",
         dkimpy_verify(add_field(signed, b"From: mallory@example.net"), port),
         [False, False])
    t.eq("oversign: an unsigned field appended after signing still passes",
         dkimpy_verify(add_field(signed, b"X-Added: later"), port), [True, True])

    # the outbound log line, SASL client from a foreign address
    r = harness.run_miltc(m.socket, PLAIN, output=True, client_addr="192.0.2.55",
                          client_name="laptop.example.net", helo="laptop",
                          auth="alice", mail_from="alice@example.com",
                          rcpts=["bob@example.net"], queue_id="AUTH1")
    out = crlf(r["output"] or b"")
    t.eq("auth: -A alice from 192.0.2.55 is signed (RSA, Ed25519) and dkimpy verifies",
         ([s[:3] for s in signatures(out)], dkimpy_verify(out, port)),
         (WANT, [True, True]))
    line = m.wait_log(r"AUTH1: outbound ", 5)
    t.ok("log: AUTH1: outbound client=laptop.example.net[192.0.2.55] auth=alice "
         "dkim-sign=example.com/2026r/rsa-sha256,example.com/2026e/ed25519-sha256 "
         "action=accept",
         line and re.search(r"AUTH1: outbound client=\S*\[192\.0\.2\.55\] auth=alice "
                            r"dkim-sign=example\.com/2026r/rsa-sha256,"
                            r"example\.com/2026e/ed25519-sha256 action=accept$", line),
         line)
    r = harness.run_miltc(m.socket, PLAIN, output=True, client_addr="192.0.2.55",
                          client_name="laptop.example.net", helo="laptop",
                          mail_from="alice@example.com", rcpts=["bob@example.net"],
                          queue_id="NOAUTH1")
    t.eq("auth: the same client without AUTH is inbound: not signed",
         signatures(crlf(r["output"] or b"")), [])

    # not signed, with the reason in the log
    for qid, msg, reason in (
            ("UNS1", with_from(None), "no-from"),
            ("UNS2", with_from(b"alice@example.com\nFrom: alice@example.com"),
             "several-from-headers"),
            ("UNS3", with_from(b"alice@example.com, bob@example.com"),
             "several-from-addresses"),
            ("UNS4", with_from(b"Carol <carol@other.example>"), "no-key-for-domain"),
            ("UNS5", with_from(b"x@notparent.example"), "no-key-for-domain"),
            ("UNS6", with_from(b"x@example.com.evil.example"), "no-key-for-domain"),
            ("UNS7", with_from(b"x@sub.example.com"), "no-key-for-domain")):
        r = harness.run_miltc(m.socket, msg, output=True, client_addr="127.0.0.1",
                              queue_id=qid)
        line = m.wait_log(r"%s: outbound " % qid, 5)
        t.ok("unsigned: %s -> no DKIM-Signature, log dkim-sign=none reason=%s"
             % (qid, reason),
             not signatures(crlf(r["output"] or b"")) and line and
             ("dkim-sign=none reason=%s " % reason) in line,
             "%r / %s" % (r["added"], line))

    # subdomains = true: d= the parent
    for qid, frm in (("SUB1", b"x@mail.sub.parent.example"), ("SUB2", b"x@parent.example")):
        r = harness.run_miltc(m.socket, with_from(frm), output=True,
                              client_addr="127.0.0.1", queue_id=qid)
        out = crlf(r["output"] or b"")
        t.eq("subdomains: From %s signed with d=parent.example s=2026p, dkimpy verifies"
             % frm.decode(),
             ([s[:3] for s in signatures(out)], dkimpy_verify(out, port)),
             ([("parent.example", "2026p", "rsa-sha256")], [True]))
    t.ok("log: SUB1 signed dkim-sign=parent.example/2026p/rsa-sha256",
         m.wait_log(r"SUB1: outbound .*dkim-sign=parent\.example/2026p/rsa-sha256 "
                    r"action=accept", 5), m.log_tail(3))


def main():
    t = harness.Results()
    t0 = time.monotonic()
    tally = Tally()
    w = World()
    od = None
    try:
        od = OpenDKIM(w.dns.port)
        big = big_message(os.path.join(harness.tmpdir(), "big.eml"))
        run_matrix(t, w, od, tally, big)
    except Exception as e:
        t.fail("interop: unexpected %s: %s" % (type(e).__name__, e))
    finally:
        if od is not None:
            od.stop()
        w.dns.cleanup()
    dev = {}
    for who, canon, f, sel in tally.deviations:
        dev.setdefault((who, canon, f), []).append(sel)
    print("# interop: %d signatures, dkimpy %d/%d, Mail::DKIM %d/%d, OpenDKIM %d/%d"
          % (tally.sigs, tally.dkimpy[0], tally.dkimpy[1], tally.perl[0], tally.perl[1],
             tally.odkim[0], tally.odkim[1]))
    print("# not counted: %d known verifier deviations (the verifier fails the same on "
          "dkimpy's own signature)" % len(tally.deviations))
    for (who, canon, f), sels in sorted(dev.items()):
        print("#   %s, %s, %s: %s" % (who, canon, f, " ".join(sels)))
    n_dev = {who: sum(1 for d in tally.deviations if d[0] == who)
             for who in ("Mail::DKIM", "OpenDKIM")}
    t.ok("interop: every signature verified by every verifier (bar the known deviations)",
         tally.sigs > 0 and tally.dkimpy[0] == tally.dkimpy[1] == tally.sigs and
         tally.perl[0] == tally.perl[1] > 0 and
         tally.odkim[0] == tally.odkim[1] == tally.sigs - n_dev["OpenDKIM"])
    print("# %.1fs" % (time.monotonic() - t0))
    t.exit()


if __name__ == "__main__":
    main()
