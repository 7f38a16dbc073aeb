#!/usr/bin/python3
"""test_arc_verify - ARC verification (RFC 8617 §5.2) and the trusted-sealer
override through the real daemon, with DNS from unbound on loopback (issue 15).

The chains are sealed by real peers: dkimpy (dkim.arc_sign) and Mail::DKIM
(Mail::DKIM::ARC::Signer), one to three hops, mixed. The story of every chain:
author@strict.example (p=reject) signs with DKIM, the list lists.example adds
"[list]" to the Subject and a footer (DKIM breaks) and seals, recording
dkim=pass / dmarc=pass for strict.example in its ARC-Authentication-Results;
later hops (fwd.example, relay.example) seal with arc=pass. Each message goes to
the daemon from the list's address with the list's envelope sender, so DMARC
fails; our arc= (log line and A-R: header.oldest-pass, smtp.remote-ip) is checked
and diffed with dkimpy's arc_verify, Mail::DKIM's ARC::Verifier and mailauth's
arc(); where a verifier differs, the difference is asserted and named.

Bad chains (each a defined arc= result): modified after the seal, truncated,
duplicated, reordered, gapped, i=51, garbage tags, an oversized AAR, more than
150 ARC fields, a missing key, a key lookup that fails, cv=fail, an AMS that
signs ARC-Seal. Policy: with lists.example in arc.trusted_sealers the message is
accepted (log "override=arc sealer=lists.example"), without it rejected with 550;
under a newer hop that is not trusted too it is rejected (issue 24: that hop
could have copied the trusted set from another message, as check_replay does);
the list's ARC-Authentication-Results vouches with dmarc=pass for the From domain or
an aligned dkim=pass / spf=pass (relaxed: under its organizational domain; strict
when the record says adkim=s / aspf=s);
an untrusted or failing chain never overrides; a config with a bad sealer name
is refused with file, line and key.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AUTHMILTER, Milter, Results, inbound_log_fields,  # noqa: E402
                     run_miltc)
from dnsserver import DNSServer, dkim_dnsfunc, refuse_zone, txt  # noqa: E402
from test_inbound import RSA_KEY, RSA_PUB, message, sign  # noqa: E402

import dkim  # noqa: E402

AUTHSERV = "mx.test.example"
IP = "192.0.2.20"               # the list server
MAILFROM = "list-bounces@lists.example"
HERE = os.path.dirname(os.path.abspath(__file__))
MAILAUTH_PREFIX = os.environ.get("MAILAUTH_PREFIX", "/var/cache/authmilter-test-node")
KEYFILE = "/usr/lib/python3/dist-packages/dkim/tests/data/2048_testkey.key"
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id"]

RECORDS = [
    txt("rsa._domainkey.strict.example", RSA_PUB),
    txt("_dmarc.strict.example", "v=DMARC1; p=reject"),
    txt("strict.example", "v=spf1 -all"),
    txt("_dmarc.exact.example", "v=DMARC1; p=reject; adkim=s; aspf=s"),
    txt("exact.example", "v=spf1 -all"),
    txt("lists.example", "v=spf1 ip4:%s -all" % IP),
    txt("arc._domainkey.lists.example", RSA_PUB),
    txt("arc._domainkey.fwd.example", RSA_PUB),
    txt("arc._domainkey.relay.example", RSA_PUB),
    txt("_dmarc.paypal.test", "v=DMARC1; p=reject"),
    txt("paypal.test", "v=spf1 -all"),
    txt("arc._domainkey.trusted.test", RSA_PUB),
    txt("arc._domainkey.evil.test", RSA_PUB),
]
EXTRA = [refuse_zone("_domainkey.slow.example")]

LIST_AR = ("dkim=pass header.d=strict.example header.s=rsa; "
           "spf=pass smtp.mailfrom=author@strict.example; "
           "dmarc=pass header.from=strict.example")
HOP_AR = "arc=pass; spf=pass smtp.mailfrom=list-bounces@lists.example"

MDKIM_SEAL = r'''
use strict; use warnings;
use Mail::DKIM::ARC::Signer;
my ($domain, $sel, $chain, $key) = @ARGV;
my $m = do { local $/; <STDIN> };
$m =~ s/\r?\n/\r\n/g;
my $s = Mail::DKIM::ARC::Signer->new(Algorithm => 'rsa-sha256', Chain => $chain,
    Domain => $domain, SrvId => $domain, Selector => $sel, KeyFile => $key,
    Headers => 'from:to:subject:date:message-id');
$s->PRINT($m); $s->CLOSE;
die "not sealed: " . ($s->result_detail // '') . "\n" unless $s->result eq 'sealed';
print $s->as_string;
'''

MDKIM_VERIFY = r'''
use strict; use warnings;
use Mail::DKIM::ARC::Verifier; use Mail::DKIM::DNS; use Net::DNS::Resolver;
my $port = shift @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $port, recurse => 1, udp_timeout => 3, tcp_timeout => 3, retry => 1));
for my $f (@ARGV) {
    open(my $fh, '<:raw', $f) or die "$f: $!";
    my $m = do { local $/; <$fh> }; close($fh);
    $m =~ s/\r?\n/\r\n/g;
    my $v = Mail::DKIM::ARC::Verifier->new(Strict => 1);
    $v->PRINT($m); $v->CLOSE();
    my $d = $v->result_detail // ''; $d =~ s/[\t\r\n]/ /g;
    print join("\t", $f, $v->result // '', $d), "\n";
}
'''


# ---------------------------------------------------------------- sealing

def with_ar(msg, srv, results):
    return ("Authentication-Results: %s; %s\r\n" % (srv, results)).encode() + msg


def seal_dkimpy(msg, domain, results, selector="arc"):
    """msg as a hop at domain passes it on: its A-R on top, then dkimpy's set"""
    m = with_ar(msg, domain, results)
    hdrs = dkim.arc_sign(m, selector.encode(), domain.encode(), RSA_KEY,
                         domain.encode(), include_headers=SIGNED)
    if not hdrs:
        raise RuntimeError("dkimpy did not seal for %s" % domain)
    return b"".join(hdrs) + m


