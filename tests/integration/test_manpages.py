#!/usr/bin/python3
"""test_manpages - every man page renders with groff without a warning (-ww), and no
alternating-font macro (.BR, .IR, ...) glues words together: an argument ending in
',', ';' or ')' followed by one starting with a letter renders as
"milter.conf(5)),anAuthentication-Results" (seen in authmilter(8)); groff does not
warn about that, so it is checked in the source."""

import glob
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Results  # noqa: E402

R = Results()
ALTERNATING = re.compile(r"^\.(BR|RB|BI|IB|IR|RI)\s+(.*)$")


def glued(path):
    """Lines whose alternating-font arguments run two words together."""
    bad = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = ALTERNATING.match(line.rstrip("\n"))
            if not m:
                continue
            try:
                args = shlex.split(m.group(2).replace("\\", "\\\\"))
            except ValueError:
                bad.append("%d: unbalanced quotes" % n)
                continue
            for a, b in zip(args, args[1:]):
                if re.search(r"[,;)]$", a) and re.match(r"[A-Za-z]", b):
                    bad.append("%d: %r then %r" % (n, a, b))
    return bad


def main():
    pages = sorted(glob.glob(os.path.join(SRCDIR, "milter", "man", "*.[1-8]")))
    R.ok("man pages found (%d)" % len(pages), len(pages) >= 5)
    for page in pages:
        name = os.path.basename(page)
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           capture_output=True, text=True)
        R.ok("%s renders without groff warnings" % name,
             p.returncode == 0 and p.stderr == "", p.stderr)
        bad = glued(page)
        R.ok("%s: no alternating-font macro glues two words" % name, not bad,
             "; ".join(bad))
    R.exit()


main()
