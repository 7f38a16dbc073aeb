#!/usr/bin/python3
"""test_check_message - authmilter-check --message replays the daemon's verdict
(issue 29).

Each inbound scenario goes twice through the same configuration and the same
unbound on loopback: once through the real daemon (miltc over its socket), once
through `authmilter-check --message` with the same client address, client
name, HELO and MAIL FROM. The verdict line (the daemon's log line, queue id
aside) and the Authentication-Results field must be identical, the exit status
must follow the action (0 accept, 1 quarantine/reject/tempfail), and the steps
must name the deciding one (the policy step that gives the verdict's by=).

Scenarios: SPF pass/fail/softfail/temperror, DKIM pass/fail/none, DMARC pass and
fail under p=none, p=quarantine, p=reject and np=, a tree walk to the
organizational domain, a forged A-R, several From headers, an ARC chain sealed
by a trusted sealer. Then: the text output (steps, verdict, the note that DNS
answers are today's), control characters from the message masked, --json
escaping, and exit 2 for a missing file or a bad config.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR, Milter, Results, run_miltc, tmpdir  # noqa: E402
from dnsserver import DNSServer, txt  # noqa: E402
import test_inbound as ti  # noqa: E402
import test_arc_verify as ta  # noqa: E402

CHECK = os.path.join(BUILDDIR, "milter", "authmilter-check")
AUTHSERV = ti.AUTHSERV


def cases():
    """(name, ip, helo, mailfrom, message, expected action)"""
    good = (ti.IP_GOOD, "mail.example.org")
    fwd = (ti.IP_FWD, "fwd.example.net")
    m = ti.message
    signed = ti.sign(m(subject="altered"), "example.org")
    return [
        ("SPF pass, DMARC pass via SPF", good, "x@example.org", m(), "accept"),
        ("SPF fail without DMARC", fwd, "x@example.org",
         m("a@nodmarc.com", subject="spffail"), "reject"),
        ("SPF softfail", fwd, "x@example.net", m("a@nodmarc.com", subject="soft"),
         "accept"),
        ("SPF temperror", good, "x@spftemp.com", m("a@nodmarc.com", subject="spftemp"),
         "tempfail"),
        ("DKIM pass with SPF fail (forwarded)", fwd, "x@example.org",
         ti.sign(m(subject="forwarded"), "example.org"), "accept"),
        ("DKIM fail: body altered", good, "x@example.org",
         signed.replace(b"Second line.", b"Second line!"), "accept"),
        ("DKIM none, DMARC fail under p=reject", good, "x@example.com",
         m(subject="neither"), "reject"),
        ("DMARC fail under p=quarantine", good, "x@example.org",
         m("a@example.net", subject="quar"), "quarantine"),
        ("DMARC fail under p=none", good, "x@example.org",
         m("a@sptest.com", subject="pnone"), "accept"),
        ("np= for a non-existent subdomain", good, "x@example.org",
         m("a@nx.sptest.com", subject="np"), "reject"),
        ("tree walk to the org domain under co.uk", good, "x@example.co.uk",
         m("a@a.b.example.co.uk", subject="couk"), "accept"),
        ("forged A-R removed", good, "x@example.org",
         m(subject="forged", extra=[
             "Authentication-Results: " + AUTHSERV.upper() +
             " (forged);\n\tdkim=pass header.d=example.org"]), "accept"),
        ("several From headers", good, "x@example.org",
         m(from_lines=["From: a@example.org", "From: b@example.org"],
           subject="twofrom"), "reject"),
        ("ARC chain sealed by a trusted sealer", (ta.IP, "lists.example"),
         ta.MAILFROM, ta.chain("arcok", ["dkimpy"]), "accept"),
    ]


def daemon_run(m, ip, helo, mailfrom, msg, qid):
    """the daemon's verdict line (queue id made NOQUEUE) and its A-R field"""
    r = run_miltc(m.socket, msg, client_addr=ip, client_name="[%s]" % ip, helo=helo,
                  mail_from=mailfrom, rcpts=["rcpt@example.net"], queue_id=qid)
    line = m.wait_log(r"authmilter: %s: (inbound|outbound) " % qid, 5) or ""
    line = line.split("authmilter: ", 1)[-1].replace(qid + ": ", "NOQUEUE: ", 1)
    ar = [v for n, v in r["added"] if n == "Authentication-Results"]
    return r["action"], line, ("Authentication-Results:" + ar[0]) if ar else None


