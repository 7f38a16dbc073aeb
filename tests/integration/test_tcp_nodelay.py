#!/usr/bin/python3
"""test_tcp_nodelay - on an inet/inet6 socket the daemon's connections run with
TCP_NODELAY, so a message does not stall on the MTA's delayed ACK (issue 19).

At the end of a signed message libmilter writes the header change and then the
verdict, each with its own writev; with Nagle on, the small verdict waits for the
MTA's ACK of the first packet, which Linux delays by 40 ms. The daemon sets
TCP_NODELAY on libmilter's listening socket and accepted sockets inherit it.

    option    the listening socket and an accepted connection have TCP_NODELAY,
              read from the daemon's own descriptors (pidfd_getfd, as root),
              for inet:PORT@127.0.0.1 and inet6:PORT@[::1]
    latency   20 signed messages over one connection (tests/bench/loadgen, which
              sets TCP_NODELAY on its own side): every message signed, and the
              median end-of-body-to-verdict time over TCP is within 20 ms of the
              same over a unix socket (the stall adds >= 40 ms; a relative bound
              holds under ASan and valgrind, where signing itself is slower)
    postfix   the other half is Postfix's: its smtpd flushes the RCPT/DATA macros
              when it hands the milter connection to cleanup, and cleanup's first
              write waits (Nagle, on Postfix's side) for our ACK unless those
              macros got a reply. So the DATA step stays negotiated (SMFIP_NODATA
              not asked for, read from miltc's negotiation output), and through a
              real Postfix, 12 signed messages one session each, the median time
              per message over TCP is within 20 ms of the same over a unix socket
"""
import ctypes
import errno
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mta  # noqa: E402
from dnsserver import DNSServer  # noqa: E402

LOADGEN = os.path.join(harness.BUILDDIR, "tests", "bench", "loadgen")
SYS_PIDFD_GETFD = 438   # the same number on every Linux architecture
MESSAGES = 20
SLACK_MS = 20.0
POSTFIX_MESSAGES = 12
SMFIP_NODATA = 0x200

_libc = ctypes.CDLL(None, use_errno=True)


def daemon_sockets(pid):
    """Copies (pidfd_getfd) of every socket the process pid holds, as socket objects;
    the caller closes them. OSError when the kernel or our privileges refuse."""
    out = []
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                    continue
            except FileNotFoundError:
                continue
            fd = _libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                e = ctypes.get_errno()
                if e == errno.EBADF:    # closed since listdir
                    continue
                raise OSError(e, "pidfd_getfd: " + os.strerror(e))
            out.append(socket.socket(fileno=fd))
    finally:
        os.close(pidfd)
    return out


