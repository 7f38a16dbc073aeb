#!/usr/bin/python3
"""test_hardening - the suspected weaknesses of issue 11, each through the real daemon.

  signing oracle: a TCP milter socket signs mail for any local user who connects
    (the milter protocol has no authentication; the client claims its own address);
    a unix socket with socket_mode keeps them out. The daemon warns at start on a
    TCP socket and refuses one beyond loopback unless socket_allow_remote = true.
  no-address clients: SMFIC_CONNECT with family 'U' (unknown) or 'L' (unix) is
    outbound (signed, unjudged) only as local_submission says: by default on a unix
    socket, never by default on a TCP one.
  SPF deadline: a chain of include: lookups against a slow DNS ends at one deadline
    for the whole evaluation (2 x dns.timeout) with spf=temperror.
  log line: the SASL login is written escaped, it cannot forge fields or lines.
  socket path: a symlink swapped in for the socket between bind and the mode/owner
    change is never followed.
Prints "ok - NAME" / "not ok - NAME" per check."""

import os
import pwd
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, DelayProxy, a, mx, txt  # noqa: E402
from harness import (AUTHMILTER, MILTC, Milter, MilterError, Results, conf_text, free_port,  # noqa: E402
                     run_miltc, tmpdir)

R = Results()
CLIENT = "192.0.2.10"
TIMEOUT = 2          # dns.timeout in every config here
MARGIN = 1.5         # seconds allowed past a limit
NOBODY = pwd.getpwnam("nobody")
ZONE = [a("mail.example.org", CLIENT),
        txt("_dmarc.reject.example", "v=DMARC1; p=reject"),
        txt("_dmarc.example.com", "v=DMARC1; p=reject")]
# slow.example: SPF whose lookups run one after another: the record, then for each
# mx: term its MX and the address of each of its 10 names (one term, 11 lookups)
SPF_MX_TERMS = 3
SPF_LOOKUPS = 1 + SPF_MX_TERMS * 11
ZONE += [txt("slow.example", "v=spf1 %s ip4:%s -all" % (
    " ".join("mx:m%d.slow.example" % t for t in range(SPF_MX_TERMS)), CLIENT))]
for _t in range(SPF_MX_TERMS):
    for _h in range(10):
        ZONE += [mx("m%d.slow.example" % _t, 10, "h%d-%d.slow.example" % (_t, _h)),
                 a("h%d-%d.slow.example" % (_t, _h), "198.51.100.%d" % (_t * 10 + _h + 1))]
SPF_DELAY = 0.25     # per query: under libunbound's first retransmission (376 ms)


def message(frm, subject):
    return ("From: %s\r\nTo: bob@example.net\r\nSubject: %s\r\n"
            "Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%s@test.example>\r\n"
            "\r\nHello.\r\n" % (frm, subject, re.sub(r"\W", "", subject))).encode()


def keyfile():
    d = tmpdir()
    path = os.path.join(d, "s1.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path],
                   capture_output=True, check=True)
    os.chmod(path, 0o600)
    return path


def config(dns, key=None, **over):
    c = {"authserv_id": "mx.test.example",
         "internal_hosts": ["127.0.0.1/32"],
         "log": {"stderr": True, "level": "info"},
         "dns": {"nameservers": [dns.address], "timeout": TIMEOUT},
         "iprev": {"enable": False},
         "spf": {"on_temperror": "none"}}
    if key is not None:
        c["dkim"] = {'key "com"': {"domain": "example.com", "selector": "s1",
                                   "file": key}}
    c.update(over)
    return c


def signed(res):
    return any(n.lower() == "dkim-signature" for n, _ in res["added"])


def as_nobody(argv, data):
    """argv run as the unprivileged user nobody (a local user of the host)."""
    return subprocess.run(["setpriv", "--reuid=%d" % NOBODY.pw_uid,
                           "--regid=%d" % NOBODY.pw_gid, "--clear-groups"] + argv,
                          input=data, capture_output=True, timeout=60)


