#!/usr/bin/python3
"""test_conf_check - `authmilter -n` checks what start and reload will meet, as the
user the daemon will run as (here `nobody`; the suite runs as root): a key file,
keys_directory file or the config itself that user cannot read (the next reload
would fail), a report database directory it cannot write, a user that does not
exist, a unix socket whose directory does not exist (with the hint for a path
copied from Postfix's main.cf, which is relative to its chroot). Each message
names the fix; the fix it names is applied and -n must then pass. A socket
directory the user cannot enter (the package's root:postfix 0750) is no problem:
the daemon binds as root and never reaches its own socket again (a stop wakes
libmilter's listener with a signal), so -n stays quiet about it."""

import grp
import os
import pwd
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AUTHMILTER, Results, tmpdir  # noqa: E402

R = Results()
USER = "nobody"
GROUP = grp.getgrgid(pwd.getpwnam(USER).pw_gid).gr_name


def setup():
    """A world-enterable directory with a key nobody owns, a socket directory and
    a keys directory; the config text for them."""
    d = tmpdir()
    os.chmod(d, 0o755)
    for sub in ("sock", "keys", "db"):
        os.mkdir(os.path.join(d, sub), 0o755)
    key = os.path.join(d, "s1.example.org.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                   capture_output=True, check=True)
    os.chmod(key, 0o600)
    os.chown(key, 65534, -1)
    return d, key


def write_conf(d, key, user=USER, socket=None, extra=""):
    path = os.path.join(d, "milter.conf")
    with open(path, "w") as f:
        f.write('user = "%s"\nsocket = "%s"\n' % (user, socket or "unix:%s/sock/a.sock" % d) +
                'dkim {\n key "org" {\n  domain = "example.org"\n  selector = "s1"\n'
                '  file = "%s"\n }\n keys_directory = "%s/keys"\n}\n' % (key, d) + extra)
    os.chmod(path, 0o644)
    return path


def check(path):
    p = subprocess.run([AUTHMILTER, "-n", "-c", path], capture_output=True, text=True,
                       timeout=20)
    return p.returncode, p.stdout, p.stderr


def fix_named(err, pattern):
    """The command after "would fail: " in the line matching pattern."""
    for line in err.splitlines():
        if re.search(pattern, line):
            m = re.search(r"(?:would fail|could not be written): (ch(?:own|grp|mod) .*)$", line)
            return m.group(1) if m else None
    return None


def problem_then_fix(name, path, pattern):
    """-n fails naming pattern and a fix; running that fix makes -n pass."""
    rc, out, err = check(path)
    fix = fix_named(err, pattern)
    R.ok("%s: -n fails (exit 1) and names it" % name, rc == 1 and fix is not None, err)
    if fix is None:
        return
    subprocess.run(["sh", "-c", fix], check=True)
    rc, out, err = check(path)
    R.ok("%s: after the fix it names (%s), -n passes" % (name, fix),
         rc == 0 and "configuration is valid" in out, err)


def main():
    d, key = setup()
    path = write_conf(d, key)
    rc, out, err = check(path)
    R.ok("a layout user nobody can use (keys_directory still empty) passes -n", rc == 0 and
         "configuration is valid" in out and err == "", err)

    os.chown(key, 0, -1)   # root 0600: read at start as root, not at reload
    problem_then_fix("key file only root can read", path,
                     r'^dkim\.key "org": %s: user nobody cannot read it \(Permission '
                     r'denied, root:\S+ 0600\); the next reload would fail' % re.escape(key))

    other = os.path.join(d, "keys", "s2.example.org.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other],
                   capture_output=True, check=True)
    os.chmod(other, 0o600)
    problem_then_fix("keys_directory file only root can read", path,
                     r"^dkim\.keys_directory: %s: user nobody cannot read it" %
                     re.escape(other))

    os.chmod(os.path.join(d, "keys"), 0o700)
    problem_then_fix("keys_directory nobody cannot enter", path,
                     r"^dkim\.keys_directory: %s/keys: user nobody cannot read it" %
                     re.escape(d))

    os.chmod(path, 0o600)
    problem_then_fix("config only root can read", path,
                     r"^config: %s: user nobody cannot read it" % re.escape(path))

    os.chmod(os.path.join(d, "db"), 0o755)
    path = write_conf(d, key, extra='report {\n enable = true\n email = '
                      '"dmarc@example.org"\n database = "sqlite:%s/db/r.db"\n}\n' % d)
    problem_then_fix("report database directory nobody cannot write", path,
                     r"^report\.database: %s/db: user nobody cannot write it" % re.escape(d))

    path = write_conf(d, key, user="amt-no-such-user")
    rc, out, err = check(path)
    R.ok("a user that does not exist: exit 1, named with how to create it", rc == 1 and
         'user: "amt-no-such-user" does not exist; start would fail (create it: adduser '
         '--system --group amt-no-such-user' in err, err)

    path = write_conf(d, key, socket="unix:%s/nodir/a.sock" % d)
    rc, out, err = check(path)
    R.ok("a socket directory that does not exist: exit 1, named", rc == 1 and
         "directory %s/nodir does not exist; start would fail to bind" % d in err, err)

    top = "/" + os.path.basename(d)     # a top directory that exists nowhere
    path = write_conf(d, key, socket="unix:%s/authmilter.sock" % top)
    rc, out, err = check(path)
    R.ok("a chroot-relative socket copied from main.cf: exit 1, the full path proposed",
         rc == 1 and "relative to its chroot /var/spool/postfix; authmilter needs the "
         'full path, socket = "unix:/var/spool/postfix%s/authmilter.sock"' % top in err,
         err)

    os.chmod(os.path.join(d, "sock"), 0o750)
    path = write_conf(d, key)
    rc, out, err = check(path)
    R.ok("a socket directory nobody cannot enter (the package's layout): exit 0, "
         "nothing said of it", rc == 0 and "sock" not in err, err)
    R.exit()


main()