def seal_mdkim(msg, domain, results, selector="arc"):
    """the same with Mail::DKIM::ARC::Signer (cv= from the A-R's arc=)"""
    m = with_ar(msg, domain, results)
    chain = "pass" if re.search(r"\barc=pass", results) else "none"
    p = subprocess.run(["perl", "-e", MDKIM_SEAL, domain, selector, chain, KEYFILE],
                       input=m, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=True)
    return p.stdout + m


SEALERS = {"dkimpy": seal_dkimpy, "mdkim": seal_mdkim}
HOPS = ["lists.example", "fwd.example", "relay.example"]


def original(subject):
    """author@strict.example's signed message, CRLF line ends as on the wire
    (dkimpy seals LF text with folds its own verifier rejects)"""
    m = sign(message("author@strict.example", subject=subject), "strict.example")
    return m.replace(b"\n", b"\r\n")


def through_list(msg):
    """what a mailing list does to a message: breaks its DKIM signature"""
    msg = msg.replace(b"\nSubject: ", b"\nSubject: [list] ", 1)
    return msg + b"-- \r\nlist footer\r\n"


def chain(subject, tools):
    """the list message sealed by len(tools) hops, tools[i] sealing hop i+1"""
    msg = through_list(original(subject))
    for i, tool in enumerate(tools):
        msg = SEALERS[tool](msg, HOPS[i], LIST_AR if i == 0 else HOP_AR)
    return msg


# ---------------------------------------------------------------- bad chains

def field_lines(msg):
    """the header as a list of unfolded-with-folds fields, and the rest"""
    head, _, body = msg.partition(b"\r\n\r\n")
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def join(fields, body):
    return b"\r\n".join(fields) + b"\r\n\r\n" + body


def is_arc(f, kind=None):
    name = f.split(b":", 1)[0].lower()
    kinds = {b"arc-seal", b"arc-message-signature", b"arc-authentication-results"}
    return name in kinds if kind is None else name == kind


def mutate(msg, fn):
    fields, body = field_lines(msg)
    return join(fn(fields), body)


def drop_newest_seal(fields):
    for i, f in enumerate(fields):
        if is_arc(f, b"arc-seal"):
            return fields[:i] + fields[i + 1:]
    return fields


def dup_ams(fields):
    for i, f in enumerate(fields):
        if is_arc(f, b"arc-message-signature"):
            return fields[:i] + [f] + fields[i:]
    return fields