def tool_run(conf, ip, helo, mailfrom, msg, *extra):
    """authmilter-check --message on msg: (exit status, stdout)"""
    path = os.path.join(tmpdir(), "msg.eml")
    with open(path, "wb") as f:
        f.write(msg)
    argv = [CHECK, "-c", conf, "--message", path, "--ip", ip, "--client-name",
            "[%s]" % ip, "--helo", helo, "--mail-from", mailfrom] + list(extra)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def check_case(R, m, case, qid):
    name, (ip, helo), mailfrom, msg, want = case
    action, line, ar = daemon_run(m, ip, helo, mailfrom, msg, qid)
    R.eq("%s: the daemon's action" % name, action, want)
    rc, out, err = tool_run(m.config_path, ip, helo, mailfrom, msg, "--json")
    try:
        j = json.loads(out)
    except ValueError as e:
        R.fail("%s: --json output parses" % name, "%s: %r %s" % (e, out[:300], err))
        return
    R.ok("%s: the daemon logged its verdict" % name, line != "", m.log_tail(5))
    R.eq("%s: the same verdict line" % name, j["verdict"], line)
    R.eq("%s: the same Authentication-Results" % name, j["authentication_results"], ar)
    R.eq("%s: the tool's action" % name, j["action"], want)
    R.eq("%s: exit status by the action" % name, rc, 0 if want == "accept" else 1)
    by = re.search(r" by=(\S+)", line)
    decision = [s["text"] for s in j["steps"] if s["step"] == "policy" and
                s["text"].startswith("decision: ")]
    R.eq("%s: the policy step names the deciding check" % name, decision,
         ["decision: %s by=%s" % (want, by.group(1))] if by else
         ["decision: accept by=none (nothing asked for an action)"])
    return j


def check_steps(R, outs):
    """the steps a reader needs are there, in the scenarios that have them"""
    def steps(name, kind):
        return [s["text"] for s in outs.get(name, {}).get("steps", []) if s["step"] == kind]
    R.ok("DNS steps show the _dmarc question with its answer and TTL",
         any(re.match(r'TXT _dmarc\.example\.org: ok ttl=\d+ .*"v=DMARC1; p=reject"', t)
             for t in steps("SPF pass, DMARC pass via SPF", "dns")),
         "\n".join(steps("SPF pass, DMARC pass via SPF", "dns")))
    want = {
        "SPF fail without DMARC": [
            ("spf", r"^mailfrom x@example\.org: fail .*; \d+ DNS-querying terms of 10, "
                    r"\d+ void lookups of 2$"),
            ("spf", r"^the record of example\.org: v=spf1 ip4:192\.0\.2\.10 -all"),
            ("iprev", r"^192\.0\.2\.50: pass \(forward-confirmed\) name=fwd\.example\.net$"),
            ("policy", r"^spf asks reject: SPF fail")],
        "DKIM fail: body altered": [
            ("dkim", r"^signature 1 d=example\.org s=rsa a=rsa-sha256: fail "
                     r"\(body hash mismatch\); l=-1 t=\d+ x=-1")],
        "np= for a non-existent subdomain": [
            ("dmarc", r"^walk from nx\.sptest\.com: _dmarc\.nx\.sptest\.com: no record$"),
            ("dmarc", r"^walk from nx\.sptest\.com: _dmarc\.sptest\.com: a record$"),
            ("dmarc", r"^walk from nx\.sptest\.com: organizational domain sptest\.com$"),
            ("dmarc", r"^SPF domain example\.org against From nx\.sptest\.com \(relaxed\): "
                      r"not aligned$"),
            ("dmarc", r"^From nx\.sptest\.com: fail \(no aligned pass; np=reject\); "
                      r"policy domain sptest\.com, organizational domain sptest\.com")],
        "tree walk to the org domain under co.uk": [
            ("dmarc", r"^walk from a\.b\.example\.co\.uk: organizational domain "
                      r"example\.co\.uk$"),
            ("dmarc", r"^SPF domain example\.co\.uk against From a\.b\.example\.co\.uk "
                      r"\(relaxed\): aligned$")],
        "ARC chain sealed by a trusted sealer": [
            ("arc", r"^set i=1 \(cv=none\) sealed by lists\.example: "
                    r"ARC-Message-Signature pass; .* vouches for the author: dkim$"),
            ("arc", r"^ARC-Seal i=1 by lists\.example: pass$"),
            ("arc", r"^chain of 1 sets: pass; oldest-pass=0, newest sealer lists\.example$"),
            ("policy", r"^DMARC fail overridden: .*trusted sealer lists\.example")],
    }
    for name, pats in want.items():
        for kind, pat in pats:
            R.ok("%s: a %s step matches %s" % (name, kind, pat),
                 any(re.search(pat, t) for t in steps(name, kind)),
                 "\n".join(steps(name, kind)))
    R.ok("a DNS temporary failure is shown as one",
         any("spftemp.com: tempfail" in t for t in steps("SPF temperror", "dns")),
         "\n".join(steps("SPF temperror", "dns")))


