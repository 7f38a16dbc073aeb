#!/usr/bin/python3
"""test_migrate_peers.py - authmilter after authmilter-migrate against the real
OpenDKIM and OpenDMARC it replaces, each in front of the same private Postfix.

OpenDMARC has no nameserver setting: it resolves through /etc/resolv.conf. So
the whole test re-runs itself under `unshare -m -n`: a network namespace with
only loopback, a mount namespace where a resolv.conf saying `nameserver
127.0.0.1` is bound over /etc/resolv.conf, and the test's unbound on
127.0.0.1:53 there (`local-zone: "." static`). Nothing can leave the machine.

(a) the guide's single-key opendkim.conf and (b) a KeyTable/SigningTable setup
    (two domains, a subdomain pattern, a PKCS#1 key through a symlink): OpenDKIM
    runs on that same file (its `Nameservers 127.0.0.1` reaches the test's
    unbound), then authmilter runs on what the migration made of it. Each
    message signed by both carries the same d=, s=, a= and bh= (and c= where
    opendkim.conf sets Canonicalization; OpenDKIM's default simple/simple against
    authmilter's relaxed/relaxed is printed as a difference), and dkimpy
    verifies both against the one published record.
(c) OpenDKIM + OpenDMARC (RejectFailures true) on sockets in the Postfix spool,
    then authmilter alone on OpenDKIM's socket: a spoof of p=reject
    paypal.example, a message aligned by SPF and one aligned by DKIM are decided
    alike by both. Needs root.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import mta  # noqa: E402
import dnsserver as D  # noqa: E402
from test_migrate import (genkey, pkcs1_key, write, migrate, row,  # noqa: E402
                          opendmarc_conf)

OPENDKIM = "/usr/sbin/opendkim"
OPENDMARC = "/usr/sbin/opendmarc"
NS_MARK = "AUTHMILTER_PEERS_NETNS"
SPOOFER = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"
PAYPAL_MX = "ADDR=198.51.100.1 NAME=mail.paypal.example HELO=mail.paypal.example"
# what every peer's opendkim.conf carries for the test: the loopback unbound
# (port 53 in the namespace) and keys under /tmp (OpenDKIM refuses keys under a
# world-writable directory unless told otherwise); the migration maps both
TEST_LINES = "Nameservers 127.0.0.1\nRequireSafeKeys false\n"


def enter_namespace(t):
    """enter_namespace - outside: re-run this file under unshare -m -n and exit
    with its status; inside: loopback up, resolv.conf -> 127.0.0.1; returns the
    bound file so the caller can remove it."""
    if os.environ.get(NS_MARK) != "1":
        if shutil.which("unshare") is None:
            t.fail("migrate peers: unshare(1) is missing: no private network namespace")
            t.exit()
        env = dict(os.environ, **{NS_MARK: "1"})
        p = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "--",
                            sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                           env=env)
        sys.exit(p.returncode)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    conf = write(os.path.join(harness.tmpdir(), "resolv.conf"), "nameserver 127.0.0.1\n")
    subprocess.run(["mount", "--bind", conf, "/etc/resolv.conf"], check=True)
    with open("/etc/resolv.conf") as f:
        t.ok("migrate peers: inside a private namespace /etc/resolv.conf names only "
             "127.0.0.1", f.read() == "nameserver 127.0.0.1\n")
    out = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE).stdout.decode()
    t.ok("migrate peers: the namespace has loopback only",
         [ln.split(":")[1].strip() for ln in out.splitlines()] == ["lo"], out)


def sig_tags(message, domain):
    """sig_tags - the tags of the DKIM-Signature with d=domain (dict of str), or {}."""
    import dkim.util
    for h in mta.header_lines(message):
        name, _, value = h.partition(":")
        if name.strip().lower() != "dkim-signature":
            continue
        tags = dkim.util.parse_tag_value(re.sub(r"\s+", "", value).encode())
        tags = {k.decode(): v.decode() for k, v in tags.items()}
        if tags.get("d") == domain:
            return tags
    return {}


def peer(command, socket, inet=False):
    """peer - a peer milter (argv, "{socket}" replaced) started and listening."""
    m = harness.Milter(inet=inet, command=command, start=False)
    if socket is not None:
        m.socket = socket
    m.command = [c.replace("{socket}", m.socket) for c in command]
    return m.start()


def as_root(text):
    """as_root - the migrated text as this test runs it: user "" (root), as OpenDKIM
    and OpenDMARC run here; everything else as the migration wrote it."""
    if not re.search(r'^user = ', text, re.M):
        return 'user = ""\n' + text
    return re.sub(r'^user = .*$', 'user = ""', text, flags=re.M)


def check_root_n(t, name, text, path):
    """check_root_n - `authmilter -n` accepts as_root(text), written to path: the
    file this test runs (its keys stay root's, as OpenDKIM's here)."""
    p = subprocess.run([harness.AUTHMILTER, "-n", "-c", write(path, as_root(text))],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t.ok(name + ": `authmilter -n` accepts the output, run as root", p.returncode == 0,
         p.stdout.decode())


def authmilter(text, socket=None):
    """authmilter - the daemon on the migrated text as it is, but run as root
    (user "") and, when socket is given, on the harness's TCP port."""
    text = as_root(text)
    m = harness.Milter(text, inet=socket is None, start=False)
    text = re.sub(r'^socket = .*$', 'socket = "%s"' % (socket or m.socket), text,
                  flags=re.M)
    m.write_config(text)
    m.socket = socket or m.socket
    return m.start()


