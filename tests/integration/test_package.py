#!/usr/bin/python3
"""test_package - the Debian package end to end, on this machine (needs root).

Builds the package with `dpkg-buildpackage -us -uc -b` in a clean copy of the
source tree, checks lintian reports no errors, installs it with `dpkg -i`, and
follows the README's "Debian package" quick start literally on Debian's own
Postfix (/etc/postfix, smtpd and cleanup chrooted as shipped): keys made with the
installed authmilter-keygen, their sections added to /etc/authmilter/milter.conf,
the installed daemon started as root as its unit would (with the unit's capability
bounding set), `postfix start`, one message over SMTP from 127.0.0.1 and one by
`sendmail`, both signed, the signatures checked by dkimpy against a loopback
unbound. Then `dpkg --purge`: the user, group and socket directory go, the keys
stay.

Test-only settings keep everything on loopback: Postfix listens on 127.0.0.1
only, relays everything to an smtp-sink, never uses DNS; authmilter asks only the
loopback DNS server. /etc/postfix/main.cf and master.cf are restored, and what the
chroot set-up copied into /var/spool/postfix removed, whatever happens.
"""
import glob
import os
import grp
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
from dnsserver import DNSServer, txt  # noqa: E402
from harness import SRCDIR, Results  # noqa: E402

R = Results()

CONF = "/etc/authmilter/milter.conf"
KEYS = "/etc/authmilter/keys"
SOCKDIR = "/var/spool/postfix/authmilter"
STATEDIR = "/var/lib/authmilter"       # report.database's default SQLite file
SOCKET = SOCKDIR + "/authmilter.sock"
DAEMON = "/usr/sbin/authmilter"
KEYGEN = "/usr/bin/authmilter-keygen"
UNIT = "/lib/systemd/system/authmilter.service"
POSTFIX_FILES = ("/etc/postfix/main.cf", "/etc/postfix/master.cf")
CHROOT_DIRS = ("etc", "lib", "usr", "dev")   # what configure-instance.sh fills
DOMAIN = "example.com"
SELECTORS = (("pkgtest-r", "rsa"), ("pkgtest-e", "ed25519"))

README_SECTION = "### Quick start with Debian's Postfix"


def readme_postconf():
    """readme_postconf - the settings of the `postconf -e` command in the README's
    Debian quick start, as it is written there (continuation lines joined)."""
    with open(os.path.join(SRCDIR, "README.md")) as f:
        text = f.read()
    section = text.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    command = section.split("postconf -e ", 1)[1].replace("\\\n", " ").split("\n", 1)[0]
    return shlex.split(command)


def run(*cmd, timeout=120, env=None, **kw):
    """run - a command's (status, stdout+stderr as text); never raises on failure."""
    try:
        p = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, env=env, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, str(e)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def installed():
    """installed - True when dpkg has the authmilter package installed (any state but gone)."""
    rc, out = run("dpkg-query", "-W", "-f=${Status}", "authmilter")
    return rc == 0 and "not-installed" not in out and out.strip() != ""


def clean_copy(dest):
    """clean_copy - the source tree's files as git knows them (tracked and new, not
    ignored) copied to dest: no build directory, nothing configured in place. A tree
    that is not a git checkout (a release tarball) is copied without its build
    directories; dpkg-buildpackage cleans whatever was configured in it."""
    rc, out = run("git", "-C", SRCDIR, "ls-files", "-z", "-c", "-o", "--exclude-standard")
    if rc != 0:
        shutil.copytree(SRCDIR, dest, symlinks=True, ignore=shutil.ignore_patterns(
            "build", "build-*", ".git", "autom4te.cache", "__pycache__"))
        return
    for rel in filter(None, out.split("\0")):
        src = os.path.join(SRCDIR, rel)
        if not os.path.lexists(src):
            continue            # deleted in the work tree, not yet in git
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)


