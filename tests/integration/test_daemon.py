#!/usr/bin/python3
"""test_daemon - the foundation: command line, config errors, socket, iprev through the
real daemon over its socket with a real DNS server on loopback, the log line,
SIGUSR1 reload and SIGTERM stop. Prints "ok - NAME" / "not ok - NAME" per case."""

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, a, aaaa, closed_port, refuse_zone  # noqa: E402
from harness import AUTHMILTER, Milter, Results, run_miltc, tmpdir  # noqa: E402

R = Results()

MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\n"
       b"Subject: hello\r\nMessage-ID: <1@example.org>\r\n\r\nHello Bob.\r\n")

ZONE = [
    a("mail.example.org", "192.0.2.10"),
    a("liar.example.net", "198.51.100.99"),      # PTR of .20 points here: no match
    aaaa("mail6.example.org", "2001:db8::25"),
    # host.refused.example.com has no data: its zone answers REFUSED
]
PTRS = [("192.0.2.10", "mail.example.org"), ("192.0.2.20", "liar.example.net"),
        ("2001:db8::25", "mail6.example.org"), ("192.0.2.30", "host.refused.example.com")]


def base_config(dns_addr, **over):
    c = {"authserv_id": "mx.test.example",
         "internal_hosts": ["127.0.0.1/32"],
         "dns": {"nameservers": [dns_addr], "timeout": 2},
         "spf": {"enable": False},
         "dmarc": {"enable": False},
         "dkim": {"verify": False}}
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(c.get(k), dict):
            c[k] = dict(c[k], **v)
        else:
            c[k] = v
    return c


def authres(res):
    """Our Authentication-Results value from a miltc result, or ''."""
    for op, _idx, name, value in res["mods"]:
        if op == "insert" and name.lower() == "authentication-results":
            return value
    return ""


def check_command_line():
    p = subprocess.run([AUTHMILTER, "-V"], capture_output=True, text=True)
    R.ok("-V prints our and the libraries' versions",
            p.returncode == 0 and "authmilter" in p.stdout and "libunbound" in p.stdout
            and "OpenSSL" in p.stdout and "libsodium" in p.stdout, p.stdout + p.stderr)
    p = subprocess.run([AUTHMILTER, "-h"], capture_output=True, text=True)
    R.ok("-h prints usage, exit 0", p.returncode == 0 and "usage:" in p.stdout)
    p = subprocess.run([AUTHMILTER, "-Z"], capture_output=True, text=True)
    R.ok("unknown option: usage, exit 2", p.returncode == 2 and "usage:" in p.stderr)
    p = subprocess.run([AUTHMILTER, "-n", "-c", "/nonexistent/milter.conf"],
                       capture_output=True, text=True)
    R.ok("-n on a missing file: exit 1 naming it",
            p.returncode == 1 and "/nonexistent/milter.conf" in p.stderr, p.stderr)


CONFIG_ERRORS = [
    # (file text, expected "LINE: key: message" fragment)
    ('socket = "unix:/tmp/x"\nbogus = 1\n', r":2: bogus: unknown key"),
    ('dns {\n  timeout = "soon"\n}\n', r":2: dns\.timeout: invalid integer value"),
    ('internal_hosts = { "10.0.0.0/33" }\n',
     r':1: internal_hosts: "10\.0\.0\.0/33" is not an address or CIDR range'),
    ('socket = "tcp:8891"\n', r':1: socket: "tcp:8891" is not valid'),
    ('dns {\n\n timeout = 3600\n}\n', r":3: dns\.timeout: 3600 is out of range 1\.\.60"),
    ('dns {\n trust_anchor = "/nonexistent/root.key"\n}\n',
     r':2: dns\.trust_anchor: cannot read "/nonexistent/root\.key"'),
    ('iprev {\n on_fail = "bounce"\n}\n', r':2: iprev\.on_fail: "bounce" is not valid'),
]


