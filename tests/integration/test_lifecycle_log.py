#!/usr/bin/python3
"""test_lifecycle_log - nothing fails silently at start, reload or stop (issue 30.4, 30.6).

- A start that fails (socket directory missing) with log.stderr off prints its
  reason to stderr (no syslog daemon: the log alone reaches no one) and exits 1.
- A reload that changes the socket or metrics.listen logs that the change needs a
  restart and that reload is SIGUSR1, and keeps serving on the old socket.
- SIGHUP stops the daemon (libmilter's convention) and the log says why.
- `authmilter --help` prints the usage and exits 0.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AUTHMILTER, Milter, Results, conf_text, free_port, tmpdir  # noqa: E402
from dnsserver import DNSServer, a  # noqa: E402

R = Results()


def fatal_to_stderr(dns):
    d = tmpdir()
    path = os.path.join(d, "milter.conf")
    with open(path, "w") as f:
        f.write(conf_text({"socket": "unix:%s/missing/sock" % d, "user": "",
                           "log": {"stderr": False},
                           "dns": {"nameservers": [dns.address]}}) + "\n")
    p = subprocess.run([AUTHMILTER, "-c", path], capture_output=True, text=True,
                       timeout=30)
    R.eq("failed start: exit status 1", p.returncode, 1)
    R.ok("failed start: the reason on stderr with log.stderr off (%r)"
         % p.stderr.strip(), "cannot open socket" in p.stderr and "missing" in p.stderr,
         p.stderr)


def reload_unapplied(dns):
    port = free_port()
    conf = {"dns": {"nameservers": [dns.address]},
            "metrics": {"listen": "127.0.0.1:%d" % port}}
    with Milter(conf) as m:
        old = m.socket
        conf2 = dict(conf, socket="unix:%s/other.sock" % m.dir,
                     metrics={"listen": "127.0.0.1:%d" % free_port()})
        m.write_config(conf_text(conf2))
        m.reload()
        sock = m.wait_log(r"reload: socket changed .*needs a restart")
        met = m.wait_log(r"reload: metrics.listen changed .*needs a restart")
        R.ok("reload: a socket change logs 'needs a restart'", sock is not None,
             m.log_tail(5))
        R.ok("reload: the line says reload is SIGUSR1", sock is not None and
             "SIGUSR1" in sock, sock or "")
        R.ok("reload: a metrics.listen change logs 'needs a restart'", met is not None,
             m.log_tail(5))
        R.ok("reload: still listening on the old socket", m._try_connect(), old)


def sighup_says_why(dns):
    m = Milter({"dns": {"nameservers": [dns.address]}})
    m.signal(signal.SIGHUP)
    m.proc.wait(timeout=10)
    R.eq("SIGHUP: exit status 0", m.proc.returncode, 0)
    R.ok("SIGHUP: the log says why it stopped",
         m.wait_log(r"stopping on SIGHUP.*reload is SIGUSR1", 1) is not None,
         m.log_tail(3))
    m.stop()


def help_usage():
    p = subprocess.run([AUTHMILTER, "--help"], capture_output=True, text=True, timeout=10)
    R.eq("--help: exit status 0", p.returncode, 0)
    R.ok("--help: prints the usage", p.stdout.startswith("usage: authmilter"),
         p.stdout + p.stderr)
    R.ok("--help: no 'invalid option'", "invalid option" not in p.stderr +
         p.stdout and "unrecognized" not in p.stderr, p.stderr)


def main():
    with DNSServer([a("mail.example.org", "192.0.2.10")]) as dns:
        R.run("fatal to stderr", fatal_to_stderr, dns)
        R.run("reload unapplied", reload_unapplied, dns)
        R.run("sighup", sighup_says_why, dns)
    R.run("help", help_usage)
    R.exit()


if __name__ == "__main__":
    main()