def build(workdir):
    """build - dpkg-buildpackage in a clean copy; returns the .deb and .changes paths.
    AUTHMILTER_DEB=DIR (for working on this test) takes them from DIR instead."""
    if os.environ.get("AUTHMILTER_DEB"):
        d = os.environ["AUTHMILTER_DEB"]
        return (glob.glob(d + "/authmilter_*.deb") + [None])[0], \
            (glob.glob(d + "/authmilter_*.changes") + [None])[0]
    src = os.path.join(workdir, "authmilter")
    clean_copy(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2 nocheck")
    rc, out = run("dpkg-buildpackage", "-us", "-uc", "-b", cwd=src, env=env, timeout=1800)
    debs = [d for d in glob.glob(os.path.join(workdir, "authmilter_*.deb"))]
    changes = glob.glob(os.path.join(workdir, "authmilter_*.changes"))
    R.ok("dpkg-buildpackage -us -uc -b builds authmilter_*.deb in a clean copy",
         rc == 0 and len(debs) == 1 and len(changes) == 1, out[-3000:])
    return (debs[0] if debs else None), (changes[0] if changes else None)


def check_contents(deb):
    """check_contents - the files the package must ship, the conffile, the keys mode."""
    rc, out = run("dpkg-deb", "-c", deb)
    listing = {}
    for line in out.splitlines():
        f = line.split()
        listing[f[-1].lstrip(".")] = f[0]
    for path in (DAEMON, KEYGEN, UNIT, CONF, "/usr/share/man/man8/authmilter.8.gz",
                 "/usr/share/man/man8/authmilter-keygen.8.gz",
                 "/usr/share/man/man5/milter.conf.5.gz"):
        R.ok("package ships %s" % path, path in listing, sorted(listing))
    R.ok("package ships /etc/authmilter/keys/ with mode 0750",
         listing.get(KEYS + "/") == "drwxr-x---", listing.get(KEYS + "/"))
    R.ok("package ships milter.conf with mode 0640", listing.get(CONF) == "-rw-r-----",
         listing.get(CONF))
    rc, out = run("dpkg-deb", "-I", deb, "conffiles")
    R.ok("milter.conf is a conffile", rc == 0 and CONF in out.split(), out)
    for doc in ("/usr/share/doc/authmilter/README.md",
                "/usr/share/doc/authmilter/examples/milter.conf"):
        R.ok("package ships %s (or .gz)" % doc, doc in listing or doc + ".gz" in listing,
             sorted(k for k in listing if "/doc/" in k))
    rc, prerm = run("dpkg-deb", "-I", deb, "prerm")
    R.ok("prerm stops the daemon without systemd too (start-stop-daemon on its "
         "executable) and the unit under systemd",
         rc == 0 and re.search(r"start-stop-daemon --stop .*--exec \"\$DAEMON\"", prerm)
         and "DAEMON=" + DAEMON in prerm and "deb-systemd-invoke stop" in prerm, prerm)
    rc, postinst = run("dpkg-deb", "-I", deb, "postinst")
    R.ok("postinst restarts an enabled unit on upgrade (dh_installsystemd's "
         "restart-after-upgrade)", rc == 0 and "_dh_action=restart" in postinst and
         "deb-systemd-invoke $_dh_action" in postinst, postinst)


def lintian(changes):
    """lintian - no E: line; warnings are printed as comments."""
    rc, out = run("lintian", changes, timeout=900)
    errors = [l for l in out.splitlines() if l.startswith("E:")]
    for l in out.splitlines():
        if l.startswith(("W:", "E:")):
            print("# lintian: " + l)
    R.ok("lintian reports no errors", rc in (0, 1) and not errors and "E:" not in out,
         out[-3000:])


def mode_owner(path):
    """mode_owner - 'user:group 0NNN' of path, or None when it does not exist."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return "%s:%s %04o" % (user, group, stat.S_IMODE(st.st_mode))


def user_exists(name):
    """user_exists - True when the passwd database has name."""
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    """group_exists - True when the group database has name."""
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def processes_of(exe):
    """processes_of - pids whose executable is exe (the installed daemon, not a
    build's), also once the package removed it ("exe (deleted)")."""
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            if os.readlink(d + "/exe") in (exe, exe + " (deleted)"):
                out.append(int(os.path.basename(d)))
        except OSError:
            pass
    return out


def check_installed():
    """check_installed - what postinst made, and a unit neither enabled nor started."""
    pw = pwd.getpwnam("authmilter") if user_exists("authmilter") else None
    R.ok("postinst: system user authmilter, home /nonexistent, its own group",
         pw is not None and pw.pw_uid < 1000 and pw.pw_dir == "/nonexistent"
         and grp.getgrgid(pw.pw_gid).gr_name == "authmilter", pw)
    R.ok("postinst: %s is root:authmilter 0750" % KEYS,
         mode_owner(KEYS) == "root:authmilter 0750", mode_owner(KEYS))
    R.ok("postinst: %s is root:authmilter 0640 (it may hold a password)" % CONF,
         mode_owner(CONF) == "root:authmilter 0640", mode_owner(CONF))
    R.ok("postinst: the postfix user is in group authmilter (the socket is 0660)",
         "postfix" in grp.getgrnam("authmilter").gr_mem if group_exists("authmilter")
         else False)
    R.ok("postinst: %s is root:postfix 0750" % SOCKDIR,
         mode_owner(SOCKDIR) == "root:postfix 0750", mode_owner(SOCKDIR))
    R.ok("postinst: %s is authmilter:authmilter 0750" % STATEDIR,
         mode_owner(STATEDIR) == "authmilter:authmilter 0750", mode_owner(STATEDIR))
    with open(CONF) as f:
        text = f.read()
    R.ok("Debian's milter.conf puts the socket in Postfix's spool",
         re.search(r'^socket\s*=\s*"unix:%s"' % re.escape(SOCKET), text, re.M), text[:600])
    R.ok("the unit may write the spool socket directory (ReadWritePaths=-%s)" % SOCKDIR,
         "ReadWritePaths=-%s" % SOCKDIR in open(UNIT).read())
    if shutil.which("systemd-analyze"):
        rc, out = run("systemd-analyze", "verify", "--man=no", UNIT)
        R.ok("systemd-analyze verify of the installed unit is clean",
             rc == 0 and not out.strip(), out)
    wants = glob.glob("/etc/systemd/system/*.wants/authmilter.service")
    R.ok("the unit is not enabled at install (no keys yet)", not wants, wants)
    R.ok("the package ships authmilter-report, its man page, service and timer",
         os.access("/usr/bin/authmilter-report", os.X_OK) and
         os.path.isfile("/lib/systemd/system/authmilter-report.service") and
         os.path.isfile("/lib/systemd/system/authmilter-report.timer") and
         glob.glob("/usr/share/man/man8/authmilter-report.8*"))
    R.ok("the package ships the key rotation service and timer",
         os.path.isfile("/lib/systemd/system/authmilter-keygen-rotate.service") and
         os.path.isfile("/lib/systemd/system/authmilter-keygen-rotate.timer"))
    for unit, what, why in (("authmilter-report", "report", " (report.email first)"),
                            ("authmilter-keygen-rotate", "rotation", "")):
        if shutil.which("systemd-analyze"):
            rc, out = run("systemd-analyze", "verify", "--man=no",
                          "/lib/systemd/system/%s.timer" % unit)
            R.ok("systemd-analyze verify of the %s timer and service is clean" % what,
                 rc == 0 and not out.strip(), out)
        wants = glob.glob("/etc/systemd/system/*.wants/%s.timer" % unit)
        R.ok("the %s timer is not enabled at install%s" % (what, why), not wants, wants)
    R.ok("the daemon is not started at install", not processes_of(DAEMON),
         processes_of(DAEMON))
    rc, out = run(DAEMON, "-n", "-c", CONF)
    R.ok("the installed milter.conf passes authmilter -n", rc == 0, out)


def make_keys():
    """make_keys - the README's steps: authmilter-keygen for each key, chown to
    authmilter. Returns the DNS records to publish and the key sections."""
    records = []
    sections = []
    for selector, alg in SELECTORS:
        keyfile, name, value = mta.keygen_key(KEYGEN, KEYS, DOMAIN, selector, alg, 2048)
        records.append(txt(name, value))
        sections.append('  key "%s-%s" {\n    domain   = "%s"\n    selector = "%s"\n'
                        '    file     = "%s"\n  }\n' % (DOMAIN, alg, DOMAIN, selector, keyfile))
    rc, out = run("sh", "-c", "chown authmilter: %s/*.key" % KEYS)
    R.ok("chown authmilter: %s/*.key (README)" % KEYS, rc == 0, out)
    return records, sections


def edit_conf(sections, dns_port):
    """edit_conf - the key sections inside dkim { } (the README's edit), and, test
    only, the loopback DNS server and the log on stderr."""
    with open(CONF) as f:
        lines = f.readlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("dkim {"))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip() == "}")
    lines[end:end] = sections
    out = []
    for l in lines:
        if l.lstrip().startswith("nameservers") and "{ }" in l:
            l = '  nameservers  = { "127.0.0.1@%d" }   # test only: loopback DNS\n' % dns_port
        elif l.lstrip().startswith("stderr") and "false" in l:
            l = "  stderr   = true   # test only: no syslog daemon here\n"
        out.append(l)
    with open(CONF, "w") as f:
        f.writelines(out)


