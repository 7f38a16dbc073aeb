#!/usr/bin/python3
"""test_fuzz_smoke - build the libFuzzer harnesses (tests/fuzz/build-fuzzers, clang
with ASan+UBSan) and run each one briefly over its seed corpus: a crash, a sanitizer
report, a leak or a broken harness invariant fails the case.

Needs clang (CI installs it). New inputs go to a temporary directory, never into
the seed corpus in the tree. FUZZ_SMOKE_SECONDS (default 10) bounds each run.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR as builddir, SRCDIR as srcdir, Results  # noqa: E402

RUNS = 20000
SECONDS = int(os.environ.get("FUZZ_SMOKE_SECONDS", "10"))

fuzzdir = os.path.join(builddir, "tests", "fuzz")
# the harnesses are the tests/fuzz/fuzz_*.c files: the one list, as build-fuzzers reads it
HARNESSES = sorted(os.path.basename(p)[len("fuzz_"):-len(".c")]
                   for p in glob.glob(os.path.join(srcdir, "tests", "fuzz", "fuzz_*.c")))
R = Results()


def result(ok, name, detail=""):
    """result - one check; a failure shows the last 40 lines of detail"""
    R.ok(name, ok, "\n" + "\n".join(detail.splitlines()[-40:]) if detail else "")


if shutil.which("clang") is None:
    result(False, "clang is installed (needed for libFuzzer)")
    R.exit()

result(len(HARNESSES) > 0, "harnesses found: %s" % " ".join(HARNESSES))
env = dict(os.environ, AUTHMILTER_SRCDIR=srcdir, AUTHMILTER_BUILDDIR=builddir)
b = subprocess.run([os.path.join(srcdir, "tests", "fuzz", "build-fuzzers"), fuzzdir],
                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
result(b.returncode == 0, "build-fuzzers builds every harness", b.stdout)
if b.returncode != 0:
    R.exit()

run_env = dict(os.environ,
               ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
for h in HARNESSES:
    seeds = os.path.join(srcdir, "tests", "fuzz", "corpus", h)
    with tempfile.TemporaryDirectory(prefix="fuzz_%s." % h) as work:
        cmd = [os.path.join(fuzzdir, "fuzz_" + h), "-runs=%d" % RUNS,
               "-max_total_time=%d" % SECONDS, "-timeout=10", "-rss_limit_mb=2048",
               "-print_final_stats=1", "-artifact_prefix=%s/" % work, work, seeds]
        p = subprocess.run(cmd, env=run_env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        execs = [l.rsplit(":", 1)[1].strip() for l in p.stdout.splitlines()
                 if l.startswith("stat::number_of_executed_units")]
        nseeds = len(os.listdir(seeds))
        result(p.returncode == 0 and nseeds > 0,
               "fuzz_%s: %s executions, no crash (%d seeds)"
               % (h, execs[0] if execs else "?", nseeds), p.stdout)
        # a seed is a regression case too: each must run on its own
        p = subprocess.run([os.path.join(fuzzdir, "fuzz_" + h)] +
                           [os.path.join(seeds, f) for f in sorted(os.listdir(seeds))],
                           env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        result(p.returncode == 0, "fuzz_%s: every seed runs clean" % h, p.stdout)

R.exit()