def check_oracle(dns, key):
    """A TCP socket signs for any local user; a unix socket at 0660 does not."""
    msg = message("ceo@example.com", "oracle")
    with Milter(config(dns, key), inet=True) as m:
        p = as_nobody([MILTC, "-s", m.socket, "-a", "127.0.0.1", "-n", "localhost",
                       "-f", "ceo@example.com", "-r", "victim@example.net", "-"], msg)
        out = p.stdout.decode("utf-8", "replace")
        R.ok("signing oracle (proof): user nobody on a TCP socket, claiming 127.0.0.1, "
             "gets a DKIM-Signature for example.com",
             p.returncode == 0 and "DKIM-Signature:" in out, out + p.stderr.decode())
        p = as_nobody([MILTC, "-s", m.socket, "-a", "198.51.100.7", "-A", "anyone",
                       "-f", "ceo@example.com", "-r", "victim@example.net", "-"], msg)
        out = p.stdout.decode("utf-8", "replace")
        R.ok("signing oracle (proof): user nobody claiming a SASL login gets signed too",
             p.returncode == 0 and "DKIM-Signature:" in out, out)
        R.ok("TCP socket: the daemon warns at start that any local user can have mail "
             "signed", m.wait_log(r"socket inet:\d+@127\.0\.0\.1 is TCP: every local "
                                  r"user .* prefer a unix socket", 5), m.log_tail())
    with Milter(config(dns, key, socket_mode="0660")) as m:
        p = as_nobody([MILTC, "-s", m.socket, "-a", "127.0.0.1", "-f",
                       "ceo@example.com", "-r", "victim@example.net", "-"], msg)
        R.ok("unix socket at 0660: user nobody cannot connect (miltc exit 2), nothing "
             "signed", p.returncode == 2 and b"DKIM-Signature" not in p.stdout,
             p.stdout + p.stderr)
        mode = stat.S_IMODE(os.stat(m.socket[len("unix:"):]).st_mode)
        R.eq("unix socket is created with socket_mode", oct(mode), "0o660")
        R.ok("unix socket: no TCP warning",
             not any("is TCP" in line for line in m.log_lines()), m.log_tail())


def check_remote_socket():
    """An inet socket beyond loopback is a config error unless socket_allow_remote."""
    d = tmpdir()
    port = free_port()
    cases = [
        ("inet:%d@0.0.0.0" % port, {}, False),
        ("inet:%d" % port, {}, False),
        ("inet:%d@192.0.2.1" % port, {}, False),
        ("inet:%d@localhost" % port, {}, False),
        ("inet6:%d@[::]" % port, {}, False),
        ("inet:%d@0.0.0.0" % port, {"socket_allow_remote": True}, True),
        ("inet:%d@127.0.0.1" % port, {}, True),
        ("inet:%d@127.0.0.53" % port, {}, True),
        ("inet6:%d@[::1]" % port, {}, True),
    ]
    for spec, extra, valid in cases:
        path = os.path.join(d, "remote.conf")
        with open(path, "w") as f:
            f.write(conf_text(dict({"user": "", "dkim": {"verify": False}}, **extra)) +
                    '\nsocket = "%s"\n' % spec)
        lineno = open(path).read().splitlines().index('socket = "%s"' % spec) + 1
        p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True,
                           text=True, timeout=20)
        if valid:
            R.ok("socket %s%s: valid" % (spec, " with socket_allow_remote" if extra else ""),
                 p.returncode == 0, p.stderr)
        else:
            want = "%s:%d: socket: \"%s\" listens beyond loopback" % (path, lineno, spec)
            R.ok("socket %s: refused, naming file, line and key, and "
                 "socket_allow_remote" % spec,
                 p.returncode == 1 and want in p.stderr and
                 "socket_allow_remote = true" in p.stderr, p.stderr)
    # the daemon itself refuses to start on it
    m = Milter('socket = "inet:%d@0.0.0.0"\n' % port, start=False, timeout=10)
    try:
        m.start()
        refused = False
    except MilterError:
        refused = True
    m.stop()
    R.ok("daemon refuses to start on inet:PORT@0.0.0.0", refused and m.returncode == 1
         and "listens beyond loopback" in "\n".join(m.log_lines()), m.log_tail())