def check_text(R, m):
    """the text output: steps, the verdict line, the A-R, the DNS note; a control
    character from the message is masked"""
    msg = ti.message(subject="ctl\x1b[31mred")
    rc, out, err = tool_run(m.config_path, ti.IP_GOOD, "mail.example.org",
                            "x@example.org", msg)
    lines = out.splitlines()
    R.eq("text: exit 0 for accept", rc, 0)
    R.ok("text: a verdict line", any(x.startswith("verdict NOQUEUE: inbound client=")
                                     for x in lines), out)
    R.ok("text: the A-R field", any(x.startswith("header  Authentication-Results: "
                                                 + AUTHSERV) for x in lines), out)
    R.ok("text: DNS answers are said to be today's",
         any(x.startswith("note ") and "current" in x for x in lines), out)
    R.ok("text: no escape byte reaches the terminal", "\x1b" not in out, repr(out[:200]))


def check_input(R, m):
    """an mbox separator is skipped, a "From :" field is not; --json escapes what
    came from the envelope and the message"""
    msg = ti.message()
    args = (m.config_path, ti.IP_GOOD, "mail.example.org", "x@example.org", )
    _, plain, _ = tool_run(*args, msg, "--json")
    _, mbox, _ = tool_run(*args, b"From x@example.org Mon Jan  1 00:00:00 2024\n" + msg,
                          "--json")
    R.eq("an mbox From line is skipped: the same verdict",
         json.loads(mbox)["verdict"], json.loads(plain)["verdict"])
    _, obs, _ = tool_run(*args, msg.replace(b"From: ", b"From : ", 1), "--json")
    R.eq("\"From : a@example.org\" is a From field (Postfix's is_header)",
         json.loads(obs)["verdict"], json.loads(plain)["verdict"])
    odd = 'q"uo\\te\x01@example.org'
    rc, out, err = tool_run(m.config_path, ti.IP_GOOD, "mail.example.org", odd,
                            msg, "--json")
    try:
        j = json.loads(out)
    except ValueError as e:
        R.fail("--json with a quote, a backslash and a control byte parses", str(e))
        return
    R.ok("--json keeps a quote, a backslash and a control byte as escapes",
         any(odd in s["text"] for s in j["steps"] if s["step"] == "spf"),
         "\n".join(s["text"] for s in j["steps"] if s["step"] == "spf"))


def check_errors(R, m):
    rc, out, err = tool_run(m.config_path, ti.IP_GOOD, "h.example", "x@example.org",
                            b"")
    R.eq("an empty message still runs (no From: rejected)", rc, 1)
    p = subprocess.run([CHECK, "-c", m.config_path, "--message", "/nonexistent/x.eml",
                        "--ip", ti.IP_GOOD], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    R.eq("a missing message file: exit 2", p.returncode, 2)
    bad = os.path.join(tmpdir(), "bad.conf")
    with open(bad, "w") as f:
        f.write("no_such_key = 1\n")
    rc, out, err = tool_run(bad, ti.IP_GOOD, "h.example", "x@example.org", b"")
    R.eq("a bad configuration: exit 2", rc, 2)
    p = subprocess.run([CHECK, "--message", "x.eml"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    R.eq("--message without --ip: exit 2", p.returncode, 2)


def main():
    R = Results()
    records = ti.RECORDS + [r for r in ta.RECORDS if r not in ti.RECORDS]
    with DNSServer(records, ptrs=ti.PTRS + [(ta.IP, "lists.example")],
                   extra_conf=ti.EXTRA) as dns:
        base = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [dns.address], "timeout": 2},
                "arc": {"trusted_sealers": ["lists.example"]}}
        outs = {}
        with Milter(base) as m:
            for i, c in enumerate(cases()):
                outs[c[0]] = R.run(c[0], check_case, R, m, c, "Q%03d" % i) or {}
            R.run("steps", check_steps, R, outs)
            R.run("text output", check_text, R, m)
            R.run("input", check_input, R, m)
            R.run("errors", check_errors, R, m)
    R.exit()


if __name__ == "__main__":
    main()