def message(frm, subject):
    """message - one outbound test message."""
    return ("From: %s\nTo: bob@example.com\nSubject: %s\nMessage-ID: <%s@t.example>\n"
            "Date: Mon, 07 Dec 2026 10:00:00 +0000\n\nBody of %s.\nSecond line.\n"
            % (frm, subject, re.sub(r"\W", "-", subject), subject))


def deliver(pf, sink, frm, subject):
    """deliver - send outbound through pf; the delivered message bytes or None."""
    r = mta.smtp_send(pf.port, frm, ["bob@example.com"], message(frm, subject))
    if not r.accepted:
        print("# %s: %s" % (subject, r))
        return None
    got = sink.new_messages(1, 20)
    return mta.split_sink_file(got[0][1])[1] if got else None


def compare_signed(t, name, old, new, want, canon_set=True):
    """compare_signed - OpenDKIM's message and authmilter's: the same d=, s=, a=, bh=
    (and c= when opendkim.conf set Canonicalization), and dkimpy verifies each
    against the one record."""
    if old is None or new is None:
        t.fail(name + ": both messages delivered", "OpenDKIM %r, authmilter %r"
               % (old is not None, new is not None))
        return
    o, n = sig_tags(old, want[0]), sig_tags(new, want[0])
    same = {k: (o.get(k), n.get(k)) for k in ("d", "s", "a", "bh") + ("c",) * canon_set}
    if not canon_set:
        t.difference("%s: c= OpenDKIM %s, authmilter %s" % (name, o.get("c"), n.get("c")),
                     "opendkim.conf sets no Canonicalization: OpenDKIM signs its default "
                     "simple/simple, the migrated milter.conf keeps authmilter's "
                     "relaxed/relaxed (RFC 6376 §3.4: the signer's choice)")
    t.ok("%s: OpenDKIM and authmilter sign d=%s s=%s with the same a=, bh=%s "
         "(a=%s c=%s)" % (name, want[0], want[1], " and c=" * canon_set, o.get("a"),
                          o.get("c")),
         o and all(x == y for x, y in same.values()) and
         (o.get("d"), o.get("s")) == want, "OpenDKIM vs authmilter: %r" % same)
    for who, msg in (("OpenDKIM", old), ("authmilter", new)):
        sigs = mta.dkim_verify_all(msg, 53)
        t.ok("%s: %s's signature verifies (dkimpy) against the published %s._domainkey.%s"
             % (name, who, want[1], want[0]), (want[0], want[1], "rsa-sha256", True) in sigs,
             "signatures %r" % sigs)
    print("# %s: h= OpenDKIM %s | authmilter %s; b= %s" % (
        name, o.get("h"), n.get("h"), "equal" if o.get("b") == n.get("b") else
        "differs (t= %s vs %s)" % (o.get("t"), n.get("t"))))