def check_config_errors():
    d = tmpdir()
    for i, (text, want) in enumerate(CONFIG_ERRORS):
        path = os.path.join(d, "bad%d.conf" % i)
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
        R.ok("-n reports %s" % want.replace("\\", ""),
                p.returncode == 1 and re.search(re.escape(path) + want, p.stderr),
                p.stderr)
        # the daemon itself refuses to start on the same file
        p = subprocess.run([AUTHMILTER, "-c", path], capture_output=True, text=True,
                           timeout=10)
        R.ok("daemon refuses to start: %s" % want.replace("\\", ""),
                p.returncode == 1 and re.search(want, p.stderr), p.stderr)
    # a key file readable by others is refused (require_safe_keys)
    keydir = tmpdir()
    key = os.path.join(keydir, "s1.example.org.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                   capture_output=True, check=True)
    os.chmod(key, 0o644)
    path = os.path.join(d, "unsafe.conf")
    with open(path, "w") as f:
        # user "" and a socket here: -n also checks this machine (test_conf_check)
        f.write('user = ""\nsocket = "unix:%s/s.sock"\n' % d +
                'dkim {\n key "org" {\n  domain = "example.org"\n  selector = "s1"\n'
                '  file = "%s"\n }\n}\n' % key)
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
    R.ok("-n refuses a group/world-readable key, naming the key section",
            p.returncode == 1 and 'dkim.key "org"' in p.stderr and key in p.stderr,
            p.stderr)
    os.chmod(key, 0o600)
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
    R.ok("-n accepts the same key at mode 0600", p.returncode == 0, p.stderr)


def inbound(m, addr, name="client.example", **kw):
    return run_miltc(m.socket, MSG, client_addr=addr, client_name=name,
                     helo="client.example", mail_from="alice@example.org",
                     rcpts=["bob@example.com"], queue_id=kw.pop("queue_id", "Q%d" % time.time_ns()),
                     **kw)


def check_iprev(dns):
    with Milter(base_config(dns.address)) as m:
        res = inbound(m, "192.0.2.10", queue_id="QPASS")
        ar = authres(res)
        R.ok("iprev: PTR confirmed -> pass in A-R",
                res["action"] == "accept" and "iprev=pass" in ar
                and "mail.example.org" in ar and "policy.iprev=192.0.2.10" in ar, res)
        R.ok("A-R carries our authserv-id first",
                ar.startswith("mx.test.example;") or ar.startswith(" mx.test.example;"), ar)
        line = m.wait_log(r"QPASS: inbound")
        R.ok("one log line per message: QID, direction, client, iprev, action",
                line is not None and re.search(
                    r"QPASS: inbound client=client\.example\[192\.0\.2\.10\] .*iprev=pass"
                    r".* action=accept", line), line)

        res = inbound(m, "192.0.2.20")
        R.ok("iprev: PTR name whose A is elsewhere -> fail",
                "iprev=fail" in authres(res) and res["action"] == "accept", res)
        res = inbound(m, "192.0.2.99")
        R.ok("iprev: no PTR -> fail", "iprev=fail" in authres(res), res)
        res = inbound(m, "2001:db8::25")
        R.ok("iprev: IPv6 client confirmed -> pass",
                "iprev=pass" in authres(res) and re.search(r'policy\.iprev="?2001:db8::25',
                                                           authres(res)),
                res)
        res = inbound(m, "192.0.2.30")
        R.ok("iprev: forward lookup refused -> temperror",
                "iprev=temperror" in authres(res), res)
        res = inbound(m, "127.0.0.1", queue_id="QINTERNAL")
        line = m.wait_log(r"QINTERNAL: outbound")
        R.ok("internal client: outbound, no A-R, iprev not run",
                authres(res) == "" and res["action"] == "accept" and line is not None, line)
        lines_before = len(m.log_lines())
        res = run_miltc(m.socket, MSG, client_addr="", client_name="localhost",
                        mail_from="alice@example.org", rcpts=["bob@example.com"],
                        queue_id="QLOCAL")
        line = m.wait_log(r"QLOCAL: outbound client=localhost\[local\]")
        R.ok("connection without an address (sendmail -bs): local, skipped",
                res["action"] == "accept" and line is not None,
                "\n".join(m.log_lines()[lines_before:]))

    with Milter(base_config(dns.address, iprev={"on_fail": "reject"})) as m:
        res = inbound(m, "192.0.2.99")
        R.ok("iprev fail with on_fail=reject -> 550 5.7.25 at connect",
                res["action"] == "reject" and res["step"] == "connect"
                and (res["reply"] or "").startswith("550 5.7.25")
                and "192.0.2.99" in (res["reply"] or ""), res)
        R.ok("connection-level reject is logged",
                m.wait_log(r"NOQUEUE: connect client=.*\[192\.0\.2\.99\] iprev=fail "
                           r"action=reject") is not None, m.log_tail())
        res = inbound(m, "192.0.2.10")
        R.ok("iprev pass with on_fail=reject -> accepted", res["action"] == "accept", res)

    with Milter(base_config(dns.address, iprev={"on_fail": "tempfail"})) as m:
        res = inbound(m, "192.0.2.99")
        R.ok("iprev fail with on_fail=tempfail -> 451 4.7.25",
                res["action"] == "tempfail" and (res["reply"] or "").startswith("451 4.7.25"),
                res)

    with Milter(base_config(dns.address, iprev={"on_fail": "reject"}, dry_run=True)) as m:
        res = inbound(m, "192.0.2.99")
        R.ok("dry_run: iprev reject logged as (dry-run), accepted",
                res["action"] == "accept" and m.wait_log(r"action=reject \(dry-run\)")
                is not None, m.log_tail())


def check_dns_failures(dns):
    # server refusing: the whole reverse zone answers REFUSED
    with DNSServer(ZONE, extra_conf=[refuse_zone("in-addr.arpa")]) as refusing:
        with Milter(base_config(refusing.address, iprev={"on_temperror": "tempfail"})) as m:
            res = inbound(m, "192.0.2.10")
            R.ok("DNS refusing -> iprev temperror -> 451 4.7.25 with on_temperror=tempfail",
                    res["action"] == "tempfail" and
                    (res["reply"] or "").startswith("451 4.7.25"), res)
    # server gone: nothing listens on the port
    gone = "127.0.0.1@%d" % closed_port()
    with Milter(base_config(gone, iprev={"on_temperror": "tempfail"})) as m:
        t0 = time.monotonic()
        res = inbound(m, "192.0.2.10")
        took = time.monotonic() - t0
        R.ok("DNS gone -> tempfail within twice dns.timeout plus a margin (%.1fs)" % took,
                res["action"] == "tempfail" and took < 2 * 2 + 2, res)
    with Milter(base_config(gone)) as m:
        res = inbound(m, "192.0.2.10")
        R.ok("DNS gone, on_temperror=none -> accepted with iprev=temperror",
                res["action"] == "accept" and "iprev=temperror" in authres(res), res)


def check_socket_and_signals(dns):
    d = tmpdir()
    sock = os.path.join(d, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock)            # a stale socket file nobody listens on
    s.close()
    conf = base_config(dns.address, socket="unix:" + sock, socket_mode="0600")
    m = Milter(conf, start=False)
    m.socket = "unix:" + sock
    with m.start():
        mode = stat.S_IMODE(os.stat(sock).st_mode)
        R.ok("stale unix socket replaced, mode from socket_mode (0%o)" % mode,
                mode == 0o600 and inbound(m, "192.0.2.10")["action"] == "accept")

    with Milter(base_config(dns.address), inet=True) as m:
        R.ok("inet:PORT@127.0.0.1 socket serves",
                inbound(m, "192.0.2.10")["action"] == "accept")

    # reload: a good change takes effect, a broken file is refused and logged
    with Milter(base_config(dns.address)) as m:
        R.ok("before reload: iprev fail accepted", inbound(m, "192.0.2.99")["action"]
                == "accept")
        m.write_config(_with(m, iprev={"on_fail": "reject"}))
        m.reload()
        ok = m.wait_log(r"reloaded ", timeout=5) is not None
        res = inbound(m, "192.0.2.99")
        R.ok("SIGUSR1 reload applies the new config",
                ok and res["action"] == "reject", m.log_tail())
        with open(m.config_path, "a") as f:
            f.write("\nnonsense_key = 1\n")
        m.reload()
        bad = m.wait_log(r"reload refused: .*nonsense_key: unknown key", timeout=5)
        res = inbound(m, "192.0.2.99")
        R.ok("broken config on reload: logged with FILE:LINE, old config kept",
                bad is not None and res["action"] == "reject" and m.running(), m.log_tail())
        rc = m.stop()
        R.ok("SIGTERM stops cleanly (exit 0)", rc == 0, "exit %s\n%s" % (rc, m.log_tail()))


def check_privileges(dns):
    """Started as root with user set: binds, then runs as that user and its group;
    an unknown user makes it refuse to run."""
    if os.geteuid() != 0:
        print("# not root: privilege drop not tested")
        return
    import pwd
    nobody = pwd.getpwnam("nobody")
    with Milter(base_config(dns.address, user="nobody", socket_mode="0660")) as m:
        # the socket accepts as soon as it is bound, before the drop: "started" is
        # logged after it
        R.ok("started line logged", m.wait_log(r"started ", timeout=60) is not None,
             m.log_tail())
        with open("/proc/%d/status" % m.proc.pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        gids = re.search(r"^Gid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        R.ok("user = \"nobody\": real, effective and saved uid are nobody's",
             all(int(u) == nobody.pw_uid for u in uids), status)
        R.ok("and the group is nobody's primary group",
             all(int(g) == nobody.pw_gid for g in gids), status)
        st = os.stat(m.socket[len("unix:"):])
        R.ok("the socket belongs to nobody, so the daemon can remove it later",
             st.st_uid == nobody.pw_uid)
        R.ok("it still serves after dropping", inbound(m, "192.0.2.10")["action"] == "accept")
    conf = base_config(dns.address, user="no-such-user-xyz")
    m = Milter(conf, start=False)
    p = subprocess.run([AUTHMILTER, "-c", m.config_path], capture_output=True, text=True,
                       timeout=20)
    R.ok("unknown user: refuses to run (exit 1, says why)",
         p.returncode == 1 and "no-such-user-xyz" in p.stderr, p.stderr)


def _with(m, **over):
    """The Milter's config dict with changes (write_config takes dicts)."""
    return base_config(DNS_ADDR, socket=m.socket, **over)


def main():
    global DNS_ADDR
    check_command_line()
    check_config_errors()
    with DNSServer(ZONE, ptrs=PTRS, extra_conf=[refuse_zone("refused.example.com")]) as dns:
        DNS_ADDR = dns.address
        R.run("iprev cases", check_iprev, dns)
        R.run("dns failure cases", check_dns_failures, dns)
        R.run("socket and signal cases", check_socket_and_signals, dns)
        R.run("privilege cases", check_privileges, dns)
    R.exit()


if __name__ == "__main__":
    main()
