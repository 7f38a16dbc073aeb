#!/usr/bin/python3
"""test_dmarc9989 - DMARC as RFC 9989 (May 2026) has it, through the real daemon
and a real unbound on loopback (issue 13).

One scenario table, each case a message sent by miltc: the t= testing flag, pct
ignored, organizational domains by tree walk (a record below the org domain,
psd=n, psd=y, several records at one name, the 13-label name and its exact 8
queries from unbound's query log), tag parsing (v=dmarc1, no p and no rua, p
missing with a rua, any order, !size), sp for existing and np for non-existent
subdomains (NXDOMAIN vs NODATA, a dangling CNAME, SERVFAIL on the existence
query), a repeated tag making a record invalid, SERVFAIL in the
middle of a walk, relaxed alignment by a walk per identifier (RFC 9989 App. B.4.3)
and the cap on walks per message. Each case checks the action, the log line
(dmarc, discovery, policy.domain, policy.dmarc, dns-failed) and the A-R header
(policy.dmarc, the policy domain in the comment, the failed query on temperror).

The same messages then go through a daemon with dmarc.discovery = "psl" (RFC 7489
with the Public Suffix List) where the verdicts differ, and every case's verdict is
diffed against mailauth (npm, 7.x), an independent RFC 9989 implementation, run
on the same DNS server; every difference is asserted and explained. mailauth is
installed by .ci/run under MAILAUTH_PREFIX (default /var/cache/authmilter-test-node).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AUTHMILTER, Milter, Results, inbound_log_fields,  # noqa: E402
                     run_miltc)
from dnsserver import DNSServer, a, cname, mx, refuse_zone, txt  # noqa: E402
from test_inbound import RSA_KEY, RSA_PUB, message, sign  # noqa: E402

import authres  # noqa: E402

AUTHSERV = "mx.test.example"
IP = "192.0.2.10"
SPF = "v=spf1 ip4:%s -all" % IP
MAILAUTH_PREFIX = os.environ.get("MAILAUTH_PREFIX", "/var/cache/authmilter-test-node")
HERE = os.path.dirname(os.path.abspath(__file__))

LONG = "a.b.c.d.e.f.g.h.i.j.mail.thirteen.example"      # 13 labels
CAP_SIGNERS = ["s%d.cap.example" % i for i in range(1, 9)] + ["ok.cap.example"]

RECORDS = [
    a("mail.example.org", IP),
    # t=y and pct
    a("testing.example", "192.0.2.1"),
    txt("_dmarc.testing.example", "v=DMARC1; p=reject; t=y"),
    a("testing2.example", "192.0.2.1"),
    txt("_dmarc.testing2.example", "v=DMARC1; p=quarantine; t=y"),
    a("pct.example", "192.0.2.1"), txt("_dmarc.pct.example", "v=DMARC1; p=reject; pct=0"),
    # a record only below the org domain; SPF passes for the parent
    a("mail.solo.example", "192.0.2.1"), a("solo.example", "192.0.2.1"),
    txt("solo.example", SPF), txt("_dmarc.mail.solo.example", "v=DMARC1; p=reject"),
    # psd=n below an org domain that rejects
    a("x.branch.big.example", "192.0.2.1"),
    txt("_dmarc.branch.big.example", "v=DMARC1; p=none; psd=n"),
    txt("_dmarc.big.example", "v=DMARC1; p=reject; sp=reject"),
    # tags
    a("case.example", "192.0.2.1"), txt("_dmarc.case.example", "v=dmarc1; p=reject"),
    a("norua.example", "192.0.2.1"), txt("_dmarc.norua.example", "v=DMARC1; sp=reject"),
    a("rua.example", "192.0.2.1"),
    txt("_dmarc.rua.example", "v=DMARC1; rua=mailto:d@rua.example"),
    a("order.example", "192.0.2.1"),
    txt("_dmarc.order.example", "v=DMARC1; foo=bar; aspf=r; p=quarantine; rf=afrf; ri=9"),
    a("size.example", "192.0.2.1"),
    txt("_dmarc.size.example", "v=DMARC1; p=reject; rua=mailto:d@size.example!10m"),
    # several records at the author's name: discarded, the walk goes on
    a("shop.multi.example", "192.0.2.1"),
    txt("_dmarc.shop.multi.example", "v=DMARC1; p=none"),
    txt("_dmarc.shop.multi.example", "v=DMARC1; p=reject"),
    txt("_dmarc.multi.example", "v=DMARC1; p=reject; sp=quarantine"),
    # sp and np
    txt("_dmarc.np.example", "v=DMARC1; p=none; sp=quarantine; np=reject"),
    a("a.np.example", "192.0.2.1"), mx("mxonly.np.example", 10, "mail.example.org"),
    # a dangling CNAME: alias.c49.test exists (RFC 9989 App. A.4, RFC 6604)
    txt("_dmarc.c49.test", "v=DMARC1; p=none; sp=none; np=reject"),
    cname("alias.c49.test", "gone.c49.test"),
    # a repeated tag: the record is invalid (RFC 9989 §4.7, RFC 6376 §3.2)
    a("dup.example", "192.0.2.1"), txt("_dmarc.dup.example", "v=DMARC1; p=none; p=reject"),
    a("x.dup2.example", "192.0.2.1"),
    txt("_dmarc.x.dup2.example", "v=DMARC1; p=reject; p=none"),
    txt("_dmarc.dup2.example", "v=DMARC1; p=quarantine"),
    # 13 labels; the 11-label record is never queried
    a(LONG, "192.0.2.1"),
    txt("_dmarc.thirteen.example", "v=DMARC1; p=reject; sp=quarantine"),
    txt("_dmarc.c.d.e.f.g.h.i.j.mail.thirteen.example", "v=DMARC1; p=none"),
    # PSD (App. B.4.3)
    txt("_dmarc.bank.example", "v=DMARC1; p=reject; psd=y"),
    a("mail.mega.bank.example", "192.0.2.1"),
    a("giant.bank.example", "192.0.2.1"),
    txt("_dmarc.giant.bank.example", "v=DMARC1; p=quarantine"),
    txt("mail.giant.bank.example", SPF),
    txt("rsa._domainkey.mail.giant.bank.example", RSA_PUB),
    txt("rsa._domainkey.mail.mega.bank.example", RSA_PUB),
    # SERVFAIL in the middle of a walk
    a("deep.mid.example", "192.0.2.1"),
    # the walk cap: eight signers whose own psd=n makes them their own org
    a("cap.example", "192.0.2.1"), txt("_dmarc.cap.example", "v=DMARC1; p=reject"),
] + [txt("_dmarc." + d, "v=DMARC1; p=none; psd=n") for d in CAP_SIGNERS[:-1]] \
  + [txt("rsa._domainkey." + d, RSA_PUB) for d in CAP_SIGNERS]

EXTRA = ["log-queries: yes",
         refuse_zone("sf.np.example"), 'local-zone: "_dmarc.sf.np.example." static',
         refuse_zone("_dmarc.mid.example")]

NOSPF = "x@nospf.example"       # SPF none: only DKIM can align
DUP_WHY = ("difference - mailauth's default parsing lets the last of a repeated tag "
           "win; RFC 9989 §4.7 takes RFC 6376 §3.2's tag-list, where a repeated tag "
           "makes the whole record invalid (mailauth's strict mode agrees)")


def cases():
    """name, frm (From domain), mailfrom, dkim (signers), action, dmarc, applied
    (policy.dmarc), pdom (policy domain), failed (dns-failed), psl (dmarc, action)
    under discovery=psl when it differs, ma_diff (result, policy, why) when
    mailauth differs."""
    T = []

    def add(name, frm, action, dmarc, applied=None, pdom=None, mailfrom=NOSPF,
            dkim=(), **kw):
        T.append(dict(name=name, frm=frm, mailfrom=mailfrom, dkim=list(dkim),
                      action=action, dmarc=dmarc, applied=applied, pdom=pdom, **kw))

    add("t=y: p=reject applies as quarantine", "testing.example", "quarantine",
        "fail", "quarantine", "testing.example", t=True)
    add("t=y: p=quarantine applies as none", "testing2.example", "accept", "fail",
        "none", "testing2.example", t=True)
    add("pct=0 ignored: p=reject rejects", "pct.example", "reject", "fail", "reject",
        "pct.example")
    add("record only at mail.solo.example, SPF passes for solo.example: not aligned",
        "mail.solo.example", "reject", "fail", "reject", "mail.solo.example",
        mailfrom="x@solo.example", psl=("pass", "accept"))
    add("psd=n at branch.big.example: its own policy (p=none) for x.branch",
        "x.branch.big.example", "accept", "fail", "none", "branch.big.example",
        psl=("fail", "reject"))
    add("v=dmarc1 (wrong case): no DMARC", "case.example", "accept", "none")
    add("neither valid p nor rua: no DMARC", "norua.example", "accept", "none")
    add("no p, a valid rua: p=none", "rua.example", "accept", "fail", "none",
        "rua.example")
    add("tags in any order, unknown and removed ones ignored", "order.example",
        "quarantine", "fail", "quarantine", "order.example")
    add("rua with !size: record valid", "size.example", "reject", "fail", "reject",
        "size.example")
    add("several records at the author: discarded, org's sp applies",
        "shop.multi.example", "quarantine", "fail", "quarantine", "multi.example",
        psl=("none", "accept"))
    add("sp for an existing subdomain", "a.np.example", "quarantine", "fail",
        "quarantine", "np.example")
    add("np for a non-existent subdomain (NXDOMAIN)", "nx.np.example", "reject",
        "fail", "reject", "np.example")
    add("NODATA means it exists: sp", "mxonly.np.example", "quarantine", "fail",
        "quarantine", "np.example")
    add("dangling CNAME: the name exists, sp (not np) applies", "alias.c49.test",
        "accept", "fail", "none", "c49.test")
    add("np for a non-existent name beside the dangling CNAME", "gone.c49.test",
        "reject", "fail", "reject", "c49.test")
    add("duplicated tag (p=none; p=reject): invalid record, no DMARC", "dup.example",
        "accept", "none", ignored="_dmarc.dup.example: duplicate tag p=",
        ma_diff=("fail", "reject", DUP_WHY), ma_strict=True)
    add("duplicated tag at the author: discarded, the org's record applies",
        "x.dup2.example", "quarantine", "fail", "quarantine", "dup2.example",
        ignored="_dmarc.x.dup2.example: duplicate tag p=",
        ma_diff=("fail", "none", DUP_WHY), ma_strict=True)
    add("SERVFAIL on the existence query: temperror", "sf.np.example", "tempfail",
        "temperror", None, "np.example", failed="sf.np.example/A")
    add("SERVFAIL mid-walk: temperror naming the query", "deep.mid.example",
        "tempfail", "temperror", failed="_dmarc.mid.example/TXT")
    add("13 labels: 8 queries, org's sp", LONG, "quarantine", "fail", "quarantine",
        "thirteen.example")
    add("PSD policy (psd=y) for mail.mega.bank.example", "mail.mega.bank.example",
        "reject", "fail", "reject", "bank.example")
    add("B.4.3: SPF mail.giant.bank.example aligns with giant.bank.example",
        "giant.bank.example", "accept", "pass", "quarantine", "giant.bank.example",
        mailfrom="x@mail.giant.bank.example")
    add("B.4.3: DKIM mail.mega.bank.example does not align", "giant.bank.example",
        "quarantine", "fail", "quarantine", "giant.bank.example",
        dkim=["mail.mega.bank.example"], psl=("pass", "accept"))
    add("relaxed DKIM by walk: mail.giant.bank.example aligns", "giant.bank.example",
        "accept", "pass", "quarantine", "giant.bank.example",
        dkim=["mail.giant.bank.example"])
    add("walk cap: the 9th signer is past the cap and does not align", "cap.example",
        "reject", "fail", "reject", "cap.example", dkim=CAP_SIGNERS, capped=True,
        # mailauth caps at 10 walks and treats an identifier past its cap as a
        # failed walk (temperror); with 9 it walks them all and ok.cap.example aligns
        ma_diff=("pass", "reject", "mailauth's cap is 10 walks; ours is %d and an "
                 "identifier past it does not align" % 8))
    return T


def build(c):
    msg = message("a@" + c["frm"], subject=re.sub(r"\W", "", c["name"])[:40])
    for d in reversed(c["dkim"]):          # the first signer ends up on top
        msg = sign(msg, d, key=RSA_KEY)
    return msg


def dmarc_ar(raw):
    h = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + raw)
    for r in h.results:
        if r.method == "dmarc":
            props = {p.type + "." + p.name: p.value for p in r.properties}
            m = re.search(r"\bdmarc=\w+\s*\(([^)]*)\)", raw)
            return r.result, props, m.group(1) if m else ""
    return None, {}, ""


def send(m, c, qid):
    return run_miltc(m.socket, build(c), client_addr=IP, client_name="[%s]" % IP,
                     helo="mail.example.org", mail_from=c["mailfrom"],
                     rcpts=["rcpt@example.net"], queue_id=qid)


def check_treewalk(R, m, c, qid):
    name = c["name"]
    r = send(m, c, qid)
    action = "quarantine" if r["quarantine"] is not None else r["action"]
    R.eq("%s: action" % name, action, c["action"])
    line = m.wait_log(r"%s: inbound " % qid, 3) or ""
    f = inbound_log_fields(line) if line else {}
    R.eq("%s: log dmarc" % name, f.get("dmarc"), c["dmarc"])
    R.eq("%s: log discovery" % name, f.get("discovery"), "treewalk")
    R.eq("%s: log policy.dmarc" % name, f.get("policy.dmarc"),
         c["applied"] if c["dmarc"] in ("pass", "fail") else None)
    if c.get("pdom"):
        R.eq("%s: log policy.domain" % name, f.get("policy.domain"), c["pdom"])
    R.eq("%s: log dns-failed" % name, f.get("dns-failed"), c.get("failed"))
    if c.get("ignored"):
        R.ok("%s: the invalid record logged" % name, m.wait_log(
            r"%s: invalid DMARC record ignored: %s" % (qid, re.escape(c["ignored"])),
            3) is not None, m.log_tail(3))
    if c.get("capped"):
        R.ok("%s: cap logged" % name, m.wait_log(
            r"%s: more than 8 DMARC tree walks" % qid, 3) is not None, m.log_tail(3))
    ars = [v for n, v in r["added"] if n.lower() == "authentication-results"]
    if c["action"] in ("accept", "quarantine"):
        if R.eq("%s: one A-R" % name, len(ars), 1):
            res, props, comment = dmarc_ar(ars[0])
            R.eq("%s: A-R dmarc" % name, res, c["dmarc"])
            R.eq("%s: A-R header.from" % name, props.get("header.from"), c["frm"])
            R.eq("%s: A-R policy.dmarc" % name, props.get("policy.dmarc"),
                 c["applied"] if c["dmarc"] in ("pass", "fail") else None)
            if c.get("pdom") and c["dmarc"] in ("pass", "fail"):
                R.ok("%s: A-R comment names the policy domain" % name,
                     "policy.domain=%s" % c["pdom"] in comment, comment)
            if c.get("t"):
                R.ok("%s: A-R comment says t=y" % name, " t=y" in comment, comment)
    return {"dmarc": f.get("dmarc"), "applied": f.get("policy.dmarc")}


def check_temperror_comment(R, dns, table):
    """With dmarc.on_temperror = none the message is accepted and its A-R says
    which query failed."""
    conf = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dmarc": {"on_temperror": "none"}}
    with Milter(conf) as m:
        for i, c in enumerate(x for x in table if x["dmarc"] == "temperror"):
            r = send(m, c, "TE%02d" % i)
            ars = [v for n, v in r["added"] if n.lower() == "authentication-results"]
            res, _, comment = dmarc_ar(ars[0]) if ars else (None, {}, "")
            R.eq("%s, on_temperror=none: A-R dmarc" % c["name"], res, "temperror")
            want = c["failed"].split("/")[0]
            R.ok("%s, on_temperror=none: A-R comment names %s" % (c["name"], want),
                 want in comment, comment)


def check_queries(R, dns):
    """The 13-label walk asked exactly RFC 9989 §4.10's names (unbound's log)."""
    asked = re.findall(r"info: \S+ (_dmarc\.\S*thirteen\.example)\. TXT IN", dns.log())
    want = ["_dmarc." + ".".join(LONG.split(".")[i:]) for i in (0, 6, 7, 8, 9, 10, 11)]
    # all started at once when the From arrived, so they reach unbound in any order
    R.eq("13 labels: the _dmarc queries under thirteen.example, each once",
         sorted(asked), sorted(want))
    R.ok("13 labels: _dmarc.c.d.e.f.g.h.i.j.mail.thirteen.example never asked",
         "_dmarc.c.d.e.f.g.h.i.j" not in dns.log(), "")
    R.ok("13 labels: _dmarc.example asked (the 8th)",
         re.search(r"info: \S+ _dmarc\.example\. TXT IN", dns.log()) is not None, "")


def check_psl(R, dns, table):
    conf = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 2},
            "dmarc": {"discovery": "psl"}}
    with Milter(conf) as m:
        for i, c in enumerate(x for x in table if "psl" in x):
            r = send(m, c, "PSL%02d" % i)
            action = "quarantine" if r["quarantine"] is not None else r["action"]
            line = m.wait_log(r"PSL%02d: inbound " % i, 3) or ""
            f = inbound_log_fields(line) if line else {}
            R.eq("discovery=psl (RFC 7489) differs: %s" % c["name"],
                 (f.get("dmarc"), action), c["psl"])
            R.eq("discovery=psl: log says so: %s" % c["name"], f.get("discovery"), "psl")


def run_mailauth(dns, table, strict=False):
    """mailauth's verdict for each case of table (strict: its RFC 6376 tag-list
    parsing), or the error text when it did not answer every case"""
    lines = ""
    for c in table:
        lines += json.dumps({"from": "a@" + c["frm"], "dkim": c["dkim"],
                             "spf": c["mailfrom"].split("@")[1]
                             if c["mailfrom"] != NOSPF else None,
                             "strict": strict}) + "\n"
    env = dict(os.environ, NODE_PATH=os.path.join(MAILAUTH_PREFIX, "node_modules"),
               NODE_NO_WARNINGS="1")
    p = subprocess.run(["node", os.path.join(HERE, "mailauth_dmarc.js"), str(dns.port)],
                       input=lines.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, env=env)
    got = [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]
    return got if len(got) == len(table) else p.stderr.decode()[-800:]


def mailauth_verdict(g):
    return (g["result"], g.get("policy") if g["result"] in ("pass", "fail") else None)


def check_mailauth(R, dns, table, ours):
    if not os.path.isdir(os.path.join(MAILAUTH_PREFIX, "node_modules", "mailauth")):
        R.fail("mailauth installed", "npm install --prefix %s mailauth@7" %
               MAILAUTH_PREFIX)
        return
    got = run_mailauth(dns, table)
    if not R.ok("mailauth answered every case", isinstance(got, list), got):
        return
    expected_diffs = 0
    for c, o, g in zip(table, ours, got):
        theirs = mailauth_verdict(g)
        mine = (o["dmarc"], o["applied"]) if o else None
        if "ma_diff" in c:
            expected_diffs += 1
            R.eq("mailauth differs as expected (%s): %s" % (c["ma_diff"][2], c["name"]),
                 theirs, c["ma_diff"][:2])
        else:
            R.eq("mailauth (RFC 9989) agrees: %s" % c["name"], theirs, mine)
    print("# mailauth: %d cases, %d expected differences" % (len(table), expected_diffs))
    # the differences strict parsing removes: mailauth's strict mode must agree
    strict = [(c, o) for c, o in zip(table, ours) if c.get("ma_strict")]
    got = run_mailauth(dns, [c for c, _ in strict], strict=True)
    if R.ok("mailauth (strict) answered", isinstance(got, list), got):
        for (c, o), g in zip(strict, got):
            R.eq("mailauth's strict mode (RFC 6376 §3.2) agrees: %s" % c["name"],
                 mailauth_verdict(g), (o["dmarc"], o["applied"]) if o else None)


def check_config(R):
    """authmilter -n names the discovery in force; a bad one names file, line, key."""
    for mode, words in (("treewalk", "RFC 9989"), ("psl", "RFC 7489")):
        m = Milter({"dmarc": {"discovery": mode}}, start=False)
        p = subprocess.run([AUTHMILTER, "-n", "-c", m.config_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode()
        R.ok("-n with discovery=%s says so" % mode, p.returncode == 0 and
             ("discovery %s" % mode) in out and words in out, out)
    m = Milter('dmarc {\n  discovery = "walk"\n}', start=False)
    p = subprocess.run([AUTHMILTER, "-n", "-c", m.config_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    R.ok("bad dmarc.discovery: file, line and key named",
         p.returncode != 0 and re.search(re.escape(m.config_path) +
                                         r":\d+: dmarc\.discovery: \"walk\" is not "
                                         r"valid; use treewalk \| psl", out), out)


def main():
    R = Results()
    table = cases()
    with DNSServer(RECORDS, ptrs=[(IP, "mail.example.org")], extra_conf=EXTRA) as dns:
        conf = {"authserv_id": AUTHSERV, "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [dns.address], "timeout": 2},
                "dkim": {"max_signatures": 10}}
        ours = []
        with Milter(conf) as m:
            for i, c in enumerate(table):
                ours.append(R.run(c["name"], check_treewalk, R, m, c, "W%02d" % i))
        R.run("13-label queries", check_queries, R, dns)
        R.run("temperror comments", check_temperror_comment, R, dns, table)
        R.run("discovery=psl", check_psl, R, dns, table)
        R.run("mailauth", check_mailauth, R, dns, table, ours)
    R.run("config", check_config, R)
    R.exit()


if __name__ == "__main__":
    main()
