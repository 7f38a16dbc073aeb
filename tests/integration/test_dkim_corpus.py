#!/usr/bin/python3
"""test_dkim_corpus - the shapes of outside DKIM corpora, through the real daemon
and Mail::DKIM in strict mode on the same loopback DNS (issue 14).

Mail::DKIM's t/corpus, OpenDKIM's libopendkim tests and Stalwart mail-auth's samples
carry signature and key-record shapes our own signer never writes. Their files are
not copied; each shape is rebuilt here as a good RSA signature (tests/integration/
dkimsig.py: dkimpy hashes and signs whatever tag list it is given), so only the
tag under test is odd:

  i= in dkim-quoted-printable, x= in the past, t= in the future, g= in key records
  (RFC 4871, gone from RFC 6376), q= lists, key t=s with a subdomain i=, a
  DomainKey-Signature alone, v= absent or 0.5, a bad quoted-printable i=.

Each message goes through authmilter (miltc over its socket; the dkim= result and
the reason comment of its Authentication-Results are checked) and through
Mail::DKIM::Verifier (libmail-dkim-perl) with Strict => 1, whose DKIM verdict
(pass, fail, invalid = permerror, temperror, none) must agree with ours; where
it must not, the case names the RFC section that decides it, and the difference
is printed as "difference - ..." (counted apart by run-suite, never as ok).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, run_miltc, tmpdir  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402
from dkimsig import sign_tags  # noqa: E402

import authres  # noqa: E402

AUTHSERV = "mx.test.example"
DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
IP = "192.0.2.10"

with open(os.path.join(DKIMPY_DATA, "2048_testkey.key"), "rb") as _f:
    RSA_KEY = _f.read()
with open(os.path.join(DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt")) as _f:
    P = re.search(r"p=(\S+)", _f.read()).group(1)

RECORDS = [
    a("mail.example.org", IP), a("example.org", "192.0.2.1"),
    txt("example.org", "v=spf1 ip4:%s -all" % IP),
    txt("rsa._domainkey.example.org", "v=DKIM1; k=rsa; p=" + P),
    # RFC 4871 granularity: RFC 6376 §3.6.1 lists no g= among the key tags, and
    # unrecognized tags MUST be ignored, so it decides nothing here
    txt("gran._domainkey.example.org", "v=DKIM1; g=jlong; k=rsa; p=" + P),
    txt("strict._domainkey.example.org", "v=DKIM1; k=rsa; t=s; p=" + P),
    txt("qlist._domainkey.example.org", "v=DKIM1; k=rsa; p=" + P),
]

# Mail::DKIM strict over files: FILE TAB RESULT TAB DETAIL for the first DKIM
# (not DomainKeys) signature, "none" when there is none.
PERL = r'''
use strict; use warnings;
use Mail::DKIM::Verifier; use Mail::DKIM::DNS; use Net::DNS::Resolver;
my $port = shift @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $port, recurse => 1, udp_timeout => 3, tcp_timeout => 3, retry => 2));
for my $f (@ARGV) {
    open(my $fh, '<:raw', $f) or die "$f: $!";
    my $v = Mail::DKIM::Verifier->new(Strict => 1);
    local $/; my $m = <$fh>; close($fh);
    $m =~ s/\r?\n/\r\n/g;
    $v->PRINT($m);
    $v->CLOSE();
    my ($s) = grep { !$_->isa('Mail::DKIM::DkSignature') } $v->signatures;
    my ($r, $d) = $s ? ($s->result // '', $s->result_detail // '') : ('none', '');
    $d =~ s/[\t\r\n]/ /g;
    print join("\t", $f, $r, $d), "\n";
}
'''
MAP = {"pass": "pass", "fail": "fail", "invalid": "permerror",
       "temperror": "temperror", "none": "none"}


def message(subject):
    return ("From: jlong@example.org\nTo: rcpt@example.net\nSubject: %s\n"
            "Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
            "Message-ID: <%s@test.example>\n\nHello.\n" % (
                subject, re.sub(r"\W", "", subject))).encode()


def signed(subject, sel="rsa", **over):
    """A good signature over message(subject); over replaces or (value None)
    drops a tag, or adds one after the usual tags."""
    now = int(time.time())
    tags = [("v", "1"), ("a", "rsa-sha256"), ("c", "relaxed/simple"),
            ("d", "example.org"), ("s", sel), ("t", str(now)),
            ("h", "from:to:subject:date:message-id")]
    names = [k for k, _ in tags]
    tags = [(k, over.get(k, v)) for k, v in tags]
    tags += [(k, v) for k, v in over.items() if k not in names]
    tags = [(k.encode(), v.encode()) for k, v in tags if v is not None]
    return sign_tags(message(subject), tags, RSA_KEY)


def cases():
    now = int(time.time())
    dk = (b"DomainKey-Signature: a=rsa-sha1; q=dns; c=nofws; s=rsa; d=example.org;\n"
          b" h=from:to:subject; b=dGVzdHNpZ25hdHVyZQ==\n")
    # name, message, our (result, reason part), Mail::DKIM's result when it must
    # differ and the RFC section that decides it
    return [
        ("plain signature", signed("plain"), ("pass", ""), None),
        ("i= qp '@' (jlong=40example.org)", signed("qp1", i="jlong=40example.org"),
         ("pass", ""), None),
        ("i= qp '.' (jlong@example=2Eorg)", signed("qp2", i="jlong@example=2Eorg"),
         ("pass", ""), None),
        ("i= qp in a subdomain (@mail=2Eexample.org)",
         signed("qp3", i="@mail=2Eexample.org"), ("pass", ""), None),
        ("i= bad qp (jlong=ZZ@example.org)", signed("qp4", i="jlong=ZZ@example.org"),
         ("permerror", "bad quoted-printable in i="),
         ("pass", "RFC 6376 §2.11: '=' must start a hex-octet; Mail::DKIM keeps "
          "'=ZZ' as it is")),
        ("i= qp decoding outside d= (=40example=2Enet)",
         signed("qp5", i="jlong=40example=2Enet"),
         ("permerror", "i= is not within d="), None),
        ("x= an hour in the past", signed("exp", t=str(now - 86400), x=str(now - 3600)),
         ("permerror", "signature expired"), None),
        ("x= an hour ahead", signed("fresh", x=str(now + 3600)), ("pass", ""), None),
        ("t= an hour in the future", signed("future", t=str(now + 3600)),
         ("permerror", "t= in the future"),
         ("pass", "RFC 6376 §3.5 t=: verifiers MAY ignore signatures with a "
          "timestamp in the future; Mail::DKIM does not check t=")),
        ("key g=jlong, i=jlong@ (g= matches)", signed("g1", sel="gran",
                                                     i="jlong@example.org"),
         ("pass", ""), None),
        ("key g=jlong, i=other@ (RFC 4871 granularity)",
         signed("g2", sel="gran", i="other@example.org"), ("pass", ""),
         ("permerror", "RFC 6376 §3.6.1 has no g= and ignores unrecognized key "
          "tags; Mail::DKIM still applies RFC 4871 §3.6.1 granularity")),
        ("q=dns/txt:foo", signed("q1", sel="qlist", q="dns/txt:foo"), ("pass", ""), None),
        ("q=foo:dns/txt", signed("q2", sel="qlist", q="foo:dns/txt"), ("pass", ""), None),
        ("q=foo/bar only", signed("q3", sel="qlist", q="foo/bar"),
         ("permerror", "q= does not include dns/txt"), None),
        ("key t=s, i= in d=", signed("ts1", sel="strict", i="@example.org"),
         ("pass", ""), None),
        ("key t=s, i= in a subdomain (RFC 6376 §3.6.1)",
         signed("ts2", sel="strict", i="@mail.example.org"),
         ("permerror", "key t=s forbids i= subdomain"), None),
        ("DomainKey-Signature only", dk + message("dk"), ("none", ""), None),
        ("v= absent", signed("nov", v=None), ("permerror", "missing v="),
         ("pass", "RFC 6376 §6.1.1: PERMFAIL when a required tag (v=, §3.5) is "
          "missing; Mail::DKIM accepts a missing v= for older signers")),
        ("v=0.5", signed("v05", v="0.5"), ("permerror", "unsupported v="),
         ("pass", "RFC 6376 §6.1.1: PERMFAIL (incompatible version) unless v=1; "
          "Mail::DKIM still accepts the pre-RFC draft's 0.5")),
    ]


def ours(m, msg, qid):
    """(result, comment) of the daemon's one dkim= method."""
    r = run_miltc(m.socket, msg, client_addr=IP, client_name="mail.example.org",
                  helo="mail.example.org", mail_from="x@example.org",
                  rcpts=["rcpt@example.net"], queue_id=qid)
    ars = [mod[3] for mod in r["mods"] if mod[2].lower() == "authentication-results"]
    if len(ars) != 1:
        return ("no A-R: %s" % r["action"], "")
    h = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + ars[0])
    got = [x.result for x in h.results if x.method == "dkim"]
    flat = re.sub(r"\s+", " ", ars[0])
    c = re.search(r"\bdkim=\w+ \(([^)]*)\)", flat)
    return (got[0] if len(got) == 1 else repr(got), c.group(1) if c else "")


