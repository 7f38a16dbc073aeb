#!/usr/bin/python3
"""test_migrate.py - authmilter-migrate on the guides' setups, through real Postfix.

(a) the single-key guide opendkim.conf (Domain/KeyFile/Selector, Socket
    inet:PORT@localhost, key from Debian's opendkim-genkey -t), Postfix with
    milter_protocol = 2 and then 6;
(b) a Debian-style KeyTable/SigningTable/TrustedHosts setup: two domains, a
    subdomain pattern, a PKCS#1 key reached through a symlink, one address
    pattern and one host name that cannot be expressed;
(c) OpenDKIM + OpenDMARC on local sockets in the Postfix spool: one milter on
    OpenDKIM's socket, the postconf lines, a spoof of a p=reject domain refused;
(d) a dkimproxy_out.conf (dkimproxy is not in Debian 12: the signature is
    verified by dkimpy against the record dkimproxy's key publishes).
Each output passes `authmilter -n`; each signature is verified by dkimpy against
the record published for the old milter's key, on a loopback unbound. Needs root.
"""
import os
import pwd
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import mta  # noqa: E402
import dnsserver as D  # noqa: E402

MIGRATE = os.path.join(harness.BUILDDIR, "milter", "authmilter-migrate")
INBOUND = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"


def genkey(keydir, domain, selector):
    """genkey - Debian's opendkim-genkey -t: (private key path, TXT value from SEL.txt)."""
    os.makedirs(keydir, exist_ok=True)
    subprocess.run(["opendkim-genkey", "-t", "-s", selector, "-d", domain, "-D", keydir],
                   check=True)
    with open(os.path.join(keydir, selector + ".txt")) as f:
        value = "".join(re.findall(r'"([^"]*)"', f.read()))
    return os.path.join(keydir, selector + ".private"), value