def sign_both(t, label, conf, senders, wd):
    """sign_both - OpenDKIM on conf, then authmilter on its migration, in front of
    one Postfix; returns {sender: [OpenDKIM's message, authmilter's message]} and
    the migration's table under "table"."""
    rc, out, text = migrate(["--opendkim", conf], conf + ".milter.conf")
    t.ok("%s: migrated (exit %d), Nameservers and RequireSafeKeys carried over" % (label, rc),
         rc in (0, 1) and 'nameservers = { "127.0.0.1" }' in text and
         "require_safe_keys = false" in text, out + text)
    check_root_n(t, label, text, conf + ".run.conf")
    od = peer([OPENDKIM, "-f", "-x", conf, "-p", "{socket}"], None, inet=True)
    pw = mta.make_workdir("/tmp/authmilter-peers-pf-")
    sink = mta.SmtpSink(pw).start()
    pf = mta.Postfix(pw, "inet:127.0.0.1:%d" % od.port, sink.port)
    got = {"table": out}
    try:
        pf.start()
        for frm in senders:
            got[frm] = [deliver(pf, sink, frm, label + " " + frm)]
        od.stop()
        am = authmilter(text)
        pf.main["smtpd_milters"] = pf.main["non_smtpd_milters"] = \
            "inet:127.0.0.1:%d" % am.port
        pf.reload()
        for frm in senders:
            got[frm].append(deliver(pf, sink, frm, label + " " + frm))
        am.stop()
    finally:
        pf.stop()
        sink.stop()
        od.stop()
    return got


def case_a(t, wd, keys):
    """case_a - the guide's single-key opendkim.conf, signed by both."""
    conf = write(os.path.join(wd, "a-opendkim.conf"),
                 "Syslog\t\t\tyes\nUMask\t\t\t002\nDomain\t\t\texample.org\n"
                 "KeyFile\t\t\t%s\nSelector\t\tmail\nSocket\t\t\tinet:8891@localhost\n"
                 "Canonicalization relaxed/simple\nMode sv\nSubDomains no\n"
                 "OversignHeaders From\nPidFile %s/a.pid\n%s"
                 % (keys["example.org"], wd, TEST_LINES))
    got = sign_both(t, "peers (a)", conf, ["alice@example.org"], wd)
    old, new = got["alice@example.org"]
    compare_signed(t, "peers (a) guide setup", old, new, ("example.org", "mail"))


def case_b(t, wd, keys):
    """case_b - KeyTable/SigningTable/TrustedHosts, signed by both; the one
    address pattern the migration reports as not supported is shown apart."""
    d = os.path.join(wd, "b")
    os.makedirs(d)
    link = os.path.join(d, "example.com.private")
    os.symlink(keys["example.com"], link)
    write(os.path.join(d, "KeyTable"),
          "mail._domainkey.example.com example.com:mail:%s\n"
          "mail._domainkey.example.net example.net:mail:%s\n" % (link, keys["example.net"]))
    write(os.path.join(d, "SigningTable"),
          "*@example.com mail._domainkey.example.com\n"
          "*@*.example.com mail._domainkey.example.com\n"
          "*@example.net mail._domainkey.example.net\n"
          "ceo@example.org mail._domainkey.example.net\n")
    write(os.path.join(d, "TrustedHosts"), "127.0.0.1\nlocalhost\n192.168.1.0/24\n")
    conf = write(os.path.join(d, "opendkim.conf"),
                 "KeyTable refile:%s/KeyTable\nSigningTable refile:%s/SigningTable\n"
                 "ExternalIgnoreList refile:%s/TrustedHosts\n"
                 "InternalHosts refile:%s/TrustedHosts\nSocket local:%s/sock\n%s"
                 % (d, d, d, d, d, TEST_LINES))
    want = {"a@example.com": ("example.com", "mail"), "b@example.net": ("example.net", "mail"),
            "c@lists.example.com": ("example.com", "mail")}
    got = sign_both(t, "peers (b)", conf, list(want) + ["ceo@example.org"], wd)
    for frm, w in want.items():
        compare_signed(t, "peers (b) %s" % frm, got[frm][0], got[frm][1], w, False)
    old, new = got["ceo@example.org"]
    t.ok("peers (b): OpenDKIM signs ceo@example.org with d=example.net (SigningTable)",
         old is not None and sig_tags(old, "example.net").get("s") == "mail", old)
    t.ok("peers (b): the migration's table says ceo@example.org is NOT SUPPORTED",
         row(got["table"], "SigningTable ceo@example.org").startswith("NOT SUPPORTED"),
         got["table"])
    if new is not None and not sig_tags(new, "example.net"):
        t.difference("peers (b): ceo@example.org is not signed by authmilter",
                     "one address signed with another domain's key has no counterpart "
                     "in authmilter's keys (RFC 6376 §3.5: d= is the signer's choice)")
    else:
        t.fail("peers (b): ceo@example.org: authmilter delivers it, unsigned by example.net",
               new)