def reorder(fields):
    """the ARC fields moved to the bottom of the header, oldest set first"""
    arc = [f for f in fields if is_arc(f)]
    rest = [f for f in fields if not is_arc(f)]
    return rest + list(reversed(arc))


def renumber(old, new):
    def fn(fields):
        out = []
        for f in fields:
            if is_arc(f):
                f = re.sub(rb"\bi=%d;" % old, b"i=%d;" % new, f, count=1)
            out.append(f)
        return out
    return fn


def garbage_seal(fields):
    for i, f in enumerate(fields):
        if is_arc(f, b"arc-seal"):
            return fields[:i] + [b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=lists.example; "
                                 b"s=arc; b=%%%; ;;=x"] + fields[i + 1:]
    return fields


def oversized_aar(fields):
    out = []
    for f in fields:
        if is_arc(f, b"arc-authentication-results"):
            f = f + b";\r\n\tx-pad=" + b"p" * 20000
        out.append(f)
    return out


def many_fields(fields):
    junk = [b"ARC-Authentication-Results: i=1; lists.example; none"] * 160
    return junk + fields


def ams_signs_seal(msg):
    """an AMS whose h= names ARC-Seal, the signature otherwise made by dkimpy"""
    m = through_list(original("ams-signs-seal"))
    m = b"ARC-Seal: i=0; cv=none\r\n" + m
    sig = dkim.sign(m, b"arc", b"lists.example", RSA_KEY, include_headers=SIGNED +
                    [b"arc-seal"])
    ams = sig.replace(b"DKIM-Signature: v=1; ", b"ARC-Message-Signature: i=1; ", 1)
    return ams + m


def ams_without_c():
    """the list message sealed by dkimpy, its AMS made without c= over simple/simple
    canonicalization (dkimpy always writes c=relaxed/relaxed)"""
    from dkim.canonicalization import CanonicalizationPolicy
    orig = dkim.DomainSigner.gen_header

    def gen_header(self, fields, include, canon, name, pk, standardize=False):
        if name == b"ARC-Message-Signature":
            fields = [f for f in fields if f[0] != b"c"]
            canon = CanonicalizationPolicy.from_c_value(b"simple/simple")
        return orig(self, fields, include, canon, name, pk, standardize)
    # dkimpy hashes the body relaxed before it signs: a body whose simple and
    # relaxed forms agree (no list footer "-- ") keeps its bh= right
    msg = original("no  c=  tag")
    dkim.DomainSigner.gen_header = gen_header
    try:
        return seal_dkimpy(msg, "lists.example", LIST_AR)
    finally:
        dkim.DomainSigner.gen_header = orig