def unit_bounding_set():
    """unit_bounding_set - the unit's CapabilityBoundingSet as setpriv(1) takes it."""
    caps = []
    for line in open(UNIT):
        if line.startswith("CapabilityBoundingSet="):
            caps += [c.lower().replace("cap_", "") for c in line.split("=", 1)[1].split()]
    return "-all," + ",".join("+" + c for c in caps)


class Daemon:
    """Daemon - the installed authmilter started as root, as its unit would be."""

    def __init__(self, logfile):
        self.logfile = logfile
        self.proc = None

    def start(self):
        """start - run it in the background; True once it logged that it started."""
        cmd = ["setpriv", "--no-new-privs", "--bounding-set", unit_bounding_set(),
               DAEMON, "-c", CONF]
        with open(self.logfile, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        return mta.wait_for(lambda: self.proc.poll() is not None or "started" in self.text(),
                            20) and self.proc.poll() is None

    def text(self):
        """text - what the daemon printed so far."""
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """stop - SIGTERM and wait; safe to call again."""
        if self.proc is not None and self.proc.poll() is None:
            mta.kill_pid(self.proc.pid)
            self.proc.wait()
        self.proc = None


class SystemPostfix:
    """SystemPostfix - Debian's own Postfix (/etc/postfix), configured for the test and
    put back as it was: main.cf and master.cf restored, the chroot copies removed."""

    def __init__(self, workdir):
        self.backup = os.path.join(workdir, "postfix-backup")
        os.makedirs(self.backup)
        self.saved = {}
        for path in POSTFIX_FILES:
            if os.path.exists(path):
                shutil.copy2(path, os.path.join(self.backup, os.path.basename(path)))
                self.saved[path] = True
            else:
                self.saved[path] = False
        self.chroot_before = self.chroot_paths()
        self.maillog_path = os.path.join(workdir, "maillog")
        self.port = None

    @staticmethod
    def chroot_paths():
        """chroot_paths - what is in the chroot's etc, lib, usr, dev and in pid/."""
        out = set()
        for d in CHROOT_DIRS + ("pid",):
            for root, dirs, files in os.walk(os.path.join("/var/spool/postfix", d)):
                out.update(os.path.join(root, n) for n in dirs + files)
        return out

    def configure(self, sink_port):
        """configure - the README's milter lines, then test-only loopback settings."""
        port = 25
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 25))
            except OSError:
                port = mta.free_port()
        self.port = port
        if not os.path.exists("/etc/postfix/main.cf"):
            # installed as "No configuration": start where Debian's postinst starts
            shutil.copy("/usr/share/postfix/main.cf.debian", "/etc/postfix/main.cf")
        settings = readme_postconf()
        R.ok("the README's postconf -e names the socket as chrooted Postfix sees it",
             settings == ["smtpd_milters = unix:/authmilter/authmilter.sock",
                          "non_smtpd_milters = unix:/authmilter/authmilter.sock",
                          "milter_default_action = tempfail"], settings)
        rc, out = run("postconf", "-e", *settings)
        R.ok("postconf -e the README's milter settings", rc == 0, out)
        test_only = [
            "compatibility_level = 3.6", "myhostname = mx.test.example",
            "mydestination =", "alias_maps =", "alias_database =",
            "local_transport = error:local delivery is disabled in this test",
            "inet_interfaces = loopback-only", "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8", "relayhost = [127.0.0.1]:%d" % sink_port,
            "smtp_dns_support_level = disabled", "maillog_file = " + self.maillog_path,
            "maillog_file_prefixes = " + os.path.dirname(self.maillog_path),
            "queue_run_delay = 2s", "minimal_backoff_time = 2s", "maximal_backoff_time = 4s",
        ]
        rc, out = run("postconf", "-e", *test_only)
        if rc == 0 and port != 25:
            # master.cf's smtpd (chrooted as shipped) on another port
            with open("/etc/postfix/master.cf") as f:
                text = f.read()
            text = text.replace("\nsmtp      inet", "\n127.0.0.1:%d inet" % port, 1)
            with open("/etc/postfix/master.cf", "w") as f:
                f.write(text)
        open(self.maillog_path, "a").close()
        return rc == 0

    def start(self):
        """start - Debian's chroot set-up (as its service does), then postfix start."""
        rc, out = run("/usr/lib/postfix/configure-instance.sh", "-")
        if rc != 0:
            return False, "configure-instance.sh: " + out
        rc, out = run("script", "-qec", "postfix check", "/dev/null")
        if rc != 0:
            return False, "postfix check: " + out
        rc, out = run("script", "-qec", "postfix start", "/dev/null")
        if rc != 0:
            return False, "postfix start: " + out
        if not mta.wait_port(self.port, 20):
            return False, "smtpd does not listen on %d\n%s" % (self.port, self.maillog())
        return True, ""

    def chrooted(self):
        """chrooted - master.cf's chroot column for smtpd and cleanup."""
        out = {}
        for line in open("/etc/postfix/master.cf"):
            f = line.split()
            if len(f) >= 8 and not line.startswith(("#", " ")) and f[7] in ("smtpd", "cleanup"):
                out[f[7]] = f[4]
        return out

    def maillog(self):
        """maillog - Postfix's log (maillog_file) so far."""
        try:
            with open(self.maillog_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """stop - postfix stop, the test's mail deleted from the queue, and the files
        put back, whatever state we are in."""
        run("postsuper", "-d", "ALL")
        run("postsuper", "-d", "ALL", "maildrop")
        if run("postfix", "status")[0] == 0:
            run("postfix", "stop")
            pidfile = "/var/spool/postfix/pid/master.pid"
            mta.wait_for(lambda: run("postfix", "status")[0] != 0, 15)
            if os.path.exists(pidfile) and run("postfix", "status")[0] == 0:
                try:
                    mta.kill_pid(int(open(pidfile).read().split()[0]), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        for path, existed in self.saved.items():
            if existed:
                shutil.copy2(os.path.join(self.backup, os.path.basename(path)), path)
            elif os.path.exists(path):
                os.unlink(path)
        added = sorted(self.chroot_paths() - self.chroot_before, reverse=True)
        for p in added:        # deepest first: files, then the directories they were in
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass


def message(subject):
    """message - an outbound message from DOMAIN with this subject."""
    return ("From: Alice <alice@%s>\nTo: bob@example.net\nSubject: %s\n"
            "Date: Mon, 30 Nov 2026 12:00:00 +0000\nMessage-ID: <%s@%s>\n\n"
            "Sent through Debian's Postfix.\n" % (DOMAIN, subject, subject.replace(" ", "-"),
                                                 DOMAIN))


def signed_by_both(got, subject, dns_port):
    """signed_by_both - dkimpy's verdicts on the one delivered message with this
    subject: both keys pass."""
    mine = [m for _, m in got if ("\nSubject: %s\n" % subject).encode()
            in mta.split_sink_file(m)[1].replace(b"\r\n", b"\n")]
    if len(mine) != 1:
        return False, "delivered: %d messages, %d of them %r" % (len(got), len(mine), subject)
    verdicts = mta.dkim_verify_all(mta.split_sink_file(mine[0])[1], dns_port)
    want = {(DOMAIN, s, "rsa-sha256" if a == "rsa" else "ed25519-sha256", True)
            for s, a in SELECTORS}
    return set(verdicts) == want and len(verdicts) == 2, verdicts


def mail_through_postfix(pf, sink, dns_port):
    """mail_through_postfix - SMTP from 127.0.0.1 (smtpd_milters) and local sendmail
    (non_smtpd_milters): both delivered signed with both keys."""
    r = mta.smtp_send(pf.port, "alice@" + DOMAIN, ["bob@example.net"], message("over smtp"))
    got = sink.new_messages(1, 30)
    ok, detail = signed_by_both(got, "over smtp", dns_port)
    R.ok("SMTP from 127.0.0.1 through Debian's chrooted smtpd: accepted, delivered, "
         "signed RSA and Ed25519, dkimpy verifies both",
         r.accepted and ok, "%s\n%s\n%s" % (r, detail, pf.maillog()[-3000:]))
    p = subprocess.run(["/usr/sbin/sendmail", "-f", "alice@" + DOMAIN, "bob@example.net"],
                       input=message("by sendmail").encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    got = sink.new_messages(1, 40)
    ok, detail = signed_by_both(got, "by sendmail", dns_port)
    R.ok("local sendmail through Debian's chrooted cleanup: delivered, signed, "
         "dkimpy verifies both", p.returncode == 0 and ok,
         "%s\n%s\n%s" % (p.stdout, detail, pf.maillog()[-3000:]))


def purge_and_check(keyfiles):
    """purge_and_check - dpkg --purge removes what the package made, never the keys."""
    rc, out = run("dpkg", "--purge", "authmilter", timeout=300)
    R.ok("dpkg --purge authmilter succeeds", rc == 0 and not installed(), out)
    R.ok("purge: user and group authmilter are gone",
         not user_exists("authmilter") and not group_exists("authmilter"))
    R.ok("purge: %s is gone" % SOCKDIR, not os.path.lexists(SOCKDIR))
    R.ok("purge: %s (report rows) is gone" % STATEDIR, not os.path.lexists(STATEDIR))
    R.ok("purge: %s is gone (dpkg's conffile handling)" % CONF, not os.path.exists(CONF))
    R.ok("purge: %s stays, now root's" % KEYS, mode_owner(KEYS) == "root:root 0750",
         mode_owner(KEYS))
    R.ok("purge: every key file stays, 0600, now root's",
         keyfiles and all(mode_owner(k) == "root:root 0600" for k in keyfiles),
         [(k, mode_owner(k)) for k in keyfiles])


def queued():
    """queued - files in Debian's Postfix queues (maildrop to deferred and hold)."""
    out = []
    for q in ("maildrop", "incoming", "active", "deferred", "hold"):
        for root, _, files in os.walk(os.path.join("/var/spool/postfix", q)):
            out += [os.path.join(root, f) for f in files]
    return out


def cleanup(keyfiles):
    """cleanup - the test's own leftovers: the package if still there, its keys."""
    if installed():
        run("dpkg", "--purge", "authmilter", timeout=300)
    for k in keyfiles:
        try:
            os.unlink(k)
        except OSError:
            pass
    for d in (KEYS, "/etc/authmilter"):
        try:
            os.rmdir(d)
        except OSError:
            pass


def main():
    if os.geteuid() != 0:
        R.ok("test_package runs as root (dpkg -i, Debian's Postfix)", False, "not root")
        R.exit()
    missing = [t for t in ("dpkg-buildpackage", "dh", "lintian", "fakeroot", "postfix",
                           "setpriv") if not shutil.which(t)]
    if missing:
        R.ok("packaging tools present (apt-get install debhelper lintian fakeroot dpkg-dev)",
             False, missing)
        R.exit()
    if installed() or os.path.exists("/etc/authmilter"):
        R.ok("no authmilter package or /etc/authmilter on this machine before the test",
             False, "remove them first: the test installs and purges the package")
        R.exit()
    if queued():
        R.ok("Debian's Postfix queue is empty before the test", False,
             "the test deletes what it queues: %s" % queued()[:5])
        R.exit()
    if run("postfix", "status")[0] == 0:
        R.ok("Debian's Postfix is not running before the test", False,
             "stop it first (service postfix stop): the test configures and starts it")
        R.exit()

    workdir = tempfile.mkdtemp(prefix="authmilter-pkg-")
    os.chmod(workdir, 0o755)
    keyfiles = ["%s/%s.%s.key" % (KEYS, s, DOMAIN) for s, _ in SELECTORS]
    parts = {"daemon": Daemon(os.path.join(workdir, "authmilter.log")),
             "sink": mta.SmtpSink(workdir), "postfix": None, "dns": None}
    try:
        R.run("the package scenario ran to its end", scenario, workdir, keyfiles, parts)
    finally:
        parts["daemon"].stop()
        if parts["postfix"] is not None:
            parts["postfix"].stop()
        parts["sink"].stop()
        if parts["dns"] is not None:
            parts["dns"].cleanup()
        cleanup(keyfiles)
        if not os.environ.get("AUTHMILTER_KEEP_TMP"):
            shutil.rmtree(workdir, ignore_errors=True)
    R.ok("Debian's Postfix is stopped again", run("postfix", "status")[0] != 0)
    R.ok("no installed authmilter daemon left running", not processes_of(DAEMON))
    R.exit()


def scenario(workdir, keyfiles, parts):
    """scenario - build, install, quick start, mail, purge; parts holds what runs."""
    daemon, sink = parts["daemon"], parts["sink"]
    deb, changes = build(workdir)
    if deb is None:
        return
    check_contents(deb)
    lintian(changes)
    rc, out = run("dpkg", "-i", deb, timeout=300)
    R.ok("dpkg -i installs the package", rc == 0 and installed(), out)
    if rc != 0:
        return
    check_installed()

    records, sections = make_keys()
    dns = parts["dns"] = DNSServer(records)
    edit_conf(sections, dns.port)
    rc, out = run(DAEMON, "-n", "-c", CONF)
    R.ok("milter.conf with the two key sections passes authmilter -n", rc == 0, out)

    R.ok("the daemon starts as its unit would (root, the unit's capability bounding "
         "set, no new privileges) and binds in the spool", daemon.start(), daemon.text())
    R.ok("the socket is authmilter's, mode 0660, inside the root:postfix 0750 directory",
         mode_owner(SOCKET) == "authmilter:authmilter 0660", mode_owner(SOCKET))
    pids = processes_of(DAEMON)
    uid = str(pwd.getpwnam("authmilter").pw_uid)
    uids = [open("/proc/%d/status" % p).read().split("\nUid:")[1].split()[:4] for p in pids]
    R.ok("the daemon runs as authmilter after binding",
         pids and all(set(u) == {uid} for u in uids), uids)


    sink.start()
    pf = parts["postfix"] = SystemPostfix(workdir)
    R.ok("Debian's master.cf runs smtpd and cleanup chrooted",
         pf.chrooted() == {"smtpd": "y", "cleanup": "y"}, pf.chrooted())
    if not pf.configure(sink.port):
        R.fail("postconf -e the test-only settings")
        return
    started, why = pf.start()
    R.ok("Debian's Postfix starts (postfix start, as shipped, after its chroot set-up)",
         started, why)
    if started:
        mail_through_postfix(pf, sink, dns.port)

    pf.stop()
    # purged while the daemon runs (no systemd here): prerm must stop it, or
    # userdel refuses ("user authmilter is currently used by process")
    R.ok("the daemon still runs before the purge", processes_of(DAEMON))
    # reap it as soon as it exits, as init would: a zombie still counts for userdel
    threading.Thread(target=daemon.proc.wait, daemon=True).start()
    purge_and_check(keyfiles)
    R.ok("purge stopped the running daemon", not processes_of(DAEMON))

if __name__ == "__main__":
    main()
