"""harness - helpers shared by the integration tests (tests/integration/test_*.py).

    Milter(config, ...)      start authmilter (or another milter command) on a private
                             socket, wait until it accepts connections; a context
                             manager; .socket, .log_lines(), .reload(), .stop()
    run_miltc(socket, msg, **opts) -> dict   run tests/lib/miltc, parse what it printed
    Results()                prints "ok - NAME" / "not ok - NAME: DETAIL"; .exit()
    BUILDDIR, SRCDIR         the build and source trees; AUTHMILTER, KEYGEN, CHECK,
                             REPORT, MILTC, DNSQ, SPFQ: the programs in the build
    free_port(), tmpdir()    a free loopback TCP port; a directory removed at exit
    conf_text(dict)          a dict as libconfuse text (nested dicts are sections)

The build is found through $AUTHMILTER_BUILDDIR and $AUTHMILTER_SRCDIR. Every process
started here is killed at interpreter exit, even when a test fails half-way.
"""
import atexit
import os
import re
import shutil
import signal
import socket as _socket
import struct
import subprocess
import sys
import tempfile
import time

from sockio import recv_exact

BUILDDIR = os.environ.get("AUTHMILTER_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SRCDIR = os.environ.get("AUTHMILTER_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
MILTC = os.path.join(BUILDDIR, "tests", "lib", "miltc")
DNSQ = os.path.join(BUILDDIR, "tests", "lib", "dnsq")
SPFQ = os.path.join(BUILDDIR, "tests", "lib", "spfq")
AUTHMILTER = os.path.join(BUILDDIR, "milter", "authmilter")
KEYGEN = os.path.join(BUILDDIR, "milter", "authmilter-keygen")
CHECK = os.path.join(BUILDDIR, "milter", "authmilter-check")
REPORT = os.path.join(BUILDDIR, "milter", "authmilter-report")
FIXTURES = os.path.join(SRCDIR, "tests", "integration", "fixtures")

_tmpdirs = []
_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def _on_signal(signum, frame):
    _cleanup()
    sys.exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT):
    try:
        signal.signal(_sig, _on_signal)
    except ValueError:      # not the main thread
        pass


def tmpdir():
    """A new directory under /tmp (short, for unix socket paths), removed at exit."""
    d = tempfile.mkdtemp(prefix="amt.", dir="/tmp")
    _tmpdirs.append(d)
    return d


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "{ " + ", ".join(_conf_value(x) for x in v) + " }"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + s + '"'


def conf_text(d, indent=""):
    """A dict as libconfuse text. A dict value is a section; a key with a space
    ('key "example"') is a titled section."""
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.append("%s%s {" % (indent, k))
            out.append(conf_text(v, indent + "  "))
            out.append("%s}" % indent)
        else:
            out.append("%s%s = %s" % (indent, k, _conf_value(v)))
    return "\n".join(out)


def _merge(base, over):
    r = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(r.get(k), dict):
            r[k] = _merge(r[k], v)
        else:
            r[k] = v
    return r


# The valgrind wrapper for AUTHMILTER_VALGRIND=1 (see Milter).
VALGRIND_STATUS = 99
VALGRIND = ["valgrind", "--error-exitcode=%d" % VALGRIND_STATUS, "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--num-callers=30"]


class MilterError(Exception):
    pass