def cases():
    """name, msg, ours (arc result), oldest (header.oldest-pass when pass), and the
    differences expected from each other verifier: {tool: (result, why)}"""
    T = []

    def add(name, msg, ours, oldest=None, diff=None, reason=None):
        T.append(dict(name=name, msg=msg, ours=ours, oldest=oldest, diff=diff or {},
                      reason=reason))

    add("dkimpy 1 hop", chain("dk1", ["dkimpy"]), "pass", 0)
    add("dkimpy 2 hops", chain("dk2", ["dkimpy", "dkimpy"]), "pass", 0)
    add("dkimpy 3 hops", chain("dk3", ["dkimpy", "dkimpy", "dkimpy"]), "pass", 0)
    add("Mail::DKIM 1 hop", chain("md1", ["mdkim"]), "pass", 0)
    add("Mail::DKIM 3 hops", chain("md3", ["mdkim", "mdkim", "mdkim"]), "pass", 0)
    add("mixed dkimpy, Mail::DKIM, dkimpy", chain("mx1", ["dkimpy", "mdkim", "dkimpy"]),
        "pass", 0)
    add("mixed Mail::DKIM, dkimpy", chain("mx2", ["mdkim", "dkimpy"]), "pass", 0)
    # the body changed between hop 1 and hop 2: AMS 1 no longer verifies
    m = seal_dkimpy(through_list(original("op")), "lists.example", LIST_AR)
    m = seal_dkimpy(m + b"hop 2 footer\r\n", "fwd.example", HOP_AR)
    add("body changed after hop 1: oldest-pass=2", m, "pass", 2)
    add("modified after the last seal", chain("mod", ["dkimpy"]) + b"appended\r\n",
        "fail", reason="ARC-Message-Signature i=1")
    add("truncated: newest ARC-Seal missing",
        mutate(chain("tr", ["dkimpy", "dkimpy"]), drop_newest_seal), "fail",
        reason="no ARC-Seal with i=2")
    add("duplicated ARC-Message-Signature",
        mutate(chain("du", ["dkimpy"]), dup_ams), "fail",
        reason="two ARC-Message-Signature with i=1")
    add("reordered: sets at the bottom, oldest first",
        mutate(chain("ro", ["dkimpy", "mdkim"]), reorder), "pass", 0)
    add("gapped: instances 1 and 3",
        mutate(chain("gap", ["dkimpy", "dkimpy"]), renumber(2, 3)), "fail",
        reason="with i=2")
    add("i=51", mutate(chain("i51", ["dkimpy"]), renumber(1, 51)), "fail",
        reason="i=51 over 50")
    add("garbage tags in the ARC-Seal", mutate(chain("gb", ["dkimpy"]), garbage_seal),
        "fail", reason="ARC-Seal")
    add("oversized ARC-Authentication-Results",
        mutate(chain("big", ["dkimpy"]), oversized_aar), "fail", reason="over 16384 bytes")
    add("160 extra ARC fields", mutate(chain("many", ["dkimpy"]), many_fields), "fail",
        reason="more than 150 ARC fields")
    m = seal_dkimpy(through_list(original("nokey")), "lists.example", LIST_AR,
                    selector="gone")
    add("missing key", m, "fail", reason="no key")
    m = seal_dkimpy(through_list(original("slow")), "slow.example", LIST_AR)
    add("key lookup fails temporarily", m, "temperror", reason="key lookup failed")
    m = seal_dkimpy(through_list(original("cvf")), "lists.example", LIST_AR)
    m = seal_dkimpy(m, "fwd.example", "arc=fail")
    add("newest seal says cv=fail", m, "fail", reason="cv=fail")
    add("ARC-Seal i=0 and an AMS that signs ARC-Seal", ams_signs_seal(None), "fail",
        reason="ARC-")
    add("no ARC fields", through_list(original("none")), "none")
    # issue 25 item 5: an AMS without c= is simple/simple (RFC 8617 §4.1.2 gives it
    # DKIM's semantics); a Subject whose spaces relaxed would squeeze tells them apart
    add("AMS without c=: simple/simple", ams_without_c(), "pass", 0)
    return T


# ---------------------------------------------------------------- our verdicts

def send(m, msg, qid):
    return run_miltc(m.socket, msg, client_addr=IP, client_name="[%s]" % IP,
                     helo="lists.example", mail_from=MAILFROM,
                     rcpts=["rcpt@example.net"], queue_id=qid)


def conf(dns, trusted=(), on_reject="accept"):
    return {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dmarc": {"on_reject": "reject" if on_reject == "reject" else "none"},
            "arc": {"trusted_sealers": list(trusted)}}


def check_case(R, m, c, qid):
    name = c["name"]
    r = send(m, c["msg"], qid)
    line = m.wait_log(r"%s: inbound " % qid, 5) or ""
    f = inbound_log_fields(line) if line else {}
    # arc=none is not logged; the A-R says it (issue 25 item 5: checked, nothing there)
    R.eq("%s: log arc" % name, f.get("arc"), None if c["ours"] == "none" else c["ours"])
    if c["ours"] == "pass":
        R.eq("%s: log arc.oldest-pass" % name, f.get("arc.oldest-pass"), str(c["oldest"]))
    ars = [v for n, v in r["added"] if n.lower() == "authentication-results"]
    if R.eq("%s: one A-R" % name, len(ars), 1):
        ar = re.sub(r"\s+", " ", ars[0])
        mm = re.search(r"\barc=(\w+)( \(([^)]*)\))?((?: [\w.-]+=\S+)*)", ar)
        if c["ours"] == "none":
            R.ok("%s: A-R says a bare arc=none" % name, mm is not None and
                 mm.group(1) == "none" and not mm.group(2) and not mm.group(4), ar)
            return "none"
        R.ok("%s: A-R arc=%s" % (name, c["ours"]), mm is not None and
             mm.group(1) == c["ours"], ar)
        if mm is not None:
            props = dict(p.split("=", 1) for p in mm.group(4).split())
            R.eq("%s: A-R smtp.remote-ip" % name, props.get("smtp.remote-ip"), IP)
            if c["ours"] == "pass":
                R.eq("%s: A-R header.oldest-pass" % name, props.get("header.oldest-pass"),
                     str(c["oldest"]))
            if c["reason"]:
                R.ok("%s: A-R comment says %r" % (name, c["reason"]),
                     c["reason"] in (mm.group(3) or ""), ar)
    return f.get("arc")