def inbound(pf, sink, frm, subject, xclient, sign=None):
    """inbound - one message from outside (XCLIENT); (final reply, delivered bytes)."""
    text = message(frm, subject)
    if sign:
        text = mta.dkim_sign(text, *sign)
    r = mta.smtp_send(pf.port, frm, ["bob@example.com"], text, helo="mail.example.org",
                      xclient=xclient)
    got = sink.new_messages(1, 20) if r.accepted else []
    return r.final, (mta.split_sink_file(got[0][1])[1] if got else b"")


def decide_all(pf, sink, sign):
    """decide_all - the three inbound messages of case (c) through pf as it is now."""
    return {
        "spoof": inbound(pf, sink, "service@paypal.example", "spoof", SPOOFER),
        "spf": inbound(pf, sink, "service@paypal.example", "spf aligned", PAYPAL_MX),
        "dkim": inbound(pf, sink, "service@paypal.example", "dkim aligned", SPOOFER, sign)}


def dmarc_ar(delivered):
    """dmarc_ar - the dmarc= result of the first Authentication-Results, or None."""
    for h in mta.header_lines(delivered):
        if h.lower().startswith("authentication-results:"):
            m = re.search(r"\bdmarc=(\w+)", h)
            if m:
                return m.group(1)
    return None


def case_c_peers(pf, sink, dkim_sock, dmarc_sock, odkim, odmarc, sign):
    """case_c_peers - OpenDKIM then OpenDMARC, as the guides chain them."""
    od = peer([OPENDKIM, "-f", "-x", odkim], "unix:" + dkim_sock)
    dm = peer([OPENDMARC, "-f", "-c", odmarc], "unix:" + dmarc_sock)
    try:
        for sock in (dkim_sock, dmarc_sock):
            os.chmod(sock, 0o666)       # Postfix's smtpd runs as postfix
        pf.main["smtpd_milters"] = "unix:%s, unix:%s" % (dkim_sock, dmarc_sock)
        pf.start()
        return decide_all(pf, sink, sign)
    finally:
        pf.stop()
        od.stop()
        dm.stop()


def case_c(t, wd, key, sign):
    """case_c - OpenDKIM + OpenDMARC, then authmilter migrated from both, on a spoof
    of p=reject paypal.example and two aligned messages."""
    pw = mta.make_workdir("/tmp/authmilter-peers-pf-")
    sink = mta.SmtpSink(pw).start()
    pf = mta.Postfix(pw, "unix:placeholder", sink.port)
    socks = []
    for sub in ("opendkim", "opendmarc"):
        os.makedirs(os.path.join(pf.queue, sub))
        socks.append(os.path.join(pf.queue, sub, sub + ".sock"))
    odkim = write(os.path.join(wd, "c-opendkim.conf"),
                  "Domain example.org\nKeyFile %s\nSelector mail\nUMask 000\n"
                  "AuthservID mx.test.example\nSocket local:%s\n%s" % (key, socks[0], TEST_LINES))
    odmarc = opendmarc_conf(wd, socks[1], os.path.join(wd, "c-dmarc.pid"))
    rc, out, text = migrate(["--opendkim", odkim, "--opendmarc", odmarc],
                            os.path.join(wd, "c-milter.conf"))
    t.ok("peers (c): OpenDKIM + OpenDMARC migrated (exit %d)" % rc, rc == 0, out)
    check_root_n(t, "peers (c)", text, os.path.join(wd, "c-run.conf"))
    try:
        old = case_c_peers(pf, sink, socks[0], socks[1], odkim, odmarc, sign)
        am = authmilter(text, "unix:" + socks[0])
        pf.main["smtpd_milters"] = "unix:" + socks[0]
        pf.start()
        new = decide_all(pf, sink, sign)
        am.stop()
    finally:
        pf.stop()
        sink.stop()
    compare_decisions(t, old, new)


