#!/usr/bin/python3
"""test_conf_lines - `authmilter -n` names the right FILE:LINE for an error in the
shipped, commented conf/milter.conf (Debian 12's libconfuse 3.3 counted each comment
line three times: a typo on line 11 was reported as line 27). An unknown key is
inserted before known lines (first, middle of each kind of section, the last lines,
appended at the end), and a bad value replaces known settings; the reported line
must be the line the error is on."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AUTHMILTER, SRCDIR, Results, tmpdir  # noqa: E402

R = Results()
SHIPPED = os.path.join(SRCDIR, "conf", "milter.conf")


def check(lines, name):
    """authmilter -n on these lines: (exit code, first line of stderr, path)."""
    path = os.path.join(tmpdir(), "milter.conf")
    with open(path, "w") as f:
        f.write("".join(lines))
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True)
    first = (p.stderr.splitlines() or [""])[0]
    return p.returncode, first, path


def line_of(lines, pattern):
    """1-based number of the one line matching pattern."""
    hits = [i + 1 for i, s in enumerate(lines) if re.match(pattern, s)]
    assert len(hits) == 1, "%r matches lines %s" % (pattern, hits)
    return hits[0]


def unknown_key_at(lines, at):
    """Insert `bogus_key = 1` so that it becomes line `at`; the report names it."""
    text = lines[:at - 1] + ["bogus_key = 1\n"] + lines[at - 1:]
    rc, first, path = check(text, "insert %d" % at)
    want = re.compile(r"^%s:%d: (\w+\.)?bogus_key: unknown key$" % (re.escape(path), at))
    R.ok("unknown key on line %d of %d is reported on line %d" % (at, len(text), at),
         rc == 1 and want.match(first), "exit %d, %r" % (rc, first))


def bad_value(lines, pattern, new, key, why):
    """Replace the line matching pattern with new; the report names its line."""
    at = line_of(lines, pattern)
    text = list(lines)
    text[at - 1] = new + "  # replaced\n"
    rc, first, path = check(text, key)
    want = "%s:%d: %s: %s" % (path, at, key, why)
    R.ok("%s on line %d is reported on line %d" % (key, at, at),
         rc == 1 and first == want, "exit %d, got %r, want %r" % (rc, first, want))


def main():
    with open(SHIPPED) as f:
        lines = f.readlines()
    n = len(lines)
    comments = sum(1 for s in lines if "#" in s)
    R.ok("the shipped file has comments to miscount (%d of %d lines)" % (comments, n),
         comments > 20)
    # before the first line, a top-level line after comments, then inside each
    # section (after comment-only lines), and the last lines of the file
    sections = [line_of(lines, r"^%s \{" % s) + 1 for s in
                ("log", "dns", "dkim", "dmarc", "arc", "report")]
    for at in sorted({1, line_of(lines, r"^authserv_id "), *sections,
                      line_of(lines, r"^\s*# key \"example.com-rsa\""),
                      line_of(lines, r"^\s*keys_directory ") + 2,
                      n - 1, n, n + 1}):
        unknown_key_at(lines, at)
    bad_value(lines, r"^\s*timeout\s*=", "  timeout = 600", "dns.timeout",
              "600 is out of range 1..60")
    bad_value(lines, r"^\s*queue\s*=", "  queue = 0", "report.queue",
              "0 is out of range 1..1000000")
    bad_value(lines, r"^\s*failure_rate\s*=", "  failure_rate = -1", "report.failure_rate",
              "-1 is out of range 0..100000")
    bad_value(lines, r"^\s*max_signatures\s*=", "  max_signatures = 0",
              "dkim.max_signatures", "0 is out of range 1..50")
    R.exit()


main()