def pkcs1_key(path):
    """pkcs1_key - an `openssl genrsa -traditional` key (BEGIN RSA PRIVATE KEY) and its TXT."""
    import base64
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", path, "2048"], check=True,
                   stderr=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def migrate(args, out, own=True):
    """migrate - run the tool; (exit status, stdout + stderr, milter.conf text). The
    tool checks the keys as the user the file names, as -n does: unless own is
    False, the keys it names are first given to that user, as the old milter's
    user owned them on a real server (a dry run to stdout says which)."""
    if own:
        own_keys(subprocess.run([MIGRATE] + args, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL).stdout.decode())
    p = subprocess.run([MIGRATE] + args + ["-o", out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    text = open(out).read() if os.path.exists(out) else ""
    return p.returncode, p.stdout.decode(), text


def own_keys(text):
    """own_keys - the key files the migrated text names, owned by the user it runs
    as (default authmilter), as an operator leaves them after -n's advice: the test
    made them as root, and -n checks them as that user. The user is made as the
    package would (adduser --system, as test_stop does) when this machine has none."""
    m = re.search(r'^user = "([^"]*)"', text, flags=re.M)
    name = m.group(1) if m else "authmilter"
    if name == "":
        return      # user = "": the daemon stays the user who starts it (root here)
    if subprocess.run(["getent", "passwd", name], capture_output=True).returncode:
        subprocess.run(["adduser", "--system", "--group", "--no-create-home", "--home",
                        "/nonexistent", "--quiet", name], check=True)
    user = pwd.getpwnam(name)
    for key in re.findall(r'^\s*file = "([^"]*)"', text, flags=re.M):
        os.chown(key, user.pw_uid, user.pw_gid)


def check_n(t, name, path):
    """check_n - the daemon's own `authmilter -n` accepts the migrated file."""
    p = subprocess.run([harness.AUTHMILTER, "-n", "-c", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    t.ok(name + ": `authmilter -n` accepts the output", p.returncode == 0,
         p.stdout.decode())


def runnable(text, dns, socket=None):
    """runnable - the migrated text as the test runs it: as root (user ""), our
    resolver, and the harness's socket when socket is given."""
    text = re.sub(r'^user = .*$', 'user = ""', text, flags=re.M)
    if socket is not None:
        text = re.sub(r'^socket = .*$', 'socket = "%s"' % socket, text, flags=re.M)
    return text + '\ndns { nameservers = { "%s" } }\n' % dns.address


def row(out, setting):
    """row - the status line printed under a table row whose setting starts so."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if ": " in line and line.split(": ", 1)[1].startswith(setting) and i + 1 < len(lines):
            return lines[i + 1].strip()
    return ""


def signed_by(t, name, sink, dns, want):
    """signed_by - the next delivered message carries a signature (d, s) that dkimpy
    verifies against the published record."""
    got = sink.new_messages(1, 20)
    sigs = mta.dkim_verify_all(mta.split_sink_file(got[0][1])[1], dns.port) if got else []
    t.ok(name, (want[0], want[1], "rsa-sha256", True) in sigs, "signatures %r" % sigs)


def send(pf, frm, subject, xclient=None):
    rcpt = "user@example.com" if xclient else "bob@example.net"   # inbound: relay_domains
    text = ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s@t.example>\n\n"
            "Body of %s.\n" % (frm, rcpt, subject, subject.replace(" ", "-"), subject))
    return mta.smtp_send(pf.port, frm, [rcpt], text,
                         helo="mail.example.org" if xclient else "client.test.example",
                         xclient=xclient)


def errors(t, wd):
    """errors - exit 2 with FILE:LINE for a bad file; OUT is never overwritten."""
    bad = write(os.path.join(wd, "bad.conf"), "# c\nSyslog yes\nDomain\n")
    rc, out, _ = migrate(["--opendkim", bad], os.path.join(wd, "bad.out"))
    t.ok("migrate: a setting without a value -> exit 2 naming FILE:3 (%d)" % rc,
         rc == 2 and bad + ":3: Domain: no value" in out, out)
    kt = write(os.path.join(wd, "kt.conf"), "KeyTable file:%s/missing\nSigningTable "
               "refile:%s/missing\n" % (wd, wd))
    rc, out, _ = migrate(["--opendkim", kt], os.path.join(wd, "kt.out"))
    t.ok("migrate: an unreadable KeyTable -> exit 2 naming where it was set (%d)" % rc,
         rc == 2 and kt + ":1:" in out and "No such file" in out, out)
    key, _ = genkey(os.path.join(wd, "keys", "root-owned"), "example.org", "mail")
    mine = write(os.path.join(wd, "user.conf"), "Domain example.org\nKeyFile %s\n"
                 "Selector mail\nUserID nobody\n" % key)
    rc, out, _ = migrate(["--opendkim", mine], os.path.join(wd, "user.out"), own=False)
    t.ok("migrate: a key its UserID (nobody) cannot read -> exit 1, the fix named, as "
         "-n names it (%d)" % rc, rc == 1 and "user nobody cannot" in out and
         "start or reload would meet the problems above" in out, out)
    dest = write(os.path.join(wd, "exists.conf"), "keep me\n")
    ok = write(os.path.join(wd, "ok.conf"), "Syslog yes\n")
    rc, out, _ = migrate(["--opendkim", ok], dest)
    t.ok("migrate: an existing OUT is not overwritten (exit 2)",
         rc == 2 and open(dest).read() == "keep me\n", out)


def start_inet(pw, text, dns, pf_sink):
    """start_inet - the migrated config on a harness TCP port, and Postfix in front."""
    m = harness.Milter(runnable(text, dns), inet=True, start=False)
    m.write_config(runnable(text, dns, m.socket))
    m.start()
    sink = mta.SmtpSink(pw).start()
    pf = mta.Postfix(pw, "inet:127.0.0.1:%d" % m.port, sink.port)
    pf_sink.extend([pf, sink, m])
    pf.start()
    return pf, sink, m


def case_a(t, wd, dns, pf_sink, key):
    """case_a - the single-key guide; Postfix milter_protocol 2, then 6."""
    m = harness.Milter(inet=True, start=False)
    pw = mta.make_workdir("/tmp/authmilter-migrate-pf-")
    conf = write(os.path.join(wd, "a-opendkim.conf"),
                 "Syslog\t\t\tyes\nUMask\t\t\t002\nDomain\t\t\texample.org\n"
                 "KeyFile\t\t\t%s\nSelector\t\tmail\nSocket\t\t\tinet:%d@localhost\n"
                 "AutoRestart Yes\nPidFile /var/run/opendkim/opendkim.pid\n"
                 "Canonicalization relaxed/simple\nMode sv\nSubDomains no\n"
                 "OversignHeaders From\n" % (key, m.port))
    out_path = os.path.join(wd, "a-milter.conf")
    rc, out, text = migrate(["--opendkim", conf], out_path)
    t.ok("migrate (a): guide opendkim.conf -> exit 0, every setting mapped or not needed",
         rc == 0, out)
    t.ok("migrate (a): AutoRestart and PidFile are 'not needed' with why",
         row(out, "AutoRestart").startswith("not needed: systemd") and
         row(out, "PidFile").startswith("not needed:"), out)
    t.ok("migrate (a): the same port as OpenDKIM's inet:PORT@localhost",
         'socket = "%s"' % m.socket in text, text)
    t.ok("migrate (a): key example.org/mail where opendkim-genkey left it",
         'file = "%s"' % key in text and 'selector = "mail"' in text, text)
    t.ok("migrate (a): the table recommends milter_default_action = tempfail",
         "postconf -e 'milter_default_action = tempfail'" in out, out)
    check_n(t, "migrate (a)", out_path)
    m.write_config(runnable(text, dns))
    m.start()
    sink = mta.SmtpSink(pw).start()
    pf = mta.Postfix(pw, "inet:localhost:%d" % m.port, sink.port,
                     extra={"milter_protocol": "2"})
    pf_sink.extend([pf, sink, m])
    pf.start()
    for proto in ("2", "6"):
        if proto == "6":
            pf.main["milter_protocol"] = "6"
            pf.reload()
        r = send(pf, "alice@example.org", "guide proto %s" % proto)
        t.ok("migrate (a): Postfix milter_protocol = %s, smtpd_milters = "
             "inet:localhost:PORT: accepted" % proto, r.accepted, r)
        signed_by(t, "migrate (a): milter_protocol = %s: signed d=example.org s=mail with "
                  "opendkim-genkey's key, verified against its mail.txt record" % proto,
                  sink, dns, ("example.org", "mail"))
    pf.stop()
    sink.stop()
    m.stop()


def case_b(t, wd, dns, pf_sink, keys):
    """case_b - KeyTable/SigningTable/TrustedHosts, several domains, a subdomain pattern."""
    d = os.path.join(wd, "b")
    pw = mta.make_workdir("/tmp/authmilter-migrate-pf-")
    os.makedirs(d, exist_ok=True)
    link = os.path.join(d, "example.com.private")
    os.symlink(keys["example.com"], link)
    write(os.path.join(d, "KeyTable"),
          "mail._domainkey.example.com example.com:mail:%s\n"
          "mail._domainkey.example.net example.net:mail:%s\n"
          "unused._domainkey.example.net example.net:old:%s\n"
          % (link, keys["example.net"], keys["example.net"]))
    write(os.path.join(d, "SigningTable"),
          "# Debian wiki style\n*@example.com mail._domainkey.example.com\n"
          "*@*.example.com mail._domainkey.example.com\n"
          "*@example.net mail._domainkey.example.net\n"
          "ceo@example.org mail._domainkey.example.net\n")
    write(os.path.join(d, "TrustedHosts"), "127.0.0.1\nlocalhost\n192.168.1.0/24\n"
          "mail.example.com\n")
    conf = write(os.path.join(d, "opendkim.conf"),
                 "KeyTable refile:%s/KeyTable\nSigningTable refile:%s/SigningTable\n"
                 "ExternalIgnoreList refile:%s/TrustedHosts\n"
                 "InternalHosts refile:%s/TrustedHosts\nSocket local:%s/sock\n"
                 "UserID opendkim\n" % (d, d, d, d, d))
    out_path = os.path.join(d, "milter.conf")
    rc, out, text = migrate(["--opendkim", conf], out_path)
    t.ok("migrate (b): exit 1: a host name and one address need the operator (%d)" % rc,
         rc == 1, out)
    t.ok("migrate (b): *@*.example.com -> key example.com with subdomains = true",
         re.search(r'key "example.com-mail" \{[^}]*subdomains = true', text), text)
    t.ok("migrate (b): ceo@example.org is 'NOT SUPPORTED' (one address, another d=)",
         row(out, "SigningTable ceo@example.org").startswith("NOT SUPPORTED"), out)
    t.ok("migrate (b): TrustedHosts mail.example.com is 'NOT SUPPORTED' (host name)",
         row(out, "InternalHosts mail.example.com").startswith("NOT SUPPORTED"), out)
    t.ok("migrate (b): TrustedHosts ranges become internal_hosts",
         'internal_hosts = { "127.0.0.1", "127.0.0.0/8", "::1/128", "192.168.1.0/24" }'
         in text, text)
    t.ok("migrate (b): the KeyTable key no SigningTable line uses is 'not needed'",
         row(out, "KeyTable unused").startswith("not needed"), out)
    check_n(t, "migrate (b)", out_path)
    pf, sink, m = start_inet(pw, text, dns, pf_sink)
    for frm, want in (("a@example.com", ("example.com", "mail")),
                      ("b@example.net", ("example.net", "mail")),
                      ("c@lists.example.com", ("example.com", "mail"))):
        r = send(pf, frm, "table " + frm.replace("@", "-at-"))
        t.ok("migrate (b): mail from %s accepted" % frm, r.accepted, r)
        signed_by(t, "migrate (b): %s signed d=%s s=%s (PKCS#1 key through a symlink for "
                  "example.com), dkimpy verifies" % (frm, want[0], want[1]), sink, dns, want)
    pf.stop()
    sink.stop()
    m.stop()


def opendmarc_conf(wd, sock, pidfile="/run/opendmarc.pid"):
    """opendmarc_conf - case (c)'s opendmarc.conf (RejectFailures true, IgnoreHosts
    loopback, SPFSelfValidate) on local:sock; its path."""
    ignore = write(os.path.join(wd, "c-ignore.hosts"), "127.0.0.1\n::1\n")
    return write(os.path.join(wd, "c-opendmarc.conf"),
                 "AuthservID mx.test.example\nTrustedAuthservIDs mx.test.example\n"
                 "RejectFailures true\nIgnoreHosts %s\nIgnoreAuthenticatedClients true\n"
                 "SPFSelfValidate true\nSocket local:%s\nPidFile %s\n"
                 "PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat\n"
                 % (ignore, sock, pidfile))


def case_c(t, wd, dns, pf_sink, key):
    """case_c - OpenDKIM + OpenDMARC on local sockets in the Postfix spool."""
    pw = mta.make_workdir("/tmp/authmilter-migrate-pf-")
    sink = mta.SmtpSink(pw).start()
    pf = mta.Postfix(pw, "unix:placeholder", sink.port)
    for sub in ("opendkim", "opendmarc"):
        os.makedirs(os.path.join(pf.queue, sub), exist_ok=True)
    dkim_sock = os.path.join(pf.queue, "opendkim", "opendkim.sock")
    dmarc_sock = os.path.join(pf.queue, "opendmarc", "opendmarc.sock")
    odkim = write(os.path.join(wd, "c-opendkim.conf"),
                  "Domain example.org\nKeyFile %s\nSelector mail\nUMask 000\n"
                  "Socket local:%s\n" % (key, dkim_sock))
    odmarc = opendmarc_conf(wd, dmarc_sock)
    out_path = os.path.join(wd, "c-milter.conf")
    rc, out, text = migrate(["--opendkim", odkim, "--opendmarc", odmarc], out_path)
    t.ok("migrate (c): OpenDKIM + OpenDMARC -> exit 0 (%d)" % rc, rc == 0, out)
    t.ok("migrate (c): one milter on OpenDKIM's socket in the spool",
         'socket = "unix:%s"' % dkim_sock in text, text)
    t.ok("migrate (c): the postconf line to run and OpenDMARC's socket to remove",
         "postconf -e 'smtpd_milters = unix:%s' 'non_smtpd_milters = unix:%s'"
         % (dkim_sock, dkim_sock) in out and "unix:%s" % dmarc_sock in out, out)
    t.ok("migrate (c): RejectFailures true -> dmarc.on_reject = reject",
         'on_reject = "reject"' in text and "enable = false" not in
         text.split("dmarc {")[1].split("}")[0], text)
    check_n(t, "migrate (c)", out_path)
    m = harness.Milter(runnable(text, dns), start=False)
    m.socket = "unix:" + dkim_sock
    m.start()
    pf.main["smtpd_milters"] = pf.main["non_smtpd_milters"] = "unix:" + dkim_sock
    pf_sink.extend([pf, sink, m])
    pf.start()
    r = send(pf, "alice@example.org", "one milter")
    t.ok("migrate (c): outbound through the spool socket accepted", r.accepted, r)
    signed_by(t, "migrate (c): signed d=example.org s=mail as OpenDKIM did", sink, dns,
              ("example.org", "mail"))
    r = send(pf, "service@paypal.example", "spoof", xclient=INBOUND)
    t.ok("migrate (c): spoof of p=reject paypal.example refused as OpenDMARC's "
         "RejectFailures did -> %s" % r.final,
         r.final.code == 550 and "DMARC" in r.final.text, r)
    pf.stop()
    sink.stop()
    m.stop()


def case_d(t, wd, dns, pf_sink, key):
    """case_d - dkimproxy_out.conf."""
    pw = mta.make_workdir("/tmp/authmilter-migrate-pf-")
    conf = write(os.path.join(wd, "dkimproxy_out.conf"),
                 "listen    127.0.0.1:10027\nrelay     127.0.0.1:10028\n"
                 "domain    example.org\nsignature dkim(c=relaxed)\n"
                 "signature domainkeys(c=nofws)\nkeyfile   %s\nselector  mail\n" % key)
    out_path = os.path.join(wd, "d-milter.conf")
    rc, out, text = migrate(["--dkimproxy", conf], out_path)
    t.ok("migrate (d): dkimproxy -> exit 1: listen/relay need the MTA changed (%d)" % rc,
         rc == 1 and row(out, "listen").startswith("NOT SUPPORTED"), out)
    t.ok("migrate (d): signature dkim(c=relaxed) -> relaxed/simple (RFC 6376 §3.5)",
         'canonicalization = "relaxed/simple"' in text, text)
    t.ok("migrate (d): the table says how to replace the content_filter",
         "content_filter" in out and "postconf -e 'smtpd_milters = " in out, out)
    check_n(t, "migrate (d)", out_path)
    pf, sink, m = start_inet(pw, text, dns, pf_sink)
    r = send(pf, "alice@example.org", "dkimproxy")
    t.ok("migrate (d): accepted through Postfix", r.accepted, r)
    signed_by(t, "migrate (d): signed d=example.org s=mail with dkimproxy's key, dkimpy "
              "verifies", sink, dns, ("example.org", "mail"))
    pf.stop()
    sink.stop()
    m.stop()


def main():
    t = harness.Results()
    if os.geteuid() != 0:
        t.ok("migrate: this test needs root (Postfix starts as root)", False)
        t.exit()
    wd = mta.make_workdir("/tmp/authmilter-migrate-")
    org_key, org_txt = genkey(os.path.join(wd, "keys", "example.org"), "example.org", "mail")
    net_key, net_txt = genkey(os.path.join(wd, "keys", "example.net"), "example.net", "mail")
    com_key = os.path.join(wd, "keys", "example.com.pkcs1")
    com_txt = pkcs1_key(com_key)
    dns = D.DNSServer([
        D.txt("mail._domainkey.example.org", org_txt),
        D.txt("mail._domainkey.example.net", net_txt),
        D.txt("mail._domainkey.example.com", com_txt),
        D.a("mail.example.org", "192.0.2.10"),
        D.txt("paypal.example", "v=spf1 ip4:198.51.100.1 -all"),
        D.txt("_dmarc.paypal.example", "v=DMARC1; p=reject")],
        ptrs=[("192.0.2.10", "mail.example.org")])
    running = []
    try:
        errors(t, wd)
        for fn, arg in ((case_a, org_key),
                        (case_b, {"example.com": com_key, "example.net": net_key}),
                        (case_c, org_key), (case_d, org_key)):
            try:
                fn(t, wd, dns, running, arg)
            except Exception as e:
                t.fail("migrate: %s: unexpected %s: %s" % (fn.__name__, type(e).__name__, e))
            for x in running:
                x.stop()
            running.clear()
    finally:
        dns.cleanup()
    t.exit()


if __name__ == "__main__":
    main()
