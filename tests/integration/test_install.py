#!/usr/bin/python3
"""test_install - `make install DESTDIR=...` lays out what README and the man pages
promise, keeps an operator's milter.conf, and the systemd unit verifies."""

import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILDDIR, Results, tmpdir  # noqa: E402

R = Results()


def make_install(dest):
    p = subprocess.run(["make", "-C", BUILDDIR, "install", "DESTDIR=" + dest],
                       capture_output=True, text=True)
    return p


def prefix_of():
    """The configured prefix and sysconfdir, from the Makefile."""
    vals = {}
    with open(os.path.join(BUILDDIR, "Makefile")) as f:
        for line in f:
            for key in ("prefix", "sysconfdir", "sbindir", "bindir", "mandir"):
                if line.startswith(key + " = "):
                    vals[key] = line.split(" = ", 1)[1].strip()
    prefix = vals["prefix"]
    out = {}
    for key, v in vals.items():
        out[key] = (v.replace("${prefix}", prefix).replace("$(prefix)", prefix)
                    .replace("${exec_prefix}", prefix).replace("$(exec_prefix)", prefix)
                    .replace("${datarootdir}", prefix + "/share")
                    .replace("$(datarootdir)", prefix + "/share"))
    return out


def main():
    dest = tmpdir()
    p = make_install(dest)
    R.ok("make install DESTDIR succeeds", p.returncode == 0, p.stderr[-2000:])
    d = prefix_of()
    files = {
        "daemon in sbindir": d["sbindir"] + "/authmilter",
        "key tool in bindir": d["bindir"] + "/authmilter-keygen",
        "check tool in bindir": d["bindir"] + "/authmilter-check",
        "report tool in bindir": d["bindir"] + "/authmilter-report",
        "migrate tool in bindir": d["bindir"] + "/authmilter-migrate",
        "authmilter-migrate(8)": d["mandir"] + "/man8/authmilter-migrate.8",
        "report service": d["prefix"] + "/lib/systemd/system/authmilter-report.service",
        "report timer": d["prefix"] + "/lib/systemd/system/authmilter-report.timer",
        "authmilter-report(8)": d["mandir"] + "/man8/authmilter-report.8",
        "example config": d["sysconfdir"] + "/authmilter/milter.conf",
        "systemd unit": d["prefix"] + "/lib/systemd/system/authmilter.service",
        "authmilter(8)": d["mandir"] + "/man8/authmilter.8",
        "milter.conf(5)": d["mandir"] + "/man5/milter.conf.5",
        "authmilter-keygen(8)": d["mandir"] + "/man8/authmilter-keygen.8",
        "authmilter-check(8)": d["mandir"] + "/man8/authmilter-check.8",
    }
    for what, path in files.items():
        R.ok("installed: %s (%s)" % (what, path), os.path.isfile(dest + path))
    keys = dest + d["sysconfdir"] + "/authmilter/keys"
    R.ok("keys directory, mode 0750", os.path.isdir(keys)
         and stat.S_IMODE(os.stat(keys).st_mode) == 0o750)
    conf_mode = stat.S_IMODE(os.stat(dest + files["example config"]).st_mode)
    R.ok("milter.conf, mode 0640 (it may hold report.database's password)",
         conf_mode == 0o640, "%04o" % conf_mode)
    # the example names user "authmilter" (the package makes it, this machine may
    # not have it: -n would say so) and the default socket; it must parse
    example = dest + files["example config"]
    with open(example) as f, open(example + ".as-root", "w") as g:
        g.write(f.read() + '\nuser = ""\n')
    p = subprocess.run([dest + files["daemon in sbindir"], "-n", "-c",
                        example + ".as-root"], capture_output=True, text=True)
    R.ok("the installed example config passes -n", p.returncode == 0, p.stderr)
    os.unlink(example + ".as-root")

    conf = dest + files["example config"]
    with open(conf, "a") as f:
        f.write("# operator's change\n")
    p = make_install(dest)
    with open(conf) as f:
        kept = "# operator's change" in f.read()
    R.ok("a second install keeps the operator's milter.conf", p.returncode == 0 and kept)

    unit = dest + files["systemd unit"]
    with open(unit) as f:
        text = f.read()
    R.ok("unit reloads with SIGUSR1, not SIGHUP", "kill -USR1 $MAINPID" in text)
    for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                      "PrivateTmp=yes", "RestrictAddressFamilies=", "CapabilityBoundingSet=",
                      "RuntimeDirectory=authmilter"):
        R.ok("unit has %s" % directive, directive in text)
    if shutil.which("systemd-analyze"):
        # point the unit at the DESTDIR copy so the binary it names exists
        local = os.path.join(tmpdir(), "authmilter.service")
        with open(local, "w") as f:
            f.write(text.replace(d["sbindir"], dest + d["sbindir"])
                    .replace(d["sysconfdir"], dest + d["sysconfdir"]))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", local],
                           capture_output=True, text=True)
        R.ok("systemd-analyze verify is clean", p.returncode == 0 and not p.stderr.strip(),
             p.stderr)
        # the report service and its timer, verified together
        udir = tmpdir()
        with open(dest + files["report service"]) as f:
            stext = f.read()
        R.ok("report service runs authmilter-report --send as authmilter",
             "authmilter-report -c %s/authmilter/milter.conf --send" % d["sysconfdir"]
             in stext and "User=authmilter" in stext)
        with open(os.path.join(udir, "authmilter-report.service"), "w") as f:
            f.write(stext.replace(d["bindir"], dest + d["bindir"])
                    .replace(d["sysconfdir"], dest + d["sysconfdir"]))
        shutil.copy(dest + files["report timer"], udir)
        p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(udir, "authmilter-report.timer"),
                            os.path.join(udir, "authmilter-report.service")],
                           capture_output=True, text=True)
        R.ok("systemd-analyze verify: report service and timer are clean",
             p.returncode == 0 and not p.stderr.strip(), p.stderr)
    else:
        print("# systemd-analyze not installed: unit not verified")
    R.exit()


if __name__ == "__main__":
    main()