def nodelay(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def check_option(r, m, family, host, port):
    """The daemon's listener on port, and its end of our connection, have TCP_NODELAY.
    The kernel completes connections as soon as libmilter listens, before the daemon
    sets the option: connect only once it says it started."""
    r.ok("%s: daemon started" % m.socket, m.wait_log(r"started .* on ", timeout=30),
         m.log_tail())
    client = socket.socket(family, socket.SOCK_STREAM)
    client.settimeout(5)
    client.connect((host, port))
    mine = client.getsockname()[:2]
    try:
        listener = accepted = None
        for _ in range(50):       # the accept runs in the daemon's listener thread
            socks = daemon_sockets(m.proc.pid)
            for s in socks:
                if s.family != family or s.type != socket.SOCK_STREAM:
                    continue
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    if s.getsockname()[1] == port:
                        listener = nodelay(s)
                else:
                    try:
                        if s.getpeername()[:2] == mine:
                            accepted = nodelay(s)
                    except OSError:
                        pass
                s.close()
            if listener is not None and accepted is not None:
                break
            time.sleep(0.05)
        name = "%s listener" % m.socket
        r.ok(name + " found among the daemon's descriptors", listener is not None)
        r.ok(name + " has TCP_NODELAY", listener is True, "TCP_NODELAY %r" % listener)
        r.ok("%s accepted connection has TCP_NODELAY" % m.socket, accepted is True,
             "TCP_NODELAY %r (None: connection not found)" % accepted)
    finally:
        client.close()


def run_load(sock, msg):
    p = subprocess.run([LOADGEN, "-s", sock, "-c", "1", "-n", str(MESSAGES), "-m",
                        str(MESSAGES), "-a", "127.0.0.1", "-f", "a@example.com",
                        "-t", "60", msg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    if p.returncode != 0:
        raise RuntimeError("loadgen exited %d: %s" % (p.returncode, p.stderr.decode()))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def postfix_median_ms(conf, sock_dir, inet, msg):
    """Median ms per message (one SMTP session each) through a private Postfix whose
    smtpd_milters is the daemon on TCP or on a unix socket in sock_dir; and how
    many of the messages smtp-sink got signed."""
    m = harness.Milter(start=False, inet=inet)
    if not inet:
        m.socket = "unix:%s/authmilter.sock" % sock_dir
    m.write_config(dict(conf, socket=m.socket, socket_mode="0666"))
    wd = mta.make_workdir("amt-nodelay-")
    sink = mta.SmtpSink(wd).start()
    name = ("inet:127.0.0.1:%d" % m.port) if inet else m.socket
    pf = None
    try:
        m.start()
        pf = mta.Postfix(wd, name, sink.port).start()
        times = []
        for i in range(POSTFIX_MESSAGES + 1):
            t0 = time.monotonic()
            res = mta.smtp_send(pf.port, "a@example.com", ["b@example.net"], msg)
            if not res.accepted:
                raise RuntimeError("message %d not accepted: %s\n%s"
                                   % (i, res, pf.maillog()[-1500:]))
            if i > 0:       # the first one starts Postfix's processes
                times.append((time.monotonic() - t0) * 1000)
        got = sink.new_messages(POSTFIX_MESSAGES + 1)
        signed = sum(1 for _, data in got if b"\nDKIM-Signature:" in data
                     or data.startswith(b"DKIM-Signature:"))
    finally:
        if pf is not None:
            pf.stop()
        sink.stop()
        m.stop()
    return sorted(times)[len(times) // 2], signed


def main():
    r = harness.Results()
    d = harness.tmpdir()
    key = mta.make_dkim_key(d, "example.com", "s")[0]
    dns = DNSServer([])
    conf = {"dns": {"nameservers": [dns.address]},
            "log": {"stderr": True, "level": "info"},
            "dkim": {"require_safe_keys": False,
                     'key "k"': {"domain": "example.com", "selector": "s", "file": key}}}
    msg = os.path.join(d, "m.eml")
    with open(msg, "w") as f:
        f.write("From: A <a@example.com>\nTo: b@example.net\nSubject: nodelay\n"
                "Date: Fri, 21 Nov 2025 12:00:00 +0000\nMessage-ID: <n.1@example.com>\n\n"
                + "a line of body text to hash and sign, over and over again\n" * 60)

    try:
        with harness.Milter(conf, inet=True) as m4:
            r.run("inet option check ran", check_option, r, m4, socket.AF_INET,
                  "127.0.0.1", m4.port)
            r.ok("no warning about TCP_NODELAY in the log",
                 not any("TCP_NODELAY" in line for line in m4.log_lines()), m4.log_tail())
            with harness.Milter(conf) as mu:
                unix = r.run("loadgen over the unix socket ran", run_load, mu.socket, msg)
            tcp = r.run("loadgen over TCP ran", run_load, m4.socket, msg)
            if unix and tcp:
                for name, res in (("unix", unix), ("TCP", tcp)):
                    r.eq("%s: %d messages, no errors" % (name, MESSAGES),
                         (res["completed"], res["errors"]), (MESSAGES, 0))
                    r.eq("%s: every message signed" % name, res["dkim_signatures"],
                         MESSAGES)
                u, t = unix["eom_ms"]["p50"], tcp["eom_ms"]["p50"]
                r.ok("TCP end-of-body-to-verdict median within %.0f ms of unix "
                     "(no delayed-ACK stall)" % SLACK_MS, t < u + SLACK_MS,
                     "TCP %.3f ms, unix %.3f ms" % (t, u))

        port6 = harness.free_port()
        m6 = harness.Milter(dict(conf, socket="inet6:%d@[::1]" % port6), start=False)

        def try6():
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                try:
                    s.connect(("::1", port6))
                    return True
                except OSError:
                    return False
        m6.socket = "inet6:%d@[::1]" % port6
        m6._try_connect = try6
        with m6.start():
            r.run("inet6 option check ran", check_option, r, m6, socket.AF_INET6,
                  "::1", port6)

        with harness.Milter(conf) as mu:
            neg = harness.run_miltc(mu.socket, open(msg).read(), client_addr="127.0.0.1",
                                    mail_from="a@example.com")
        r.eq("the DATA step is negotiated (no SMFIP_NODATA)",
             neg["protocol"] & SMFIP_NODATA if neg["protocol"] is not None else None, 0)

        text = open(msg).read()
        sock_dir = mta.make_workdir("amt-nodelay-sock-")
        unix = r.run("Postfix with authmilter on a unix socket ran", postfix_median_ms,
                     conf, sock_dir, False, text)
        tcp = r.run("Postfix with authmilter on TCP ran", postfix_median_ms, conf,
                    sock_dir, True, text)
        if unix and tcp:
            r.eq("Postfix, unix socket: every message signed", unix[1], POSTFIX_MESSAGES + 1)
            r.eq("Postfix, TCP: every message signed", tcp[1], POSTFIX_MESSAGES + 1)
            r.ok("Postfix: median per message over TCP within %.0f ms of unix "
                 "(no delayed-ACK stall on either side)" % SLACK_MS,
                 tcp[0] < unix[0] + SLACK_MS,
                 "TCP %.1f ms, unix %.1f ms" % (tcp[0], unix[0]))
    finally:
        dns.cleanup()
    r.exit()


if __name__ == "__main__":
    main()
