#!/usr/bin/python3
"""test_arc_seal - ARC sealing (RFC 8617 §5.1) by the real daemon, checked by
dkimpy (dkim.arc_verify), Mail::DKIM (ARC::Verifier) and mailauth (arc()), with
keys from unbound on loopback (issue 15).

The story is test_arc_verify's (its sealers and verifiers are reused):
author@strict.example (p=reject) signs, the list lists.example adds a Subject tag
and a footer and may seal; authmilter seals with arc { seal = true } as a
forwarder (seal.example, RSA key "sr" or Ed25519 key "se").

Chains: authmilter alone (i=1 cv=none), on top of dkimpy and Mail::DKIM chains
(cv=pass), under them (dkimpy and Mail::DKIM seal over our set), in the middle,
and twice in a row (our own verifier checks our seal); every verifier must say
pass. Ed25519: mailauth and our own verifier pass; dkimpy (ARC rsa-sha256 only)
and Debian's Mail::DKIM (no RFC 8463) are asserted as differences.
Bad input: an incoming chain that fails our check is sealed cv=fail over our set
alone (§5.1.2: the seal itself is checked here with the public key), a chain
whose newest seal says cv=fail is not extended (§5.1 step 1), i=50 is never
extended (§4.2.1), a rejected message is not sealed, and configurations with no
key, an unknown key section or a key file that does not load are refused with
file, line and key.
Through Postfix (the issue's "done" test): hop 1 is a Postfix whose authmilter
seals (it saw dkim=pass dmarc=pass); the list then tags the Subject, adds a
footer and seals with dkimpy; hop 2 is a second Postfix whose authmilter trusts
seal.example and lists.example: delivered on the list's AAR (ours, below
oldest-pass after the list's changes, vouches for nothing: issue 24); without
the trust: 550 5.7.1.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AUTHMILTER, Milter, Results, run_miltc  # noqa: E402
from dnsserver import DNSServer, dkim_dnsfunc, txt  # noqa: E402
import test_arc_verify as av  # noqa: E402

import dkim  # noqa: E402
from dkim import crypto as dkim_crypto  # noqa: E402

SEALER = "seal.example"
KEYGEN = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")


def keygen(keydir, alg, selector):
    """authmilter-keygen's key file and its (record name, TXT value)"""
    p = subprocess.run([KEYGEN, "-a", alg, "-d", SEALER, "-s", selector, "-o", keydir],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = p.stdout.decode()
    return (os.path.join(keydir, "%s.%s.key" % (selector, SEALER)), out.split()[0],
            "".join(re.findall(r'"([^"]*)"', out)))


class Keys:
    def __init__(self):
        kd = harness.tmpdir()
        os.chmod(kd, 0o700)
        self.rsa = keygen(kd, "rsa", "sr")
        self.ed = keygen(kd, "ed25519", "se")
        self.records = [txt(self.rsa[1], self.rsa[2]), txt(self.ed[1], self.ed[2])]


def conf(dns, keys, key="sr", trusted=(), on_reject="accept", seal=True):
    c = av.conf(dns, trusted=trusted, on_reject=on_reject)
    c["dkim"] = {'key "sr"': {"domain": SEALER, "selector": "sr", "file": keys.rsa[0]},
                 'key "se"': {"domain": SEALER, "selector": "se", "file": keys.ed[0]}}
    c["arc"].update({"seal": seal, "seal_key": key})
    return c


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def through_us(m, msg, qid):
    """msg through the daemon: (the message as delivered, the log fields, result)"""
    r = run_miltc(m.socket, msg, output=True, client_addr=av.IP,
                  client_name="[%s]" % av.IP, helo="lists.example",
                  mail_from=av.MAILFROM, rcpts=["rcpt@example.net"], queue_id=qid)
    line = m.wait_log(r"%s: inbound " % qid, 5) or ""
    f = harness.inbound_log_fields(line) if line else {}
    return crlf(r["output"] or b""), f, r


def arc_fields(msg, kind):
    """the values of one kind of ARC field, top to bottom, unfolded"""
    fields, _ = av.field_lines(msg)
    return [re.sub(rb"\s+", b" ", f.split(b":", 1)[1]).strip().decode()
            for f in fields if av.is_arc(f, kind)]


def tags(value):
    out = {}
    for t in value.split(";"):
        k, eq, v = t.partition("=")
        if eq:
            out[k.strip()] = re.sub(r"\s+", "", v)
    return out


def seal_only_own_set_valid(msg, dns, instance):
    """RFC 8617 §5.1.2: the cv=fail ARC-Seal signs only its own set. Check it with
    the sealer's public key over our AAR, AMS and AS (b= empty), relaxed."""
    fields, _ = av.field_lines(msg)
    mine = {}
    for f in fields:
        if av.is_arc(f):
            name, _, value = f.partition(b":")
            t = tags(re.sub(rb"\s+", b" ", value).decode())
            inst = t.get("i")
            if name.lower() == b"arc-authentication-results":
                inst = value.strip().split(b";")[0].split(b"=")[1].strip().decode()
            if inst == str(instance):
                mine[name.lower()] = (name, value)
    if len(mine) != 3:
        return False, "our set has %d fields" % len(mine)
    seal_tags = tags(mine[b"arc-seal"][1].decode())
    order = [b"arc-authentication-results", b"arc-message-signature", b"arc-seal"]
    canon = dkim.canonicalization.Relaxed.canonicalize_headers(
        [mine[k] for k in order])
    data = b""
    for i, (n, v) in enumerate(canon):
        if i == 2:      # the seal itself, b= emptied, no final CRLF
            v = re.sub(rb"b=[^;]*", b"b=", v.rstrip(b"\r\n"))
            data += n + b":" + v
        else:
            data += n + b":" + v
    rec = dkim_dnsfunc(dns.port)(("%s._domainkey.%s" % (seal_tags["s"], seal_tags["d"])))
    p = dict(kv.strip().split("=", 1) for kv in rec.decode().split(";") if "=" in kv)
    import base64
    import hashlib
    pk = dkim_crypto.parse_public_key(base64.b64decode(p["p"]))
    sig = base64.b64decode(seal_tags["b"])
    ok = dkim_crypto.RSASSA_PKCS1_v1_5_verify(hashlib.sha256(data), sig, pk)
    return bool(ok), "seal over our set alone %s" % ("verifies" if ok else "fails")


# ---------------------------------------------------------------- the chains

def make_cases(m, m_ed, dns):
    """[(name, delivered message, log fields, want {tool: result or (result, why)})]"""
    C = []
    q = [0]

    def us(msg, daemon=None):
        q[0] += 1
        out, f, _ = through_us(daemon or m, msg, "S%02d" % q[0])
        return out, f

    listmsg = av.through_list(av.original("s-list"))
    out, f = us(av.original("s-plain"))
    C.append(("authmilter alone, i=1 cv=none", out, f, 1, "none"))
    out, f = us(listmsg)
    C.append(("authmilter on the list's broken DKIM, i=1", out, f, 1, "none"))
    out, f = us(av.chain("s-dk", ["dkimpy"]))
    C.append(("dkimpy, then authmilter", out, f, 2, "pass"))
    out, f = us(av.chain("s-md", ["mdkim"]))
    C.append(("Mail::DKIM, then authmilter", out, f, 2, "pass"))
    out, f = us(av.chain("s-mix", ["mdkim", "dkimpy"]))
    C.append(("Mail::DKIM, dkimpy, then authmilter", out, f, 3, "pass"))
    out, f = us(listmsg)
    out = av.seal_mdkim(av.seal_dkimpy(out, "fwd.example", av.HOP_AR), "relay.example",
                        av.HOP_AR)
    C.append(("authmilter, then dkimpy, then Mail::DKIM", out, f, 1, "none"))
    out, f = us(av.chain("s-mid", ["dkimpy"]))
    out = av.seal_mdkim(out, "relay.example", av.HOP_AR)
    C.append(("dkimpy, authmilter, then Mail::DKIM", out, f, 2, "pass"))
    out, f = us(av.chain("s-twice", ["mdkim"]))
    out, f = us(out)
    C.append(("Mail::DKIM, authmilter, authmilter", out, f, 3, "pass"))
    out, f = us(av.original("s-ed"), m_ed)
    C.append(("Ed25519: authmilter alone", out, f, 1, "none"))
    return C


ED_DIFFS = {
    "dkimpy": ("fail", "dkimpy 1.1.4 accepts only rsa-sha256 in ARC (its "
               "ARC_HASH_ALGORITHMS); RFC 8617 §4.1.3 takes a= from RFC 6376, which "
               "RFC 8463 extends with ed25519-sha256"),
    "mdkim": ("invalid", "Debian's Mail::DKIM 1.20230212 has no Ed25519 (RFC 8463): "
              "it calls the seal invalid"),
}


def check_chains(R, m, m_ed, dns):
    cases = make_cases(m, m_ed, dns)
    for name, out, f, inst, cv in cases:
        R.eq("%s: log arc-seal.i" % name, f.get("arc-seal.i"), str(inst))
        R.eq("%s: log arc-seal.cv" % name, f.get("arc-seal.cv"), cv)
        seals = [tags(v) for v in arc_fields(out, b"arc-seal")]
        ours = [t for t in seals if t.get("d") == SEALER and t.get("i") == str(inst)]
        R.ok("%s: our ARC-Seal i=%d cv=%s, no h= or bh=" % (name, inst, cv),
             len(ours) == 1 and ours[0].get("i") == str(inst) and
             ours[0].get("cv") == cv and "h" not in ours[0] and "bh" not in ours[0], ours)
        amss = [tags(v) for v in arc_fields(out, b"arc-message-signature")
                if tags(v).get("d") == SEALER and tags(v).get("i") == str(inst)]
        R.ok("%s: our AMS i=%d c=relaxed/relaxed, no v=" % (name, inst),
             len(amss) == 1 and amss[0].get("i") == str(inst) and
             amss[0].get("c") == "relaxed/relaxed" and "v" not in amss[0], amss)
        aars = [v for v in arc_fields(out, b"arc-authentication-results")
                if v.startswith("i=%d; %s;" % (inst, av.AUTHSERV))]
        R.eq("%s: our AAR is i=%d; + our A-R" % (name, inst), len(aars), 1)
    table = [dict(name=c[0], msg=c[1]) for c in cases]
    tmp = tempfile.mkdtemp(prefix="arcs.", dir="/tmp")
    files = []
    for i, c in enumerate(table):
        files.append(os.path.join(tmp, "%02d.eml" % i))
        with open(files[-1], "wb") as fh:
            fh.write(c["msg"])
    theirs = {"dkimpy": av.dkimpy_verdicts(dns, table),
              "mdkim": av.mdkim_verdicts(dns, files)}
    if os.path.isdir(os.path.join(av.MAILAUTH_PREFIX, "node_modules", "mailauth")):
        theirs["mailauth"] = av.mailauth_verdicts(dns, files)
    else:
        R.fail("mailauth installed", "npm install --prefix %s mailauth@7" %
               av.MAILAUTH_PREFIX)
    for tool, verdicts in theirs.items():
        for c, (res, why) in zip(table, verdicts):
            if c["name"].startswith("Ed25519") and tool in ED_DIFFS:
                if R.eq("%s differs as expected: %s" % (tool, c["name"]), res,
                        ED_DIFFS[tool][0]):
                    R.difference("%s: %s" % (tool, c["name"]), ED_DIFFS[tool][1])
            else:
                R.eq("%s verifies: %s (%s)" % (tool, c["name"], why[:80]), res, "pass")
    for p in files:
        os.unlink(p)
    os.rmdir(tmp)
    # our own verifier on the Ed25519 seal
    out = [c[1] for c in cases if c[0].startswith("Ed25519")][0]
    _, f, _ = through_us(m, out, "SED2")
    R.eq("Ed25519: authmilter verifies its own Ed25519 seal", f.get("arc"), "pass")
    R.eq("Ed25519 then RSA: i=2 cv=pass", (f.get("arc-seal.i"), f.get("arc-seal.cv")),
         ("2", "pass"))


# ---------------------------------------------------------------- bad input

def check_bad(R, m, dns, keys):
    # a chain that fails our check: sealed cv=fail over our own set (§5.1.2)
    bad = av.chain("b-mod", ["dkimpy", "mdkim"]) + b"appended after the seals\r\n"
    out, f, _ = through_us(m, bad, "B01")
    R.eq("failed chain: log arc=fail", f.get("arc"), "fail")
    R.eq("failed chain: sealed i=3 cv=fail", (f.get("arc-seal.i"), f.get("arc-seal.cv")),
         ("3", "fail"))
    ok, why = seal_only_own_set_valid(out, dns, 3)
    R.ok("failed chain: the cv=fail seal signs our set alone (RFC 8617 §5.1.2)", ok, why)
    cv, _, _ = dkim.arc_verify(out, dnsfunc=dkim_dnsfunc(dns.port))
    R.ok("failed chain: dkimpy says the sealed chain fails", cv in (None, b"fail"), cv)
    # the chain already failed at an earlier hop: §5.1 step 1, not extended
    m1 = av.seal_dkimpy(av.through_list(av.original("b-cvf")), "lists.example",
                        av.LIST_AR)
    m1 = av.seal_dkimpy(m1, "fwd.example", "arc=fail")
    out, f, _ = through_us(m, m1, "B02")
    R.eq("newest seal cv=fail: not sealed (RFC 8617 §5.1 step 1)",
         (f.get("arc-seal"), f.get("arc-seal.reason")), ("none", "chain-failed"))
    R.eq("newest seal cv=fail: no ARC-Seal added", len(arc_fields(out, b"arc-seal")), 2)
    # i=50: never a 51st set, passing or failing
    m50 = av.seal_dkimpy(av.through_list(av.original("b-50")), "lists.example",
                         av.LIST_AR)
    for i in range(2, 51):
        # each hop its own authserv-id: dkimpy reads cv= from that A-R's arc=
        srv = b"hop%d.fwd.example" % i
        m50 = b"Authentication-Results: " + srv + b"; arc=pass\r\n" + m50
        m50 = b"".join(dkim.arc_sign(m50, b"arc", b"fwd.example", av.RSA_KEY, srv,
                                     include_headers=av.SIGNED)) + m50
    out, f, _ = through_us(m, m50, "B03")
    # 100 signatures: past the 32 public-key operations one message may cost
    # (DKIM_VERIFY_MAX_PK_OPS, issue 24), a defined arc=fail naming the bound
    R.eq("50 passing sets: arc=fail", f.get("arc"), "fail")
    R.ok("50 passing sets: logged over 32 public-key operations per message",
         m.wait_log(r"B03: \d+ DKIM/ARC signatures not checked: over 32 public-key "
                    r"operations per message", 5) is not None, m.log_tail(5))
    R.eq("50 passing sets: not sealed (RFC 8617 §4.2.1)",
         (f.get("arc-seal"), f.get("arc-seal.reason")), ("none", "instance-limit"))
    R.eq("50 passing sets: still 50 ARC-Seals", len(arc_fields(out, b"arc-seal")), 50)
    fifty = av.mutate(av.chain("b-i50", ["dkimpy"]), av.renumber(1, 50))
    out, f, _ = through_us(m, fifty, "B04")
    R.eq("a failing chain at i=50: not sealed",
         (f.get("arc"), f.get("arc-seal"), f.get("arc-seal.reason")),
         ("fail", "none", "instance-limit"))
    # a rejected message is not sealed
    with Milter(conf(dns, keys, on_reject="reject")) as mr:
        _, f, r = through_us(mr, av.chain("b-rej", ["dkimpy"]), "B05")
        R.eq("rejected (DMARC, no trusted sealer): 550", (r["reply"] or "")[:3], "550")
        R.ok("rejected: no ARC field added", not any(n.lower().startswith("arc-")
                                                     for n, _ in r["added"]), r["added"])
        R.ok("rejected: no arc-seal in the log", "arc-seal" not in f, f)
    # arc.verify = false: a message with ARC fields cannot be sealed
    c = conf(dns, keys)
    c["arc"]["verify"] = False
    with Milter(c) as mv:
        out, f, _ = through_us(mv, av.chain("b-nov", ["dkimpy"]), "B06")
        R.eq("verify = false, ARC fields present: not sealed",
             (f.get("arc-seal"), f.get("arc-seal.reason")), ("none", "chain-not-verified"))
        out, f, _ = through_us(mv, av.original("b-nov2"), "B07")
        R.eq("verify = false, no ARC field: i=1 cv=none",
             (f.get("arc-seal.i"), f.get("arc-seal.cv")), ("1", "none"))
    R.ok("daemon still runs after the bad input", m.running(), m.log_tail())


def check_config(R, keys):
    kd = harness.tmpdir()
    os.chmod(kd, 0o700)
    broken = os.path.join(kd, "broken.key")
    with open(broken, "w") as fh:
        fh.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    os.chmod(broken, 0o600)
    key = 'key "sr" {\n    domain = "seal.example"\n    selector = "sr"\n    file = "%s"\n  }'
    cases = [
        ("seal = true without seal_key",
         'dkim {\n  %s\n}\narc {\n  seal = true\n}' % (key % keys.rsa[0]),
         r":\d+: arc\.seal_key: seal = true needs a key"),
        ("seal_key naming no key section",
         'dkim {\n  %s\n}\narc {\n  seal = true\n  seal_key = "nope"\n}' %
         (key % keys.rsa[0]),
         r":\d+: arc\.seal_key: \"nope\" is not a dkim key section; use one of: \"sr\""),
        ("seal_key whose key file does not load",
         'dkim {\n  %s\n}\narc {\n  seal = true\n  seal_key = "sr"\n}' % (key % broken),
         r":\d+: dkim\.key \"sr\": .*broken\.key"),
    ]
    for name, text, want in cases:
        m = Milter(text, start=False)
        p = subprocess.run([AUTHMILTER, "-n", "-c", m.config_path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode()
        R.ok("config refused: %s" % name, p.returncode != 0, out)
        R.ok("config error names file, line and key: %s" % name,
             re.search(want, out) is not None, out)


# ---------------------------------------------------------------- Postfix

def check_postfix(R, dns, keys):
    """hop 1 (Postfix + sealing authmilter) -> the list (Subject tag, footer,
    dkimpy seal) -> hop 2 (Postfix + authmilter trusting seal.example or not)"""
    import mta
    from test_postfix import postfix_socket
    if os.geteuid() != 0:
        R.fail("postfix: needs root (Postfix starts as root)")
        return
    # hop 1 gets the message from the list's address (SPF passes for its
    # envelope sender) with the author's DKIM signature intact
    xclient1 = "ADDR=%s NAME=lists.example HELO=lists.example" % av.IP
    xclient2 = "ADDR=%s NAME=lists.example HELO=lists.example" % av.IP

    def hop(trusted, xclient, msg, mailfrom, helo):
        wd = mta.make_workdir("/tmp/authmilter-arcs-")
        m = Milter(conf(dns, keys, trusted=trusted, on_reject="reject"), inet=True)
        sink = mta.SmtpSink(wd).start()
        pf = mta.Postfix(wd, postfix_socket(m.socket), sink.port)
        try:
            pf.start()
            r = mta.smtp_send(pf.port, mailfrom, ["user@example.com"], msg, helo=helo,
                              xclient=xclient)
            got = sink.new_messages(1, 20) if r.accepted else []
            line = m.wait_log(r"inbound client=", 5) or ""
            body = mta.split_sink_file(got[0][1])[1] if got else b""
            return r, crlf(body), line
        finally:
            pf.stop()
            sink.stop()
            m.stop()

    # hop 1: SPF, DKIM and DMARC pass
    orig = av.original("postfix-seal")
    r, out1, line = hop([], xclient1, orig, av.MAILFROM, "lists.example")
    R.ok("postfix hop 1: accepted and sealed i=1 cv=none",
         r.accepted and re.search(r"dmarc=pass .*arc-seal=seal\.example/sr/rsa-sha256 "
                                  r"arc-seal\.i=1 arc-seal\.cv=none", line) is not None,
         "%s\n%s" % (r, line))
    aar = arc_fields(out1, b"arc-authentication-results")
    R.ok("postfix hop 1: the delivered AAR records dmarc=pass for strict.example",
         len(aar) == 1 and "dmarc=pass" in aar[0] and "header.from=strict.example" in
         aar[0], aar)
    cv, _, why = dkim.arc_verify(out1, dnsfunc=dkim_dnsfunc(dns.port))
    R.eq("postfix hop 1: dkimpy verifies the delivered seal (%s)" % why, cv, b"pass")
    # the list: Subject tag and footer (DKIM breaks), then its own seal (dkimpy)
    # the list changed the message, so our i=1 AMS no longer verifies
    # (oldest-pass=2): our AAR was about another message and vouches for nothing
    # (issue 24); the list's own AAR, trusted, does
    listed = av.seal_dkimpy(av.through_list(out1), "lists.example", "arc=pass; "
                            "spf=pass smtp.mailfrom=author@strict.example")
    for trusted in ([SEALER, "lists.example"], []):
        r, out2, line = hop(trusted, xclient2, listed, av.MAILFROM, "lists.example")
        if trusted:
            R.ok("postfix hop 2, seal.example and lists.example trusted: delivered",
                 r.accepted and out2, r)
            R.ok("postfix hop 2, trusted: dmarc=fail arc=pass oldest-pass=2, "
                 "override=arc sealer=lists.example",
                 re.search(r"dmarc=fail .*arc=pass arc\.oldest-pass=2 .*action=accept "
                           r".*override=arc sealer=lists\.example", line) is not None,
                 line)
            R.eq("postfix hop 2: sealed on as i=3 cv=pass",
                 re.findall(r"arc-seal\.i=(\d+) arc-seal\.cv=(\w+)", line), [("3", "pass")])
        else:
            R.ok("postfix hop 2, not trusted: 550 5.7.1 (%s)" % r.final,
                 r.final.code == 550 and r.final.text.startswith("5.7.1"), r)


def main():
    R = Results()
    keys = Keys()
    with DNSServer(av.RECORDS + keys.records, extra_conf=av.EXTRA) as dns:
        with Milter(conf(dns, keys)) as m, Milter(conf(dns, keys, key="se")) as m_ed:
            R.run("chains", check_chains, R, m, m_ed, dns)
            R.run("bad input", check_bad, R, m, dns, keys)
        R.run("postfix", check_postfix, R, dns, keys)
    R.run("config", check_config, R, keys)
    R.exit()


if __name__ == "__main__":
    main()
