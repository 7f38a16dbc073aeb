#!/usr/bin/python3
"""test_authres_parsers - our Authentication-Results values, read by two
independent parsers: python3-authres (authres.AuthenticationResultsHeader.parse)
and Perl Mail::AuthenticationResults::Parser.

tests/unit/test_authres FILE writes the values it built (and checked byte for
byte) as "NAME HEXVALUE" lines; each is parsed here and the authserv-id, the
methods, results and properties compared with what we meant to say.

Neither parser handles RFC 2045 quoted-pair escapes (\\" and \\\\) inside a quoted
value (python-authres returns them still escaped, Mail::AuthenticationResults 2.x
refuses the whole header, "Quoted string not closed"), and a naive reader splits on
';' and spaces inside quotes: since issue 11 we never write such a value. A value
that would need them is written as its domain alone, or "invalid" (the "escapes"
and "injection" cases), and both parsers read it as meant.
"""
import json
import os
import subprocess
import sys
import tempfile

import authres

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR, Results  # noqa: E402

# name -> (authserv-id, [(method, result, {ptype.property: value})])
EXPECT = {
    "full": ("mx.example.com", [
        ("iprev", "pass", {"policy.iprev": "192.0.2.10"}),
        ("spf", "pass", {"smtp.mailfrom": "user@example.org"}),
        ("spf", "none", {"smtp.helo": "mail.example.org"}),
        ("dkim", "pass", {"header.d": "example.org", "header.i": "@example.org",
                          "header.s": "sel1", "header.b": "ab/+cd=E"}),
        ("dmarc", "pass", {"header.from": "example.org"}),
    ]),
    "none": ("mx.example.com", []),
    # the forged "; dkim=pass" never appears, not even quoted; nor does CRLF
    "injection": ("mx.example.com", [
        ("spf", "fail", {"smtp.mailfrom": "invalid"}),
        ("dkim", "fail", {"header.d": "invalid"}),
    ]),
    "ipv6": ("mx.example.com", [
        ("iprev", "fail", {"policy.iprev": "2001:db8::1"}),
        ("dmarc", "fail", {"header.from": "example.com"}),
    ]),
    "errors": ("mx.example.com", [
        ("spf", "temperror", {"smtp.mailfrom": "example.net"}),
        ("dkim", "permerror", {"header.d": ""}),
    ]),
    "render": ("mx.example.com", [
        ("iprev", "pass", {"policy.iprev": "192.0.2.10"}),
        ("spf", "pass", {"smtp.mailfrom": "bounce@example.org"}),
        ("dkim", "policy", {"header.d": "example.org", "header.i": "@example.org",
                            "header.s": "sel1", "header.a": "rsa-sha256"}),
        ("dkim", "pass", {"header.d": "example.org", "header.s": "sel2",
                          "header.a": "ed25519-sha256"}),
        ("dmarc", "pass", {"header.from": "example.org", "policy.dmarc": "reject"}),
    ]),
    "escapes": ("mx.example.com", [
        ("spf", "pass", {"smtp.mailfrom": "example.net"}),
        ("dmarc", "fail", {"header.from": "invalid"}),
    ]),
}

PERL = r'''
use strict; use warnings;
use JSON::PP;
use Mail::AuthenticationResults::Parser;
my @out;
while (my $line = <STDIN>) {
    chomp $line;
    my ($name, $hex) = split / /, $line;
    my $v = pack("H*", $hex // "");
    my $h = eval {
        Mail::AuthenticationResults::Parser->new()->parse("Authentication-Results: $v")
    };
    if (!$h) { my $e = $@; $e =~ s/\s+$//; push @out, [$name, undef, $e]; next }
    my @res;
    for my $e (@{$h->children()}) {
        next unless $e->isa('Mail::AuthenticationResults::Header::Entry');
        my %p;
        for my $c (@{$e->children()}) {
            next unless $c->isa('Mail::AuthenticationResults::Header::SubEntry');
            $p{$c->key()} = $c->value();
        }
        push @res, [$e->key(), $e->value(), \%p];
    }
    push @out, [$name, $h->value()->value(), \@res];
}
print encode_json(\@out);
'''

R = Results()


def report(ok, name):
    """report - one check, in this file's argument order"""
    R.ok(name, ok)


def python_view(value):
    h = authres.AuthenticationResultsHeader.parse(
        "Authentication-Results: " + value)
    res = []
    for r in h.results:
        props = {"%s.%s" % (p.type, p.name): p.value for p in r.properties}
        res.append((r.method, r.result, props))
    return h.authserv_id, res


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "built.txt")
        unit = os.path.join(BUILDDIR, "tests", "unit", "test_authres")
        r = subprocess.run([unit, path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        report(r.returncode == 0, "test_authres built and wrote the headers")
        if r.returncode != 0:
            sys.stdout.write(r.stdout.decode(errors="replace"))
            return
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip()]
    built = {}
    for l in lines:
        name, _, hexv = l.partition(" ")
        built[name] = bytes.fromhex(hexv).decode("utf-8")
    report(set(built) == set(EXPECT), "every expected header was built")

    for name, value in built.items():
        report("\n" not in value.replace("\r\n\t", "")
               and "\r" not in value.replace("\r\n\t", ""),
               "%s: line breaks only as folds" % name)

    # python3-authres
    for name, value in sorted(built.items()):
        want_id, want = EXPECT[name]
        try:
            got_id, got = python_view(value)
        except Exception as e:  # a parse error is a failure, with its reason
            report(False, "python authres parses %s (%r)" % (name, e))
            continue
        report(got_id == want_id, "python authres %s: authserv-id" % name)
        report(got == want, "python authres %s: results %r" % (name, got))

    # Perl Mail::AuthenticationResults
    inp = "".join("%s %s\n" % (n, v.encode("utf-8").hex())
                  for n, v in sorted(built.items()))
    r = subprocess.run(["perl", "-e", PERL], input=inp.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    report(r.returncode == 0, "perl parser ran (%s)" %
           r.stderr.decode(errors="replace").strip()[:200])
    if r.returncode != 0:
        return
    for name, got_id, got in json.loads(r.stdout):
        want_id, want = EXPECT[name]
        if got_id is None:
            report(False, "perl parses %s (%s)" % (name, got))
            continue
        got = [(m, res, p) for m, res, p in got]
        report(got_id == want_id, "perl %s: authserv-id" % name)
        report(got == want, "perl %s: results %r" % (name, got))


main()
print("# %d failed" % R.failed)
R.exit()
