#!/usr/bin/python3
"""test_stop - SIGTERM ends the daemon promptly and cleanly (issue 17).

- Idle, on a unix and on an inet socket: the daemon exits 0 within 1 s (libmilter's
  listener alone sleeps up to 5 s in select() before it closes the socket; it
  took 3-8 s before stop.c).
- The Debian package's layout (issue 30.2): the socket in a root:postfix 0750
  directory and the daemon running as authmilter, which cannot enter it: exits
  within 1 s too (it took 3.3-6.5 s: the wake-up connection got EACCES).
- Busy: a message whose checks wait for a slow DNS is in flight when SIGTERM
  arrives; the MTA (miltc) still gets its reply for it, the daemon exits within
  dns.timeout + 1 s, and says it stopped.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, run_miltc  # noqa: E402
from dnsserver import DNSServer, DelayProxy, a, txt  # noqa: E402

R = Results()
SLOW = os.environ.get("AUTHMILTER_VALGRIND") == "1"
MSG = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: stop\r\n\r\nHello.\r\n")


def stop_time(m):
    """SIGTERM and the seconds until the process has exited."""
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    m.proc.wait(timeout=30)
    return time.monotonic() - t0, m.proc.returncode


def idle(dns, inet):
    kind = "inet" if inet else "unix"
    conf = {"dns": {"nameservers": [dns.address], "timeout": 2}}
    m = Milter(conf, inet=inet)
    time.sleep(0.3)
    took, rc = stop_time(m)
    limit = 4.0 if SLOW else 1.0
    R.ok("idle, %s socket: SIGTERM exits within %.0f s (%.2f s)" % (kind, limit, took),
         took < limit, m.log_tail(3))
    R.eq("idle, %s socket: exit status 0" % kind, rc, 0)
    R.ok("idle, %s socket: logs 'stopped'" % kind,
         any(line.endswith("stopped") for line in m.log_lines()), m.log_tail(3))
    m.stop()


def busy(dns):
    timeout = 3
    with DelayProxy(dns.port, 1.5) as slow:
        conf = {"authserv_id": "mx.test.example", "internal_hosts": ["127.0.0.1/32"],
                "dns": {"nameservers": [slow.address], "timeout": timeout}}
        m = Milter(conf)
        out = {}

        def send():
            out["r"] = run_miltc(m.socket, MSG, check=False, client_addr="192.0.2.10",
                                 client_name="mail.example.org", helo="mail.example.org",
                                 mail_from="a@example.org", rcpts=["b@example.net"],
                                 queue_id="STOP1")

        t = threading.Thread(target=send)
        t.start()
        # the message is in the daemon, its lookups waiting on the slow DNS
        m.wait_log(r"STOP1|NOQUEUE", 0.1)
        time.sleep(0.5)
        took, rc = stop_time(m)
        t.join(30)
        r = out.get("r") or {}
        R.ok("busy: the message in flight gets its reply (%s %s)"
             % (r.get("action"), r.get("reply")),
             r.get("rc") == 0 and r.get("action") in ("accept", "tempfail", "reject"),
             r.get("stderr"))
        R.ok("busy: the daemon exits within dns.timeout + 1 s (%.2f s)" % took,
             took < timeout + 1 + (6 if SLOW else 0.5), m.log_tail(3))
        R.eq("busy: exit status 0", rc, 0)
        R.ok("busy: the message was logged before the stop",
             any("STOP1: inbound" in line for line in m.log_lines()), m.log_tail(5))
        m.stop()


def package_layout(dns, group):
    """The Debian package's layout: the socket in a root:GROUP 0750 directory the
    daemon's user (authmilter) cannot enter; before issue 30 its wake-up connection
    got EACCES and the stop waited out libmilter's 5 s poll."""
    if os.geteuid() != 0:
        R.skip("package layout", "needs root")
        return
    if subprocess.run(["getent", "passwd", "authmilter"], capture_output=True).returncode:
        subprocess.run(["adduser", "--system", "--group", "--no-create-home", "--home",
                        "/nonexistent", "--quiet", "authmilter"], check=True)
    if subprocess.run(["getent", "group", group], capture_output=True).returncode:
        subprocess.run(["addgroup", "--system", "--quiet", group], check=True)
    base = tempfile.mkdtemp(prefix="amspool.")
    os.chmod(base, 0o755)
    sockdir = os.path.join(base, "authmilter")
    os.mkdir(sockdir)
    shutil.chown(sockdir, "root", group)
    os.chmod(sockdir, 0o750)
    try:
        conf = {"socket": "unix:%s/authmilter.sock" % sockdir, "user": "authmilter",
                "socket_mode": "0660", "dns": {"nameservers": [dns.address]}}
        m = Milter(conf, start=False)
        m.socket = conf["socket"]
        m.start()
        time.sleep(0.3)
        took, rc = stop_time(m)
        limit = 4.0 if SLOW else 1.0
        R.ok("package layout (root:%s 0750, user authmilter): SIGTERM exits within "
             "%.0f s (%.2f s)" % (group, limit, took), took < limit, m.log_tail(3))
        R.eq("package layout (root:%s): exit status 0" % group, rc, 0)
        m.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main():
    with DNSServer([a("mail.example.org", "192.0.2.10"),
                    txt("example.org", "v=spf1 ip4:192.0.2.10 -all")],
                   ptrs=[("192.0.2.10", "mail.example.org")]) as dns:
        R.run("idle unix", idle, dns, False)
        R.run("idle inet", idle, dns, True)
        R.run("busy", busy, dns)
        R.run("package layout, postfix", package_layout, dns, "postfix")
        R.run("package layout, authmilter", package_layout, dns, "authmilter")
    R.exit()


if __name__ == "__main__":
    main()