class Milter:
    """A milter process on a private socket.

    config: a dict (merged over socket, user = "", log { stderr = true,
    level = "debug" }) or libconfuse text (socket, user and a log section are added
    only when the text sets none). inet=True listens on inet:PORT@127.0.0.1 instead
    of unix:DIR/sock. command: argv to run instead of authmilter -c CONFIG; "{socket}",
    "{config}" and "{dir}" in it are replaced. Starts at once unless start=False.
    """

    def __init__(self, config=None, inet=False, command=None, timeout=15,
                 env=None, start=True, args=()):
        self.dir = tmpdir()
        if inet:
            self.port = free_port()
            self.socket = "inet:%d@127.0.0.1" % self.port
        else:
            self.port = None
            self.socket = "unix:%s/sock" % self.dir
        self.config_path = os.path.join(self.dir, "milter.conf")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.timeout = timeout
        self.env = env
        self.proc = None
        self.returncode = None
        self.write_config(config if config is not None else {})
        if command is None:
            command = [AUTHMILTER, "-c", "{config}"] + list(args)
        self.command = [c.replace("{socket}", self.socket)
                        .replace("{config}", self.config_path)
                        .replace("{dir}", self.dir) for c in command]
        # AUTHMILTER_VALGRIND=1: run the daemon (not a stand-in command) under
        # valgrind; stop() fails when valgrind found errors or definite leaks.
        self.valgrind = (os.environ.get("AUTHMILTER_VALGRIND") == "1"
                         and self.command[0] == AUTHMILTER)
        if self.valgrind:
            self.command = VALGRIND + self.command
            self.timeout = timeout * 4
        if start:
            self.start()

    def write_config(self, config):
        """(Re)write the configuration file; reload() makes a running daemon read it."""
        if isinstance(config, dict):
            base = {"socket": self.socket, "user": "",
                    "log": {"stderr": True, "level": "debug"}}
            text = conf_text(_merge(base, config)) + "\n"
        else:
            text = config
            extra = []
            if not re.search(r"^\s*socket\s*=", text, re.M):
                extra.append("socket = %s" % _conf_value(self.socket))
            if not re.search(r"^\s*user\s*=", text, re.M):
                extra.append('user = ""')
            if not re.search(r"^\s*log\s*\{", text, re.M):
                extra.append('log {\n  stderr = true\n  level = "debug"\n}')
            text = "\n".join(extra + [text]) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)
        self.config_text = text

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env, cwd=self.dir)
        _procs.append(self.proc)
        self.wait_ready()
        return self

    def _try_connect(self):
        if self.port is not None:
            s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            addr = ("127.0.0.1", self.port)
        else:
            s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            addr = self.socket[len("unix:"):]
        s.settimeout(1)
        try:
            s.connect(addr)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def wait_ready(self):
        """Wait until the socket accepts connections; MilterError when the process
        exits first or the timeout passes (the message carries its last log lines)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise MilterError("milter exited with status %s before listening:\n%s"
                                  % (self.proc.returncode, self.log_tail()))
            if self._try_connect():
                return
            time.sleep(0.05)
        raise MilterError("milter not listening on %s after %ss:\n%s"
                          % (self.socket, self.timeout, self.log_tail()))

    def log_lines(self):
        """The process's stderr (and stdout) so far, as a list of lines."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def log_tail(self, n=20):
        return "\n".join(self.log_lines()[-n:])

    def wait_log(self, pattern, timeout=5):
        """Wait until a log line matches the regex; returns the line or None."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            for line in self.log_lines():
                if rx.search(line):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def reload(self):
        """SIGUSR1: the daemon re-reads its configuration."""
        self.signal(signal.SIGUSR1)

    def stop(self, timeout=10):
        """SIGTERM, wait, SIGKILL if need be; returns the exit status (negative:
        killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self._log.close()
        if self.valgrind and self.returncode == VALGRIND_STATUS:
            print("not ok - valgrind: authmilter had memory errors or leaks")
            for line in self.log_lines()[-60:]:
                print("# " + line)
            raise MilterError("valgrind reported errors (status %d)" % VALGRIND_STATUS)
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class MiltcError(Exception):
    pass


def _unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"n": "\n", "r": "\r", "\\": "\\"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_miltc(text):
    """miltc's output as {"protocol", "actions", "messages": [message dicts]}. A
    message dict: action, reply, step, mods [(op, index, name, value)], quarantine,
    latency_us."""
    res = {"protocol": None, "actions": None, "messages": []}
    cur = None
    for line in text.splitlines():
        key, _, val = line.partition(": ")
        if key == "protocol":
            res["protocol"] = int(val, 16)
        elif key == "actions":
            res["actions"] = int(val, 16)
        elif key == "message":
            cur = {"action": None, "reply": None, "step": None, "mods": [],
                   "quarantine": None, "latency_us": None}
            res["messages"].append(cur)
        elif cur is None:
            continue
        elif key in ("action", "step"):
            cur[key] = val
        elif key == "reply":
            cur["reply"] = _unescape(val)
        elif key == "quarantine":
            cur["quarantine"] = _unescape(val)
        elif key == "latency-us":
            cur["latency_us"] = int(val)
        elif key == "header-add":
            name, _, v = val.partition(": ")
            cur["mods"].append(("add", None, name, _unescape(v)))
        elif key == "header-insert":
            idx, _, rest = val.partition(" ")
            name, _, v = rest.partition(": ")
            cur["mods"].append(("insert", int(idx), name, _unescape(v)))
        elif key == "header-change":
            head, _, v = val.partition(": ")
            name, _, idx = head.rpartition(" ")
            cur["mods"].append(("change", int(idx), name, _unescape(v)))
    return res


def inbound_log_fields(line):
    """the key=value fields of an "inbound" log line, the first of each key"""
    fields = {}
    for tok in line.split(": inbound ", 1)[1].split():
        k, eq, v = tok.partition("=")
        if eq and k not in fields:
            fields[k] = v
    return fields


def run_miltc(socket, message, check=True, client_addr=None, client_name=None,
              client_port=None, helo=None, mail_from=None, rcpts=None, auth=None,
              queue_id=None, timeout=None, fold_crlf=False, count=None,
              output=False, extra_args=(), run_timeout=120):
    """Run miltc against socket with message (bytes or str). Returns the parsed output
    (see parse_miltc) with the first message's keys also at the top level, plus "rc",
    "stdout", "stderr", "output" (the modified message as bytes, when output=True)
    and "added": [(name, value)] of added and inserted headers. check=True raises
    MiltcError unless miltc exits 0."""
    if isinstance(message, str):
        message = message.encode()
    argv = [MILTC, "-s", socket]
    for flag, v in (("-a", client_addr), ("-n", client_name), ("-P", client_port),
                    ("-H", helo), ("-f", mail_from), ("-A", auth), ("-q", queue_id),
                    ("-t", timeout), ("--count", count)):
        if v is not None:
            argv += [flag, str(v)]
    for r in rcpts or ():
        argv += ["-r", r]
    if fold_crlf:
        argv.append("--fold-crlf")
    outpath = None
    if output:
        outpath = os.path.join(tmpdir(), "out.eml")
        argv += ["-o", outpath]
    argv += list(extra_args) + ["-"]
    p = subprocess.run(argv, input=message, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=run_timeout)
    stdout = p.stdout.decode("utf-8", "replace")
    stderr = p.stderr.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise MiltcError("miltc exited %d: %s" % (p.returncode, stderr.strip()))
    res = parse_miltc(stdout)
    res.update(rc=p.returncode, stdout=stdout, stderr=stderr, output=None)
    if res["messages"]:
        res.update(res["messages"][0])
        res["added"] = [(m[2], m[3]) for m in res["mods"]
                        if m[0] in ("add", "insert")]
    else:
        for k in ("action", "reply", "step", "quarantine", "latency_us"):
            res[k] = None
        res["mods"] = []
        res["added"] = []
    if outpath is not None and os.path.exists(outpath):
        with open(outpath, "rb") as f:
            res["output"] = f.read()
    return res


def pkt(cmd, data=b""):
    """A milter protocol packet: length, command byte, data."""
    return struct.pack(">I", len(data) + 1) + cmd + data


def read_pkt(s):
    """One milter packet's body (command byte first) from socket s, or None when
    the connection is lost or times out."""
    try:
        hdr = recv_exact(s, 4)
        return hdr and recv_exact(s, struct.unpack(">I", hdr)[0])
    except OSError:
        return None


class Results:
    """Collects checks; prints "ok - NAME" or "not ok - NAME: DETAIL" at once (a
    detail's further lines as "#" lines).

    An expected difference from a peer (the peer's answer differs from ours, and
    the RFC section that decides it is named) is neither: difference() prints
    "difference - NAME: WHY", which run-suite counts apart, never as ok."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.differences = []

    def ok(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok - %s" % name, flush=True)
        else:
            self.failed += 1
            # a detail of several lines: the first after the name, the rest as
            # "#" lines, so none of them can read as a result of its own
            first, _, rest = str(detail).partition("\n") if detail else ("", "", "")
            print("not ok - %s%s" % (name, ": " + first if first else ""))
            for line in rest.splitlines():
                print("#   %s" % line)
            sys.stdout.flush()
        return bool(cond)

    def eq(self, name, got, want):
        """ok when got == want; the detail shows both."""
        return self.ok(name, got == want, "got %r, want %r" % (got, want))

    def fail(self, name, detail=""):
        return self.ok(name, False, detail)

    def difference(self, name, why):
        """An expected difference, printed and counted as such."""
        self.differences.append(name)
        print("difference - %s: %s" % (name, why), flush=True)

    def skip(self, name, why):
        """A check that cannot run here (a peer is not installed): printed as
        "skip - NAME: WHY", counted apart by run-suite, never as passed."""
        print("skip - %s: %s" % (name, why), flush=True)

    def run(self, name, fn, *args, **kw):
        """Call fn; an exception becomes one failed check named name."""
        try:
            return fn(*args, **kw)
        except Exception as e:     # a crashed case must show, not stop the others
            self.fail(name, "%s: %s" % (type(e).__name__, e))
            return None

    def exit(self):
        if self.differences:
            print("# %d expected differences: %s" % (len(self.differences),
                                                     "; ".join(self.differences)))
        sys.stdout.flush()
        sys.exit(1 if self.failed or not self.passed else 0)
