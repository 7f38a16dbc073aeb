#!/usr/bin/python3
"""test_function_length - no function in milter/*/*.c is longer than 100 lines
(issue 12; HACKING.md, "Files", asks for small pieces).

A function is what this tree's layout makes of one: a line at column 0 that starts
a name followed by '(' (the return type on the line above), through the matching
'}' at column 0. Its length counts every line from the name line to that '}'.
Prints one "ok" line per file and one "not ok" line per function over the limit;
a file where a '{' at column 0 has no such name line fails too, so that a change
of layout cannot hide a function from the count."""

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Results  # noqa: E402

LIMIT = 100
NAME = re.compile(r"^\*?([A-Za-z_][A-Za-z0-9_]*)\(")


def functions(path):
    """(name, first line, length) of each function in path; name None when a
    body at column 0 has no name line above it"""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    found, start, name = [], None, None
    for i, line in enumerate(lines):
        if line.startswith("{") and start is None:
            # the name line: the nearest line above that starts a declarator
            j = i - 1
            while j >= 0 and not NAME.match(lines[j]) and lines[j].startswith(("\t", " ")):
                j -= 1
            m = NAME.match(lines[j]) if j >= 0 else None
            start, name = (j, m.group(1)) if m else (i, None)
        elif line.startswith("}") and start is not None:
            found.append((name, start + 1, i - start + 1))
            start = None
    return found


def main():
    R = Results()
    files = sorted(glob.glob(os.path.join(SRCDIR, "milter", "*", "*.c")))
    if not files:
        R.fail("no milter/*/*.c under %s" % SRCDIR)
        R.exit()
    longest = (None, 0, "")
    for path in files:
        base = os.path.basename(path)
        bad = []
        for name, line, length in functions(path):
            if name is None:
                bad.append("%s:%d: a body at column 0 without a name line"
                           % (base, line))
            elif length > LIMIT:
                bad.append("%s:%d: %s is %d lines (limit %d)"
                           % (base, line, name, length, LIMIT))
            if name is not None and length > longest[1]:
                longest = (name, length, base)
        for b in bad:
            R.fail(b)
        if not bad:
            R.ok("%s: every function within %d lines" % (base, LIMIT), True)
    print("# longest: %s (%s), %d lines" % (longest[0], longest[2], longest[1]))
    R.exit()


main()
