"""tooltest - the setup test_keygen and test_check share: both run a command-line
tool of the build, read the zone record authmilter-keygen prints, and run their
cases in a scratch directory.

    run_tool(argv, timeout=120)   (exit status, stdout, stderr) as text
    parse_record(out)             (owner name, [character-strings]) of the zone-file
                                  line authmilter-keygen prints; (None, None) if none
    main(run, results, prefix)    run(tmp) in a new directory removed afterwards,
                                  then "# N failed" or "# all passed"; the exit status
"""
import re
import shutil
import subprocess
import tempfile

RECORD = re.compile(r'^(\S+) IN TXT \( ((?:"[^"]*" ?)+)\)\n$')


def run_tool(argv, timeout=120):
    """run_tool - run argv to its end; (exit status, stdout, stderr)"""
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def parse_record(out):
    """parse_record - (owner name, [character-strings]) from the printed zone-file
    line; (None, None) when out is not one such line"""
    m = RECORD.match(out)
    if not m:
        return None, None
    return m.group(1), re.findall(r'"([^"]*)"', m.group(2))


def main(run, results, prefix):
    """main - run(tmp) in a scratch directory, print the summary; the exit status"""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %d failed" % results.failed if results.failed else "# all passed")
    return 1 if results.failed else 0