def send_no_address(m, frm, qid, rcpt="u@example.com", addr=""):
    """A message from a client without an address; (miltc result, its log line)."""
    res = run_miltc(m.socket, message(frm, qid), client_addr=addr,
                    client_name="localhost", mail_from=frm, rcpts=[rcpt], queue_id=qid)
    return res, m.wait_log(qid + ": ", 5)


def check_no_address(dns, key):
    """A connection without an address: outbound only as local_submission says."""
    spoof = "service@reject.example"
    for family, addr in (("U", ""), ("L", "/var/run/some.sock")):
        with Milter(config(dns, key), inet=True) as m:
            res, line = send_no_address(m, spoof, "QNOADDR" + family, addr=addr)
            R.ok("TCP socket, family %s (no address), From a p=reject domain: judged "
                 "inbound, dmarc=fail, rejected" % family,
                 res["action"] == "reject" and line is not None and
                 " inbound " in line and "dmarc=fail" in line, "%s\n%s" % (res, line))
    with Milter(config(dns, key, local_submission="sign"), inet=True) as m:
        res, line = send_no_address(m, "alice@example.com", "QLOCALSIGN")
        R.ok("TCP socket with local_submission = \"sign\": no-address client signed",
             signed(res) and line is not None and " outbound " in line, line)
    with Milter(config(dns, key)) as m:
        res, line = send_no_address(m, "alice@example.com", "QLOCALUNIX")
        R.ok("unix socket, default: no-address client (sendmail -bs) signed as outbound",
             signed(res) and line is not None and " outbound " in line, line)
    with Milter(config(dns, key, local_submission="inbound")) as m:
        res, line = send_no_address(m, spoof, "QLOCALIN")
        R.ok("unix socket with local_submission = \"inbound\": judged, rejected",
             res["action"] == "reject" and line is not None and " inbound " in line, line)
    d = tmpdir()
    path = os.path.join(d, "bad.conf")
    with open(path, "w") as f:
        f.write('user = ""\nlocal_submission = "yes"\n')
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
    R.ok("local_submission = \"yes\": config error naming file, line, key and the "
         "valid values", p.returncode == 1 and
         '%s:2: local_submission: "yes" is not valid; use sign or inbound' % path
         in p.stderr, p.stderr)


def check_auth_log(dns, key):
    """The SASL login reaches the log line escaped."""
    forged = ("bob dmarc=pass action=accept\r\n"
              "QFORGED: inbound client=mail.example.org[192.0.2.10] dmarc=pass")
    with Milter(config(dns, key)) as m:
        run_miltc(m.socket, message("alice@example.com", "auth log"),
                  client_addr="198.51.100.7", client_name="client.example",
                  mail_from="alice@example.com", rcpts=["u@example.net"], auth=forged,
                  queue_id="QAUTH")
        line = m.wait_log(r"QAUTH: outbound", 5)
        R.ok("log: a SASL login with spaces, '=' and CR LF is written as one escaped "
             "value", line is not None and
             "auth=bob?dmarc?pass?action?accept??QFORGED:?inbound?" in line and
             " dmarc=pass" not in line, line)
        R.ok("log: the login's CR LF does not start a forged line",
             not any(l.startswith("QFORGED") or "QFORGED: inbound" in l.split("auth=")[0]
                     for l in m.log_lines()), m.log_tail())