# ---------------------------------------------------------------- other verifiers

def dkimpy_verdicts(dns, table):
    fn = dkim_dnsfunc(dns.port)
    out = []
    for c in table:
        try:
            cv, _, why = dkim.arc_verify(c["msg"], dnsfunc=fn)
        except Exception as e:      # noqa: BLE001 - any crash is a verdict here
            cv, why = b"exception", str(e)
        # cv None: dkimpy's "the chain is terminated" for a newest cv=fail
        out.append(((cv or b"fail").decode(), why))
    return out


def mdkim_verdicts(dns, files):
    p = subprocess.run(["perl", "-e", MDKIM_VERIFY, str(dns.port)] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    got = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f, res, detail = (line.split("\t") + ["", ""])[:3]
        got[f] = (res, detail)
    return [got.get(f, ("missing", p.stderr.decode()[-200:])) for f in files]


def mailauth_verdicts(dns, files):
    env = dict(os.environ, NODE_PATH=os.path.join(MAILAUTH_PREFIX, "node_modules"),
               NODE_NO_WARNINGS="1")
    p = subprocess.run(["node", os.path.join(HERE, "mailauth_arc.js"), str(dns.port)]
                       + files, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=300)
    got = {}
    for line in p.stdout.decode().splitlines():
        j = json.loads(line)
        got[j["file"]] = (j["result"], j.get("reason") or "")
    return [got.get(f, ("missing", p.stderr.decode()[-200:])) for f in files]


# Where a verifier is expected to differ from us: (tool, case name) -> (its
# result, why, with the RFC section).
DIFFS = {
    ("dkimpy", "AMS without c=: simple/simple"): (
        "fail", "dkimpy checks every AMS relaxed whatever c= says; RFC 8617 §4.1.2 gives "
        "the AMS DKIM-Signature's semantics, whose c= defaults to simple/simple"),
    ("dkimpy", "reordered: sets at the bottom, oldest first"): (
        "fail", "dkimpy feeds the ARC-Seal the sets in header order; RFC 8617 §5.1.1 "
        "orders them by instance (i=), wherever they stand"),
    ("mdkim", "missing key"): (
        "invalid", "Mail::DKIM's own word for a seal it cannot check; RFC 8617 §4.1.3 "
        "has only none, pass and fail for arc="),
    ("mailauth", "ARC-Seal i=0 and an AMS that signs ARC-Seal"): (
        "none", "mailauth passes over ARC fields whose i= it cannot read; RFC 8617 "
        "§5.2 step 2: ARC fields that do not form valid sets make the chain fail"),
    ("mdkim", "key lookup fails temporarily"): (
        "invalid", "Mail::DKIM says invalid for a key it cannot fetch now; RFC 8601 "
        "§2.7.1 gives temperror for a temporary DNS failure"),
    ("mailauth", "key lookup fails temporarily"): (
        "fail", "mailauth folds a temporary key failure into fail; RFC 8601 §2.7.1 "
        "gives temperror"),
    ("dkimpy", "key lookup fails temporarily"): (
        "fail", "dkimpy folds a temporary key failure into fail; RFC 8601 §2.7.1 "
        "gives temperror"),
}


def compare(R, dns, table, ours):
    tmp = tempfile.mkdtemp(prefix="arcv.", dir="/tmp")
    files = []
    for i, c in enumerate(table):
        path = os.path.join(tmp, "%02d.eml" % i)
        with open(path, "wb") as f:
            f.write(c["msg"])
        files.append(path)
    theirs = {"dkimpy": dkimpy_verdicts(dns, table), "mdkim": mdkim_verdicts(dns, files)}
    if os.path.isdir(os.path.join(MAILAUTH_PREFIX, "node_modules", "mailauth")):
        theirs["mailauth"] = mailauth_verdicts(dns, files)
    else:
        R.fail("mailauth installed", "npm install --prefix %s mailauth@7" % MAILAUTH_PREFIX)
    for tool, verdicts in theirs.items():
        for c, mine, (res, why) in zip(table, ours, verdicts):
            want = DIFFS.get((tool, c["name"]))
            if want is not None:
                if R.eq("%s differs as expected: %s" % (tool, c["name"]), res, want[0]):
                    R.difference("%s: %s" % (tool, c["name"]), want[1])
            else:
                R.eq("%s agrees: %s (%s)" % (tool, c["name"], why[:80]), res, mine)
    for p in files:
        os.unlink(p)
    os.rmdir(tmp)


# ---------------------------------------------------------------- policy

def check_policy(R, dns):
    msg = chain("policy", ["dkimpy"])
    two = chain("policy2", ["dkimpy", "dkimpy"])
    with Milter(conf(dns, on_reject="reject")) as m:
        r = send(m, msg, "P1")
        R.eq("untrusted sealer: rejected", r["action"], "reject")
        R.ok("untrusted sealer: 550", (r["reply"] or "").startswith("550"), r["reply"])
        line = m.wait_log(r"P1: inbound ", 5) or ""
        R.ok("untrusted sealer: log dmarc=fail arc=pass by=dmarc",
             re.search(r"dmarc=fail .*arc=pass .*action=reject by=dmarc", line) is not None,
             line)
        R.ok("untrusted sealer: no override", "override=" not in line, line)
    trusted = conf(dns, trusted=["Lists.Example"], on_reject="reject")
    with Milter(trusted) as m:
        r = send(m, msg, "P2")
        R.eq("trusted sealer: accepted", r["action"], "accept")
        line = m.wait_log(r"P2: inbound ", 5) or ""
        R.ok("trusted sealer: log override=arc sealer=lists.example",
             re.search(r"dmarc=fail .*arc=pass .*action=accept .*override=arc "
                       r"sealer=lists\.example", line) is not None, line)
        # issue 24 finding 1: an untrusted newer hop could have copied the
        # trusted set from another message; nothing below it is trusted
        r = send(m, two, "P3")
        R.eq("trusted first hop under an untrusted second: rejected", r["action"],
             "reject")
        R.ok("trusted first hop under an untrusted second: 550",
             (r["reply"] or "").startswith("550"), r["reply"])
        line = m.wait_log(r"P3: inbound ", 5) or ""
        R.ok("P3: no override", "override=" not in line, line)
        r = send(m, msg + b"changed after the seal\r\n", "P4")
        R.eq("trusted sealer, chain broken after it: rejected", r["action"], "reject")
        # the AAR vouches for another domain: no override
        other = seal_dkimpy(through_list(original("other")), "lists.example",
                            "dmarc=pass header.from=elsewhere.example")
        r = send(m, other, "P5")
        R.eq("trusted sealer vouching for another domain: rejected", r["action"],
             "reject")
        # RFC 9989 §4.4: an aligned pass vouches; relaxed by default, so a name
        # under the From domain's organizational domain aligns, another does not
        for qid, ar, want in (
                ("P8", "spf=pass smtp.mailfrom=bounce@em.strict.example", "accept"),
                ("P9", "dkim=pass header.d=mail.strict.example", "accept"),
                ("P10", "dkim=pass header.d=strict.example.evil.example", "reject"),
                ("P11", "spf=pass smtp.mailfrom=bounce@notstrict.example", "reject")):
            sub = seal_dkimpy(through_list(original(qid)), "lists.example", ar)
            r = send(m, sub, qid)
            R.eq("trusted sealer, AAR %s: %s" % (ar, want), r["action"], want)
        # adkim=s / aspf=s: only the From domain itself aligns
        for qid, ar, want in (
                ("P12", "dkim=pass header.d=exact.example", "accept"),
                ("P13", "dkim=pass header.d=mail.exact.example", "reject"),
                ("P14", "spf=pass smtp.mailfrom=bounce@em.exact.example", "reject")):
            author = message("author@exact.example", subject=qid).replace(b"\n", b"\r\n")
            sub = seal_dkimpy(through_list(author), "lists.example", ar)
            r = send(m, sub, qid)
            R.eq("trusted sealer, strict alignment, AAR %s: %s" % (ar, want),
                 r["action"], want)
    with Milter(conf(dns, trusted=["fwd.example"], on_reject="reject")) as m:
        r = send(m, two, "P6")
        R.eq("only a sealer that vouched nothing trusted: rejected", r["action"],
             "reject")
    with Milter(conf(dns, trusted=["lists.example", "fwd.example"],
                     on_reject="reject")) as m:
        r = send(m, two, "P15")
        R.eq("trusted first hop under a trusted second: accepted", r["action"],
             "accept")
        line = m.wait_log(r"P15: inbound ", 5) or ""
        R.ok("P15 names the vouching sealer", "override=arc sealer=lists.example" in line,
             line)
    with Milter({"authserv_id": AUTHSERV, "dns": {"nameservers": [dns.address]},
                 "arc": {"verify": False, "trusted_sealers": ["lists.example"]}}) as m:
        r = send(m, msg, "P7")
        line = m.wait_log(r"P7: inbound ", 5) or ""
        R.eq("arc.verify = false: rejected", r["action"], "reject")
        R.ok("arc.verify = false: no arc= in the log", " arc=" not in line, line)
    check_replay(R, dns)


def paypal_sealed():
    """a genuine paypal.test message as trusted.test sealed it (i=1), its AAR
    saying dmarc=pass header.from=paypal.test"""
    msg = message("service@paypal.test", subject="Your receipt",
                  body="Thank you for your payment.\n").replace(b"\n", b"\r\n")
    return seal_dkimpy(msg, "trusted.test", "dmarc=pass header.from=paypal.test")


def replayed(evil_seal=True):
    """issue 24 finding 1: the three i=1 fields of paypal_sealed() copied onto a
    new message From paypal.test with another Subject and body, then (evil_seal)
    the attacker's own valid i=2 set by evil.test with cv=pass"""
    fields, _ = field_lines(paypal_sealed())
    copied = [f for f in fields if is_arc(f)]
    new = message("service@paypal.test", subject="Account locked: verify now",
                  body="Log in at http://evil.test/ within 24 hours.\n")
    msg = b"\r\n".join(copied) + b"\r\n" + new.replace(b"\n", b"\r\n")
    if evil_seal:
        msg = seal_dkimpy(msg, "evil.test", "arc=pass")
    return msg


def check_replay(R, dns):
    """the replayed trusted set under an untrusted hop's valid seal: arc=pass
    (RFC 8617 chain validation passes, oldest-pass=2) but no override: 550"""
    attack = replayed()
    seals = [f for f in field_lines(attack)[0] if is_arc(f, b"arc-seal")]
    R.ok("replay: the attacker's seal is i=2 cv=pass d=evil.test",
         len(seals) == 2 and re.search(rb"\bi=2;", seals[0]) is not None and
         b"cv=pass" in seals[0] and b"d=evil.test" in seals[0], seals)
    for trusted, qid in ((["trusted.test"], "R1"), ([], "R2")):
        with Milter(conf(dns, trusted=trusted, on_reject="reject")) as m:
            r = send(m, attack, qid)
            line = m.wait_log(r"%s: inbound " % qid, 5) or ""
            f = inbound_log_fields(line) if line else {}
            what = "trusted.test trusted" if trusted else "no trusted sealer"
            R.eq("replay (%s): chain passes" % what, f.get("arc"), "pass")
            R.eq("replay (%s): arc.oldest-pass=2" % what, f.get("arc.oldest-pass"), "2")
            R.eq("replay (%s): dmarc=fail" % what, f.get("dmarc"), "fail")
            R.eq("replay (%s): rejected" % what, r["action"], "reject")
            R.ok("replay (%s): 550" % what, (r["reply"] or "").startswith("550"),
                 r["reply"])
            R.ok("replay (%s): no override" % what, "override=" not in line, line)
            if not trusted:
                continue
            r = send(m, replayed(evil_seal=False), "R3")
            line = m.wait_log(r"R3: inbound ", 5) or ""
            f = inbound_log_fields(line) if line else {}
            R.eq("replayed set alone: arc=fail", f.get("arc"), "fail")
            R.eq("replayed set alone: rejected", r["action"], "reject")
            R.ok("replayed set alone: 550", (r["reply"] or "").startswith("550"),
                 r["reply"])
            # the genuine message with the trusted sealer as the newest hop
            r = send(m, paypal_sealed(), "R4")
            line = m.wait_log(r"R4: inbound ", 5) or ""
            R.eq("genuine trusted newest hop: accepted", r["action"], "accept")
            R.ok("genuine trusted newest hop: override=arc sealer=trusted.test",
                 "override=arc sealer=trusted.test" in line, line)


def check_postfix(R, dns):
    """the list message into the test Postfix (XCLIENT: from the list's address):
    delivered when authmilter trusts lists.example, 550 5.7.1 when it does not"""
    import mta
    from test_postfix import postfix_socket
    if os.geteuid() != 0:
        R.fail("postfix: needs root (Postfix starts as root)")
        return
    msg = chain("postfix", ["dkimpy", "mdkim"])
    xclient = "ADDR=%s NAME=lists.example HELO=lists.example" % IP
    for trusted in (["lists.example", "fwd.example"], []):
        what = "trusted" if trusted else "untrusted"
        wd = mta.make_workdir("/tmp/authmilter-arc-")
        m = Milter(conf(dns, trusted=trusted, on_reject="reject"), inet=True)
        sink = mta.SmtpSink(wd).start()
        pf = mta.Postfix(wd, postfix_socket(m.socket), sink.port)
        try:
            pf.start()
            r = mta.smtp_send(pf.port, MAILFROM, ["user@example.com"], msg,
                              helo="lists.example", xclient=xclient)
            if trusted:
                got = sink.new_messages(1, 20)
                R.ok("postfix, sealer trusted: delivered", r.accepted and got, r)
                line = m.wait_log(r"inbound client=lists\.example\[%s\]" % IP, 5) or ""
                R.ok("postfix, sealer trusted: logged override=arc sealer=lists.example",
                     re.search(r"dmarc=fail .*arc=pass .*action=accept .*override=arc "
                               r"sealer=lists\.example", line) is not None, line)
                body = mta.split_sink_file(got[0][1])[1] if got else b""
                ars = [" ".join(h.split()) for h in mta.header_lines(body)
                       if h.lower().startswith("authentication-results: " + AUTHSERV)]
                R.ok("postfix, sealer trusted: delivered A-R says arc=pass "
                     "header.oldest-pass=0 smtp.remote-ip=%s" % IP,
                     any("arc=pass header.oldest-pass=0 smtp.remote-ip=%s" % IP in a
                         for a in ars), ars)
            else:
                R.ok("postfix, sealer not trusted: 550 5.7.1 (%s)" % r.final,
                     r.final.code == 550 and r.final.text.startswith("5.7.1"), r)
                R.ok("postfix, sealer not trusted: nothing delivered",
                     not sink.new_messages(1, 2), what)
        finally:
            pf.stop()
            sink.stop()
            m.stop()


def check_config(R):
    m = Milter('arc {\n  verify = true\n  trusted_sealers = { "lists.example", '
               '"bad name;" }\n}', start=False)
    p = subprocess.run([AUTHMILTER, "-n", "-c", m.config_path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode()
    R.ok("bad trusted_sealers entry refused", p.returncode != 0, out)
    R.ok("the error names file, line and arc.trusted_sealers",
         re.search(r":\d+: arc\.trusted_sealers: \"bad name;\" is not a domain name", out)
         is not None, out)


def main():
    R = Results()
    table = cases()
    with DNSServer(RECORDS, extra_conf=EXTRA) as dns:
        ours = []
        with Milter(conf(dns)) as m:
            for i, c in enumerate(table):
                ours.append(R.run(c["name"], check_case, R, m, c, "A%02d" % i))
            R.ok("daemon still runs after the bad chains", m.running(), m.log_tail())
        R.run("other verifiers", compare, R, dns, table, ours)
        R.run("policy", check_policy, R, dns)
        R.run("postfix", check_postfix, R, dns)
    R.run("config", check_config, R)
    R.exit()


if __name__ == "__main__":
    main()