def mail_dkim(files, port):
    p = subprocess.run(["perl", "-e", PERL, str(port)] + files, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f, r, d = (line.split("\t") + ["", ""])[:3]
        out[f] = (MAP.get(r, r), d)
    return out, p.stderr.decode("utf-8", "replace")[-400:]


def main():
    R = Results()
    table = cases()
    work = tmpdir()
    files = []
    for i, (name, msg, _, _) in enumerate(table):
        path = os.path.join(work, "case%02d.eml" % i)
        with open(path, "wb") as f:
            f.write(msg)
        files.append(path)
    with DNSServer(RECORDS) as dns:
        conf = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [dns.address], "timeout": 2}}
        with Milter(conf) as m:
            got = [R.run(name, ours, m, msg, "C%03d" % i)
                   for i, (name, msg, _, _) in enumerate(table)]
        theirs, err = mail_dkim(files, dns.port)
    R.ok("Mail::DKIM answered every case", len(theirs) == len(files), err)
    agree = 0
    for (name, _, want, diff), g, path in zip(table, got, files):
        if g is None:
            continue
        R.eq("authmilter: %s" % name, g[0], want[0])
        if want[1]:
            R.ok("authmilter: %s: reason %r" % (name, want[1]), want[1] in g[1], g[1])
        t = theirs.get(path)
        if t is None:
            continue
        if diff is None:
            if R.ok("Mail::DKIM (strict) agrees: %s" % name, t[0] == g[0],
                    "Mail::DKIM %s (%s), authmilter %s" % (t[0], t[1], g[0])):
                agree += 1
        elif t[0] == diff[0] and g[0] == want[0]:
            R.difference("Mail::DKIM (strict): %s" % name, "Mail::DKIM %s (%s), "
                         "authmilter %s: %s" % (t[0], t[1], g[0], diff[1]))
        else:
            R.fail("Mail::DKIM (strict) differs as expected: %s" % name,
                   "Mail::DKIM %s (%s), want %s; authmilter %s" % (
                       t[0], t[1], diff[0], g[0]))
    print("# corpus shapes: %d cases, Mail::DKIM agrees on %d, %d expected "
          "differences" % (len(table), agree, len(R.differences)))
    R.exit()


if __name__ == "__main__":
    main()