def check_socket_symlink():
    """A symlink swapped in for the socket between bind and chmod/chown."""
    d = tmpdir()
    victim = os.path.join(d, "victim")
    with open(victim, "w") as f:
        f.write("secret\n")
    os.chmod(victim, 0o600)
    sockdir = tmpdir()
    sock = os.path.join(sockdir, "sock")
    conf = os.path.join(d, "milter.conf")
    with open(conf, "w") as f:
        f.write(conf_text({"socket": "unix:" + sock, "socket_mode": "0666",
                           "user": "nobody", "dkim": {"verify": False},
                           "log": {"stderr": True}}) + "\n")
    # strace holds the daemon for 2 s right after each bind(): the window in which
    # a local attacker with write access to the socket's directory swaps the name
    log = open(os.path.join(d, "stderr.log"), "wb")
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=bind",
                          "-e", "inject=bind:delay_exit=2000000", AUTHMILTER, "-c", conf],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    swapped = False
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            try:
                if stat.S_ISSOCK(os.lstat(sock).st_mode):
                    os.unlink(sock)
                    os.symlink(victim, sock)
                    swapped = True
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.005)
        try:
            p.wait(timeout=6)
        except subprocess.TimeoutExpired:
            pass
    finally:
        # the group: a daemon strace leaves behind when killed goes too
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        log.close()
    st = os.stat(victim)
    out = open(os.path.join(d, "stderr.log"), "rb").read().decode("utf-8", "replace")
    R.ok("socket path: the swap happened inside the window", swapped, out)
    R.ok("socket path swapped for a symlink: the target's mode is not changed",
         stat.S_IMODE(st.st_mode) == 0o600, oct(stat.S_IMODE(st.st_mode)))
    R.ok("socket path swapped for a symlink: the target's owner is not changed",
         st.st_uid == 0, "uid %d" % st.st_uid)
    R.ok("socket path swapped for a symlink: the daemon refuses to run",
         p.returncode == 1 and "was replaced by something else after bind" in out,
         "status %s: %s" % (p.returncode, out[-600:]))


def check_spf_deadline(dns):
    """SPF's lookups one after another against a slow DNS: one deadline for all."""
    msg = message("alice@slow.example", "spf slow")
    with DelayProxy(dns.port, SPF_DELAY) as slow:
        with Milter(config(slow, dmarc={"enable": False},
                           dkim={"verify": False})) as m:
            t0 = time.monotonic()
            run_miltc(m.socket, msg, client_addr=CLIENT, client_name="mail.example.org",
                      helo="mail.example.org", mail_from="alice@slow.example",
                      rcpts=["u@example.com"], queue_id="QSPFSLOW")
            took = time.monotonic() - t0
            line = m.wait_log("QSPFSLOW: inbound", 5)
    R.ok("SPF: %d lookups in a row at %.2f s each against dns.timeout %d s: "
         "spf=temperror within 2 x dns.timeout (took %.1f s)"
         % (SPF_LOOKUPS, SPF_DELAY, TIMEOUT, took),
         line is not None and "spf=temperror" in line and took < 2 * TIMEOUT + MARGIN,
         "took %.1f s: %s" % (took, line))
    with Milter(config(dns, dmarc={"enable": False}, dkim={"verify": False})) as m:
        run_miltc(m.socket, msg, client_addr=CLIENT, client_name="mail.example.org",
                  helo="mail.example.org", mail_from="alice@slow.example",
                  rcpts=["u@example.com"], queue_id="QSPFFAST")
        line = m.wait_log("QSPFFAST: inbound", 5)
        R.ok("SPF: the same chain on a fast DNS still passes", line is not None and
             "spf=pass" in line, line)


def main():
    key = keyfile()
    with DNSServer(ZONE) as dns:
        R.run("signing oracle", check_oracle, dns, key)
        R.run("remote socket", check_remote_socket)
        R.run("no-address clients", check_no_address, dns, key)
        R.run("auth in the log", check_auth_log, dns, key)
        R.run("SPF deadline", check_spf_deadline, dns)
    R.run("socket symlink", check_socket_symlink)
    R.exit()


if __name__ == "__main__":
    main()
