"""mta.py - run private, real MTAs for the integration tests and the demo.

Public API:
  free_port()                       a free TCP port on 127.0.0.1
  SmtpSink(dir)                     smtp-sink storing each delivered message in a file
  Postfix(dir, milter, sink_port)   a private Postfix instance (config dir of its own)
  ChrootPostfix(...)                the same with Debian's chroot column (smtpd,
                                    cleanup... jailed in the queue directory)
  Sendmail(dir, milter, sink_port)  a private Sendmail, unpacked from Debian's .debs
  smtp_send(port, ...)              one SMTP transaction; returns every reply seen
  split_sink_file(data)             smtp-sink's envelope lines and the message bytes

Everything needs root (Postfix and Sendmail start as root and drop privileges).
Each object's stop() is safe to call more than once; they also register themselves
with atexit so a failing test leaves no daemon behind.
"""
import atexit
import glob
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

from dnsserver import dkim_dnsfunc

POSTFIX_USER = "postfix"
DEFAULT_HOSTNAME = "mx.test.example"


def free_port():
    """free_port - a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, host="127.0.0.1"):
    """wait_port - wait until something accepts TCP connections on host:port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_for(pred, timeout=30.0, step=0.2):
    """wait_for - poll pred() until it returns something true, or timeout; returns it."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def kill_pid(pid, sig=signal.SIGTERM, wait=5.0):
    """kill_pid - signal one process we started and wait for it to go away."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def make_workdir(prefix):
    """make_workdir - a fresh 0755 temp dir (daemons must traverse it), removed at exit
    unless AUTHMILTER_KEEP_TMP is set."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    if not os.environ.get("AUTHMILTER_KEEP_TMP"):
        atexit.register(shutil.rmtree, d, True)  # runs after the daemons' stop()
    return d


class Reply:
    """Reply - one SMTP reply: stage (connect, xclient, ehlo, mail, rcpt, data), code, text."""

    def __init__(self, stage, code, text):
        self.stage = stage
        self.code = code
        self.text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text

    def __str__(self):
        return "%s: %d %s" % (self.stage, self.code, self.text.replace("\n", " / "))

    __repr__ = __str__


class SmtpResult:
    """SmtpResult - every reply of a transaction; .final is the last one."""

    def __init__(self):
        self.replies = []

    def add(self, stage, code, text):
        self.replies.append(Reply(stage, code, text))
        return code

    @property
    def final(self):
        return self.replies[-1] if self.replies else Reply("none", 0, "")

    @property
    def accepted(self):
        """accepted - True when DATA ended with a 2xx."""
        f = self.final
        return f.stage == "data" and 200 <= f.code < 300

    def __str__(self):
        return "; ".join(str(r) for r in self.replies)


def smtp_send(port, mail_from, rcpts, message, helo="client.test.example",
              xclient=None, source=None, host="127.0.0.1", timeout=60):
    """smtp_send - one SMTP transaction, stopping at the first refusal.

    xclient: the argument string of a Postfix XCLIENT command
    ("ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"); after it the
    server greets again and the client says EHLO again.
    source: local address to bind (e.g. "127.0.0.2"), for an MTA that sees it.
    Never raises for SMTP refusals; connection failures give stage "error".
    """
    r = SmtpResult()
    if isinstance(message, str):
        message = message.encode()
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    s = smtplib.SMTP(timeout=timeout,
                     source_address=(source, 0) if source else None)
    try:
        code, msg = s.connect(host, port)
        if r.add("connect", code, msg) != 220:
            return r
        if xclient:
            code, msg = s.ehlo(helo)
            if r.add("ehlo", code, msg) != 250:
                return r
            code, msg = s.docmd("XCLIENT", xclient)
            if r.add("xclient", code, msg) != 220:
                return r
            s.helo_resp = s.ehlo_resp = None
            s.esmtp_features = {}
        code, msg = s.ehlo(helo)
        if r.add("ehlo", code, msg) != 250:
            return r
        code, msg = s.mail(mail_from)
        if r.add("mail", code, msg) != 250:
            s.rset()
            return r
        ok = 0
        for rc in rcpts:
            code, msg = s.rcpt(rc)
            r.add("rcpt", code, msg)
            if 200 <= code < 300:
                ok += 1
        if not ok:
            return r
        code, msg = s.docmd("DATA")
        if r.add("data", code, msg) != 354:
            return r
        data = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        data = smtplib._quote_periods(data) if hasattr(smtplib, "_quote_periods") \
            else data.replace(b"\r\n.", b"\r\n..")
        s.send(data + b".\r\n")
        code, msg = s.getreply()
        r.add("data", code, msg)
        return r
    except smtplib.SMTPServerDisconnected as e:
        r.add("error", 0, "disconnected: %s" % e)
        return r
    except OSError as e:
        r.add("error", 0, "socket: %s" % e)
        return r
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
        s.close()


def split_sink_file(data):
    """split_sink_file - (envelope dict, message bytes) of one smtp-sink -d file.

    smtp-sink writes X-Client-Addr:, X-Client-Proto:, X-Helo-Args:, X-Mail-Args:,
    X-Rcpt-Args: lines before the message itself.
    """
    env = {}
    pos = 0
    lines = data.split(b"\n")
    sink_fields = (b"x-client-addr", b"x-client-proto", b"x-helo-args",
                   b"x-mail-args", b"x-rcpt-args")
    for line in lines:
        name = line.split(b":", 1)[0].lower()
        if name not in sink_fields:
            break
        env.setdefault(name.decode(), []).append(
            line.split(b":", 1)[1].strip().decode("utf-8", "replace"))
        pos += len(line) + 1
    return env, data[pos:]


def header_lines(message):
    """header_lines - the header block of a message as a list of unfolded 'Name: value' str."""
    text = message.replace(b"\r\n", b"\n").decode("utf-8", "replace")
    head = text.split("\n\n", 1)[0]
    out = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] += "\n" + line
        elif line:
            out.append(line)
    return out


class SmtpSink:
    """SmtpSink - smtp-sink on 127.0.0.1:port, one file per delivered message in dir."""

    def __init__(self, workdir, port=None):
        self.dir = os.path.join(workdir, "sink")
        os.makedirs(self.dir, exist_ok=True)
        pw = pwd.getpwnam(POSTFIX_USER)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.port = port or free_port()
        self.proc = None
        self.seen = set()
        atexit.register(self.stop)

    def start(self):
        """start - run smtp-sink; dropping root to the postfix user (smtp-sink requires -u)."""
        cmd = ["smtp-sink", "-u", POSTFIX_USER, "-h", "sink.test.example",
               "-d", os.path.join(self.dir, "%Y%m%d%H%M%S."),
               "127.0.0.1:%d" % self.port, "100"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise RuntimeError("smtp-sink did not start on port %d" % self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kill_pid(self.proc.pid)
            self.proc.wait()
        self.proc = None

    def files(self):
        return sorted(glob.glob(os.path.join(self.dir, "*")))

    def new_messages(self, count=1, timeout=30.0):
        """new_messages - wait for count files not returned before; list of (path, bytes)."""
        def ready():
            fresh = [f for f in self.files() if f not in self.seen]
            return fresh if len(fresh) >= count else None
        fresh = wait_for(ready, timeout) or [f for f in self.files() if f not in self.seen]
        time.sleep(0.2)  # let smtp-sink finish writing after the final 250
        out = []
        for f in fresh:
            self.seen.add(f)
            with open(f, "rb") as fh:
                out.append((f, fh.read()))
        return out

    def forget(self):
        """forget - mark every stored file as already seen."""
        self.seen.update(self.files())


POSTFIX_MASTER_CF = """\
# private master.cf written by tests/integration/mta.py: only what a relay needs
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """Postfix - a private Postfix instance relaying everything to an smtp-sink.

    milter: the milter socket as Postfix names it ("inet:127.0.0.1:PORT" or
    "unix:/path"); used for smtpd_milters and non_smtpd_milters.
    relay_domains: recipient domains accepted from clients outside mynetworks.
    extra: more main.cf settings (dict) that override the defaults.
    """

    def __init__(self, workdir, milter, sink_port, port=None,
                 relay_domains="example.com", mynetworks="127.0.0.0/8",
                 hostname=DEFAULT_HOSTNAME, extra=None):
        self.dir = workdir
        self.conf = os.path.join(workdir, "postfix")
        self.queue = os.path.join(workdir, "postfix-queue")
        self.data = os.path.join(workdir, "postfix-data")
        self.maillog_path = os.path.join(workdir, "maillog")
        self.port = port or free_port()
        self.started = False
        self.main = {
            "compatibility_level": "3.6",
            "config_directory": self.conf,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": POSTFIX_USER,
            "myhostname": hostname,
            "mydomain": hostname.split(".", 1)[1],
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "alias_maps": "",
            "alias_database": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": mynetworks,
            "relay_domains": relay_domains,
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "smtp_dns_support_level": "disabled",
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            "smtpd_milters": milter,
            "non_smtpd_milters": milter,
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "maillog_file": self.maillog_path,
            "maillog_file_prefixes": workdir,
            "smtputf8_enable": "no",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "queue_run_delay": "2s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "smtp_connect_timeout": "5s",
            "smtpd_error_sleep_time": "0",
            "shlib_directory": "/usr/lib/postfix",
            "meta_directory": "/etc/postfix",
        }
        if extra:
            self.main.update(extra)
        atexit.register(self.stop)

    def write_config(self):
        """write_config - main.cf and master.cf in the private config directory."""
        pw = pwd.getpwnam(POSTFIX_USER)
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.queue, 0o755)
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("# private main.cf written by tests/integration/mta.py\n")
            for k, v in self.main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(port=self.port))
        if not os.path.exists(self.maillog_path):
            open(self.maillog_path, "a").close()

    def cmd(self, *args, check=True):
        """cmd - run a Postfix command with -c CONFDIR; returns (rc, output)."""
        p = subprocess.run(list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(args), p.returncode, out))
        return p.returncode, out

    def start(self):
        """start - check the config, start master (under script(1) to see errors), wait for smtpd."""
        self.write_config()
        self.cmd("postfix", "-c", self.conf, "check")
        rc, out = self.cmd("script", "-qec", "postfix -c %s start" % self.conf,
                           "/dev/null", check=False)
        if rc != 0:
            raise RuntimeError("postfix start failed: %s\n%s" % (out, self.maillog()))
        self.started = True
        if not wait_port(self.port):
            raise RuntimeError("postfix smtpd not listening on %d:\n%s" %
                               (self.port, self.maillog()))
        return self

    def reload(self, timeout=15):
        """reload - postfix reload, then wait until the children that ran before it
        have exited: an old smtpd finishes "at its earliest convenience" and until
        then takes new connections with the old main.cf (its old milter: a test
        that switched milters got 451 from the one it had just stopped)."""
        old = self.children()
        self.write_config()
        self.cmd("postfix", "-c", self.conf, "reload")
        deadline = time.monotonic() + timeout
        while old & self.children() and time.monotonic() < deadline:
            time.sleep(0.1)

    def children(self):
        """children - the pids of the master's child processes now."""
        master = self.master_pid()
        pids = set()
        for d in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if master is not None and int(fields[1]) == master:
                pids.add(int(d.split("/")[2]))
        return pids

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        """stop - postfix stop; then kill master and its children if any remain."""
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        self.cmd("postfix", "-c", self.conf, "stop", check=False)
        if pid:
            wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10)
            if os.path.exists("/proc/%d" % pid):
                kill_pid(pid, signal.SIGKILL)
            # children of master exit on their own when master goes; reap stragglers
            for child in self._children(pid):
                kill_pid(child)

    @staticmethod
    def _children(ppid):
        out = []
        for st in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(st) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == ppid:
                    out.append(int(st.split("/")[2]))
            except (OSError, IndexError, ValueError):
                pass
        return out

    def sendmail(self, message, sender, rcpts):
        """sendmail - local submission through Postfix's sendmail -C (non_smtpd_milters)."""
        if isinstance(message, str):
            message = message.encode()
        p = subprocess.run(["/usr/sbin/sendmail", "-C", self.conf, "-f", sender, "-i", "--"]
                           + list(rcpts), input=message, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def queue_listing(self):
        rc, out = self.cmd("postqueue", "-c", self.conf, "-p", check=False)
        return out

    def queue_empty(self):
        return "Mail queue is empty" in self.queue_listing()

    def wait_queue_empty(self, timeout=30.0):
        return wait_for(self.queue_empty, timeout, 0.5)

    def flush(self):
        self.cmd("postqueue", "-c", self.conf, "-f", check=False)

    def maillog(self):
        try:
            with open(self.maillog_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# The services Debian's master.cf runs outside the chroot; the rest are chrooted.
DEBIAN_UNCHROOTED = ("qmgr", "proxymap", "postlog")


def chroot_services():
    """chroot_services - POSTFIX_MASTER_CF's services (not its smtpd listener) with
    the chroot column as Debian ships it."""
    out = []
    for line in POSTFIX_MASTER_CF.splitlines():
        f = line.split()
        if line.startswith("#") or len(f) < 8 or f[1] == "inet":
            continue
        f[4] = "n" if f[0] in DEBIAN_UNCHROOTED else "y"
        out.append("%-9s %-5s %-7s %-7s %-7s %-7s %-7s %s" % tuple(f[:7] + [" ".join(f[7:])]))
    return "\n".join(out) + "\n"


CONFIGURE_INSTANCE = "/usr/lib/postfix/configure-instance.sh"


class ChrootPostfix(Postfix):
    """ChrootPostfix - Postfix with Debian's chroot column: smtpd, cleanup, pickup and
    the rest run jailed in the queue directory, which Debian's own
    configure-instance.sh prepares (etc files, libraries) as its service does before
    a start. A unix milter socket must then live under self.queue and be named
    relative to it in smtpd_milters and non_smtpd_milters (cleanup is jailed too).

    listeners: [(address, port, smtpd_milters or None)], one chrooted smtpd each
    (None: main.cf's smtpd_milters); default one on 127.0.0.1:port.
    """

    def __init__(self, workdir, milter, sink_port, listeners=None, **kw):
        super().__init__(workdir, milter, sink_port, **kw)
        self.listeners = listeners or [("127.0.0.1", self.port, None)]
        self.port = self.listeners[0][1]

    def write_config(self):
        super().write_config()
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write("# private master.cf written by tests/integration/mta.py: "
                    "Debian's chroot column\n")
            for addr, port, milters in self.listeners:
                f.write("%s:%d inet n - y - - smtpd\n" % (addr, port))
                if milters is not None:
                    f.write("  -o smtpd_milters=%s\n" % milters)
            f.write(chroot_services())

    def start(self):
        self.write_config()
        subprocess.run(["sh", CONFIGURE_INSTANCE, "-"], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, MAIL_CONFIG=self.conf))
        return super().start()


SENDMAIL_CACHE = os.environ.get("AUTHMILTER_SENDMAIL_CACHE",
                                "/var/cache/authmilter-tests/sendmail")
SENDMAIL_PACKAGES = ("sendmail-bin", "sendmail-cf", "libwrap0")


def sendmail_root():
    """sendmail_root - Debian's sendmail unpacked (dpkg -x) into the cache; returns its root.

    sendmail-bin conflicts with postfix as a package, so it is never installed:
    `apt-get download` fetches the .debs (with `apt-get update` once if that
    fails), `dpkg -x` unpacks them. libwrap0 is unpacked too when the system
    lacks libwrap.so.0, and found through LD_LIBRARY_PATH (the unpacked binary
    has its setgid bit cleared, so the loader honours it).
    """
    root = os.path.join(SENDMAIL_CACHE, "root")
    binary = os.path.join(root, "usr/libexec/sendmail/sendmail")
    if os.path.exists(binary):
        return root
    debs = os.path.join(SENDMAIL_CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    want = [p for p in SENDMAIL_PACKAGES
            if not glob.glob(os.path.join(debs, p + "_*.deb"))]
    if want:
        def download():
            return subprocess.run(["apt-get", "download"] + want, cwd=debs,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        p = download()
        if p.returncode != 0:
            subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            p = download()
        if p.returncode != 0:
            raise RuntimeError("apt-get download %s failed: %s" %
                               (" ".join(want), p.stdout.decode(errors="replace")))
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        subprocess.run(["dpkg", "-x", deb, tmp], check=True)
    os.chmod(os.path.join(tmp, "usr/libexec/sendmail/sendmail"), 0o755)
    os.rename(tmp, root)
    return root


SENDMAIL_MC = """\
divert(-1)
# sendmail.mc written by tests/integration/mta.py: a relay to smtp-sink, one milter
divert(0)dnl
VERSIONID(`authmilter integration test')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{hostname}')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
define(`HELP_FILE', `{dir}/helpfile')dnl
define(`confCW_FILE', `-o {dir}/local-host-names')dnl
define(`confCT_FILE', `-o {dir}/trusted-users')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confHOSTS_FILE', `{dir}/hosts')dnl
define(`ALIAS_FILE', `{dir}/aliases')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
define(`confTO_IDENT', `0s')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confDELIVERY_MODE', `background')dnl
define(`confLOG_LEVEL', `14')dnl
define(`SMART_HOST', `[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {sink_port}')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {sink_port}')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
RELAY_DOMAIN(`127.0.0.1')dnl
{relay_domains}dnl
INPUT_MAIL_FILTER(`authmilter', `S={milter}, F=T, T=S:30s;R:30s;E:2m')dnl
MAILER(`smtp')dnl
"""


class Sendmail:
    """Sendmail - a private Sendmail daemon (-bD, own UTS namespace) relaying to smtp-sink.

    milter: Sendmail's socket spec ("unix:/path" or "inet:PORT@127.0.0.1").
    relay_domains: recipient domains accepted from any client (class R); 127.0.0.1
    itself may relay anywhere.
    Logs: without syslog, Sendmail's own log is lost; -X records the SMTP traffic
    of every session in DIR/traffic.log instead.
    """

    def __init__(self, workdir, milter, sink_port, port=None,
                 relay_domains=("example.com",), hostname=DEFAULT_HOSTNAME):
        self.dir = os.path.join(workdir, "sendmail")
        self.milter = milter
        self.sink_port = sink_port
        self.port = port or free_port()
        self.relay_domains = relay_domains
        self.hostname = hostname
        self.proc = None
        self.root = None
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.traffic = os.path.join(self.dir, "traffic.log")
        atexit.register(self.stop)

    def env(self):
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = ":".join(
            glob.glob(os.path.join(self.root, "lib/*-linux-gnu")) +
            glob.glob(os.path.join(self.root, "usr/lib/*-linux-gnu")))
        return e

    def binary(self):
        return os.path.join(self.root, "usr/libexec/sendmail/sendmail")

    def write_config(self):
        """write_config - sendmail.mc, then m4 with sendmail-cf's cf.m4 into sendmail.cf."""
        self.root = sendmail_root()
        os.makedirs(os.path.join(self.dir, "mqueue"), exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "mqueue"), 0o700)
        for name, text in (("service.switch", "hosts files\naliases files\n"),
                           ("hosts", "127.0.0.1 localhost\n127.0.0.1 %s\n" % self.hostname),
                           ("aliases", ""), ("helpfile", ""),
                           ("local-host-names", ""), ("trusted-users", "")):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        relays = "".join("RELAY_DOMAIN(`%s')dnl\n" % d for d in self.relay_domains)
        mc = SENDMAIL_MC.format(dir=self.dir, hostname=self.hostname, port=self.port,
                                sink_port=self.sink_port, milter=self.milter,
                                relay_domains=relays)
        mcfile = os.path.join(self.dir, "sendmail.mc")
        with open(mcfile, "w") as f:
            f.write(mc)
        cfdir = os.path.join(self.root, "usr/share/sendmail/cf")
        with open(self.cf, "w") as out:
            p = subprocess.run(["m4", "-D_CF_DIR_=%s/" % cfdir,
                                os.path.join(cfdir, "m4/cf.m4"), mcfile],
                               stdout=out, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("m4 failed: %s" % p.stderr.decode(errors="replace"))
        # sendmail -bi would build aliases.db; an empty alias file needs no db
        subprocess.run([os.path.join(self.root, "usr/sbin/makemap"), "hash",
                        os.path.join(self.dir, "aliases")], input=b"",
                       env=self.env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self, attempts=3):
        """start - sendmail -bD (foreground daemon) in its own UTS namespace. The
        free port it was given may be taken by the time it binds (other tests run
        beside it): then it tries again on a new one."""
        for attempt in range(attempts):
            self.write_config()
            inner = "hostname %s && exec %s -bD -C %s -O QueueDirectory=%s -X %s" % (
                self.hostname, self.binary(), self.cf,
                os.path.join(self.dir, "mqueue"), self.traffic)
            self.errlog = open(os.path.join(self.dir, "stderr.log"), "wb")
            self.proc = subprocess.Popen(["unshare", "-u", "sh", "-c", inner],
                                         env=self.env(), stdout=self.errlog,
                                         stderr=subprocess.STDOUT)
            if wait_port(self.port, 20):
                return self
            self.stop()
            if attempt + 1 < attempts:
                self.port = free_port()
        raise RuntimeError("sendmail did not listen on %d: %s" %
                           (self.port, self.stderr()))

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kill_pid(self.proc.pid)
            self.proc.wait()
        self.proc = None

    def queue_files(self):
        return glob.glob(os.path.join(self.dir, "mqueue", "*"))

    def wait_queue_empty(self, timeout=30.0):
        return wait_for(lambda: not [f for f in self.queue_files()
                                     if os.path.basename(f)[:2] in ("qf", "df")],
                        timeout, 0.5)

    def traffic_log(self):
        out = []
        for f in sorted(glob.glob(self.traffic + "*")):
            with open(f, errors="replace") as fh:
                out.append(fh.read())
        return "".join(out)


def dkim_verify_all(message, dns_port):
    """dkim_verify_all - [(d=, s=, a=, ok)] for every DKIM-Signature, checked by dkimpy."""
    import dkim
    d = dkim.DKIM(message)
    out = []
    fn = dkim_dnsfunc(dns_port)
    n = sum(1 for h in header_lines(message) if h.lower().startswith("dkim-signature:"))
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=fn)
        except Exception:
            ok = False
        sig = d.signature_fields if hasattr(d, "signature_fields") else {}
        out.append((sig.get(b"d", b"").decode(), sig.get(b"s", b"").decode(),
                    sig.get(b"a", b"").decode(), bool(ok)))
    return out



def make_dkim_key(keydir, domain, selector, alg="rsa", bits=2048, keygen=None):
    """make_dkim_key - a private key file (0600) and its DNS TXT value.

    Returns (keyfile, record name, TXT value). keygen: path of authmilter-keygen,
    used when given; otherwise openssl(1) makes the key (RSA: p= is the DER
    SubjectPublicKeyInfo; Ed25519: p= is the raw 32-byte key, RFC 8463).
    """
    import base64
    os.makedirs(keydir, mode=0o700, exist_ok=True)
    keyfile = os.path.join(keydir, "%s.%s.key" % (selector, domain))
    name = "%s._domainkey.%s" % (selector, domain)
    if keygen:
        return keygen_key(keygen, keydir, domain, selector, alg, bits)
    if alg == "rsa":
        gen = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
               "rsa_keygen_bits:%d" % bits, "-out", keyfile]
    else:
        gen = ["openssl", "genpkey", "-algorithm", "ED25519", "-out", keyfile]
    subprocess.run(gen, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(keyfile, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout", "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE).stdout
    if alg == "rsa":
        value = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    else:
        value = "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return keyfile, name, value


def keygen_key(keygen, keydir, domain, selector, alg, bits):
    """keygen_key - the same through authmilter-keygen; its stdout is the zone line
    'SEL._domainkey.DOMAIN. IN TXT ( "..." "..." )', whose strings are joined."""
    import re
    cmd = [keygen, "-a", alg, "-d", domain, "-s", selector, "-o", keydir]
    if alg == "rsa":
        cmd += ["-b", str(bits)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    out = p.stdout.decode()
    value = "".join(re.findall(r'"([^"]*)"', out))
    keyfile = os.path.join(keydir, "%s.%s.key" % (selector, domain))
    if not value.startswith("v=DKIM1") or not os.path.exists(keyfile):
        raise RuntimeError("unexpected authmilter-keygen output: %r" % out)
    return keyfile, "%s._domainkey.%s" % (selector, domain), value


def dkim_sign(message, keyfile, domain, selector, headers=(b"from", b"to", b"subject",
                                                            b"date", b"message-id")):
    """dkim_sign - the message with a DKIM-Signature by dkimpy prepended (a foreign signer)."""
    import dkim
    if isinstance(message, str):
        message = message.encode()
    message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(keyfile, "rb") as f:
        key = f.read()
    sig = dkim.sign(message, selector.encode(), domain.encode(), key,
                    include_headers=list(headers))
    return sig + message


def added_headers(message, skip_first_received=True):
    """added_headers - header lines above the receiving MTA's own Received.

    The sink's Received comes first (skipped); what follows up to the next
    Received: is what the milter inserted at the top.
    """
    out = []
    hs = header_lines(message)
    if skip_first_received and hs and hs[0].lower().startswith("received:"):
        hs = hs[1:]
    for h in hs:
        if h.lower().startswith("received:"):
            break
        out.append(h)
    return out