def compare_decisions(t, old, new):
    """compare_decisions - what OpenDMARC and authmilter decided, message by message."""
    (o_reply, _), (n_reply, _) = old["spoof"], new["spoof"]
    print("# peers (c) spoof: OpenDMARC %s | authmilter %s" % (o_reply, n_reply))
    t.ok("peers (c): OpenDMARC (RejectFailures true) rejects the spoof of p=reject "
         "paypal.example: %s" % o_reply, o_reply.code == 550, o_reply)
    t.ok("peers (c): authmilter rejects it as OpenDMARC did: %s" % n_reply,
         n_reply.code == o_reply.code == 550 and "DMARC" in n_reply.text, n_reply)
    for kind, why in (("spf", "SPF pass from 198.51.100.1, aligned"),
                      ("dkim", "DKIM d=paypal.example, aligned, SPF fail")):
        (o_reply, o_msg), (n_reply, n_msg) = old[kind], new[kind]
        print("# peers (c) %s: OpenDMARC %s dmarc=%s | authmilter %s dmarc=%s"
              % (kind, o_reply, dmarc_ar(o_msg), n_reply, dmarc_ar(n_msg)))
        t.ok("peers (c): %s: OpenDMARC accepts, dmarc=pass" % why,
             o_reply.code == 250 and dmarc_ar(o_msg) == "pass", "%s %r" % (o_reply, o_msg))
        t.ok("peers (c): %s: authmilter accepts as OpenDMARC did, dmarc=pass" % why,
             n_reply.code == 250 and dmarc_ar(n_msg) == "pass", "%s %r" % (n_reply, n_msg))


def main():
    t = harness.Results()
    if os.geteuid() != 0:
        t.fail("migrate peers: this test needs root (Postfix, namespaces)")
        t.exit()
    for path in (OPENDKIM, OPENDMARC):
        if not os.access(path, os.X_OK):
            t.fail("migrate peers: %s is not installed" % path)
            t.exit()
    enter_namespace(t)
    wd = mta.make_workdir("/tmp/authmilter-peers-")
    keys = {"example.org": genkey(os.path.join(wd, "k", "org"), "example.org", "mail"),
            "example.net": genkey(os.path.join(wd, "k", "net"), "example.net", "mail")}
    com = os.path.join(wd, "k", "example.com.pkcs1")
    keys["example.com"] = (com, pkcs1_key(com))
    pp_key, pp_name, pp_txt = mta.make_dkim_key(os.path.join(wd, "k", "pp"),
                                                "paypal.example", "pp")
    dns = D.DNSServer([D.txt("mail._domainkey.%s" % dom, txt) for dom, (_, txt)
                       in keys.items()] + [
        D.txt(pp_name, pp_txt),
        D.a("mail.example.org", "192.0.2.10"), D.a("mail.paypal.example", "198.51.100.1"),
        D.txt("paypal.example", "v=spf1 ip4:198.51.100.1 -all"),
        D.txt("_dmarc.paypal.example", "v=DMARC1; p=reject")],
        ptrs=[("192.0.2.10", "mail.example.org"), ("198.51.100.1", "mail.paypal.example")],
        port=53)
    paths = {dom: path for dom, (path, _) in keys.items()}
    try:
        t.run("peers (a)", case_a, t, wd, paths)
        t.run("peers (b)", case_b, t, wd, paths)
        t.run("peers (c)", case_c, t, wd, paths["example.org"],
              (pp_key, "paypal.example", "pp"))
    finally:
        dns.cleanup()
    t.exit()


if __name__ == "__main__":
    main()
