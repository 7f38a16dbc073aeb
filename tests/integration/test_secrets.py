#!/usr/bin/python3
"""test_secrets - report.database's password is never shown (authmilter -n, a refused
reload; the report writer's log lines are checked in test_report_record), and a configuration holding it that every
user may read is warned about at start and at reload (issue 24, finding 5)."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AUTHMILTER, Milter, Results, tmpdir  # noqa: E402

R = Results()
PASSWORD = "S3cretPW"
# each is refused by `authmilter -n`; libpq's own message quotes the whole first one
TYPOS = {
    "unclosed IPv6 bracket": "postgresql://am:%s@[db.example/reports" % PASSWORD,
    "scheme misspelt": "postgressql://am:%s@db.example/reports" % PASSWORD,
    "bad percent escape in the password": "postgresql://am:%s%%zz@db.example/reports"
                                          % PASSWORD,
    "password in the query, a bad option": "postgresql://am@db.example/reports?password=%s"
                                           "&sslmode" % PASSWORD,
}
GOOD = "postgresql://am:%s@127.0.0.1:1/reports" % PASSWORD


def write_conf(path, database, mode):
    """write_conf - a minimal daemon config naming database, with that file mode."""
    with open(path, "w") as f:
        f.write('user = ""\nlog {\n  stderr = true\n  level = "debug"\n}\n'
                'report {\n  database = "%s"\n}\n' % database)
    os.chmod(path, mode)


def test_check_only():
    """authmilter -n on each typo: refused, the URI shown masked, no password."""
    d = tmpdir()
    for what, uri in TYPOS.items():
        path = os.path.join(d, "milter.conf")
        write_conf(path, uri, 0o600)
        p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
        out = p.stdout + p.stderr
        R.ok("-n, %s: refused, names report.database" % what,
             p.returncode == 1 and "report.database" in out, out)
        R.ok("-n, %s: the password is not printed" % what, PASSWORD not in out, out)
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
    R.ok("-n: the user name stays, the password is ***",
         "am:***@" in p.stderr or "password=***" in p.stderr, p.stderr)


def test_reload_refused():
    """A reload to a typo'd URI is refused; no log line carries the password."""
    m = Milter({"report": {"database": "sqlite:/nonexistent/r.db"}})
    try:
        for what, uri in TYPOS.items():
            cfg = m.config_text.replace('"sqlite:/nonexistent/r.db"', '"%s"' % uri)
            with open(m.config_path, "w") as f:
                f.write(cfg)
            before = len(m.log_lines())
            m.reload()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(
                    "has errors" in x for x in m.log_lines()[before:]):
                time.sleep(0.05)
            new = "\n".join(m.log_lines()[before:])
            R.ok("reload, %s: refused" % what, "has errors" in new and
                 "report.database" in new, new)
            R.ok("reload, %s: no log line carries the password" % what,
                 PASSWORD not in new, new)
    finally:
        m.stop()


def test_readable_warning():
    """A config holding a password: warned about when world-readable, not when 0640."""
    d = tmpdir()
    for mode, database, warned in ((0o644, GOOD, True), (0o640, GOOD, False),
                                   (0o644, "sqlite:%s/r.db" % d, False)):
        path = os.path.join(d, "milter.conf")
        write_conf(path, database, mode)
        p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
        said = "every user may read it" in p.stderr
        R.ok("-n, mode %04o, %s: %s" % (mode, database.split(":")[0],
             "warned on stderr" if warned else "no warning"),
             p.returncode == 0 and said == warned and PASSWORD not in p.stderr,
             p.stdout + p.stderr)
    # the daemon itself, at start and at a reload
    write_conf(path, GOOD, 0o644)
    with open(path) as f:
        text = f.read()
    m = Milter(text, start=False)
    os.chmod(m.config_path, 0o644)
    m.start()
    try:
        R.ok("start, mode 0644 with a password: warned",
             m.wait_log(r"holds report\.database's password and every user may read "
                        r"it \(mode 0644\)", 5) is not None, m.log_tail())
        os.chmod(m.config_path, 0o640)
        before = len(m.log_lines())
        m.reload()
        m.wait_log(r"reloaded ", 5)
        R.ok("reload, mode 0640: no warning",
             not any("every user may read" in x for x in m.log_lines()[before:]),
             m.log_tail())
    finally:
        m.stop()


def main():
    R.run("check only", test_check_only)
    R.run("reload refused", test_reload_refused)
    R.run("readable warning", test_readable_warning)
    R.exit()


if __name__ == "__main__":
    main()
