"""dnsserver - a real unbound on loopback serving fixed records, for the tests.

    from dnsserver import DNSServer, a, aaaa, mx, txt, cname, refuse_zone
    with DNSServer([a("mail.example.org", "192.0.2.10"),
                    txt("example.org", "v=spf1 ip4:192.0.2.0/24 -all")],
                   ptrs=[("192.0.2.10", "mail.example.org")],
                   extra_conf=[refuse_zone("broken.example")]) as dns:
        run(..., "-s", dns.address)          # "127.0.0.1@PORT"

`local-zone: "." static` makes every name not listed NXDOMAIN, so nothing ever
leaves the machine. The RFC 6303 default zones (reverse of 192.0.2.0/24,
2001:db8::/32, 10/8 ...) are lifted so PTR records there are served.

Failure modes for tests:
    refuse_zone("x.example")  the server answers REFUSED under that zone
    dns.stop() / closed_port() a server that is gone (nothing listens)
    DelayProxy(dns.port, 0.05) a forwarder that answers every query late
    DelayProxy(dns.port, None) a forwarder that never answers
Every server and proxy is stopped at exit, even when a test fails.
"""

import atexit
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from sockio import recv_exact

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"

# Zones unbound serves itself by default (unbound.conf(5), "default zones").
DEFAULT_ZONES = (
    ["127.in-addr.arpa.", "1." + "0." * 31 + "ip6.arpa.", "home.arpa.",
     "onion.", "test.", "invalid.", "10.in-addr.arpa.", "168.192.in-addr.arpa.",
     "0.in-addr.arpa.", "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.",
     "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
     "255.255.255.255.in-addr.arpa.", "0." * 32 + "ip6.arpa.", "d.f.ip6.arpa.",
     "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
     "8.b.d.0.1.0.0.2.ip6.arpa."]
    + ["%d.172.in-addr.arpa." % i for i in range(16, 32)]
    + ["%d.100.in-addr.arpa." % i for i in range(64, 128)])

_live = []          # servers and proxies to stop at exit


@atexit.register
def _stop_all():
    for obj in list(_live):
        try:
            obj.stop()
        except Exception:
            pass


def _fqdn(name):
    return name if name.endswith(".") else name + "."


def a(name, ip, ttl=60):
    return "%s %d IN A %s" % (_fqdn(name), ttl, ip)


def aaaa(name, ip, ttl=60):
    return "%s %d IN AAAA %s" % (_fqdn(name), ttl, ip)


def mx(name, pref, host, ttl=60):
    return "%s %d IN MX %d %s" % (_fqdn(name), ttl, pref, _fqdn(host))


def cname(name, target, ttl=60):
    return "%s %d IN CNAME %s" % (_fqdn(name), ttl, _fqdn(target))


def ptr(name, target, ttl=60):
    return "%s %d IN PTR %s" % (_fqdn(name), ttl, _fqdn(target))


def txt(name, text, ttl=60, split=255):
    """A TXT record; text (str or bytes) cut into quoted strings of at most
    `split` bytes (255 is the DNS maximum). A list of strings is taken as the
    record's character-strings as they are."""
    if isinstance(text, (list, tuple)):
        parts = [p.encode() if isinstance(p, str) else p for p in text]
    else:
        raw = text.encode() if isinstance(text, str) else text
        parts = [raw[i:i + split] for i in range(0, len(raw), split)] or [b""]
    quoted = []
    for p in parts:
        if len(p) > 255:
            raise ValueError("TXT string over 255 bytes")
        s = "".join(chr(c) if 0x20 <= c < 0x7f and c not in b'"\\'
                    else "\\%03d" % c for c in p)
        quoted.append('"%s"' % s)
    return "%s %d IN TXT %s" % (_fqdn(name), ttl, " ".join(quoted))


def refuse_zone(zone):
    """A server line: answer REFUSED for every name under zone."""
    return 'local-zone: "%s" refuse' % _fqdn(zone)


def _free_port():
    """A port free on 127.0.0.1 for both UDP and TCP (when we looked)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind(("127.0.0.1", port))
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def closed_port():
    """A loopback port where nothing answers: a server that is gone."""
    return _free_port()


def _have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(port, name, qtype=1, host="127.0.0.1", timeout=1.0):
    """One raw DNS query over UDP; returns (rcode, answer count) or None."""
    qid = random.randint(0, 0xffff)
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + \
        _encode_name(name) + struct.pack(">HH", qtype, 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, (host, port))
        while True:
            data = s.recv(65535)
            if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
                flags, _, ancount = struct.unpack(">HHH", data[2:8])
                return flags & 0x0f, ancount
    except OSError:
        return None
    finally:
        s.close()


def dkim_dnsfunc(port, host="127.0.0.1"):
    """A dnsfunc for dkimpy (dkim.verify(..., dnsfunc=...)) that asks only the
    loopback test server: the first TXT record of a name, its strings joined; b""
    when there is none. dnspython comes with python3-dkim; it falls back to TCP
    for answers too big for UDP."""
    import dns.resolver
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = port
    res.timeout = res.lifetime = 3

    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        try:
            ans = res.resolve(name, "TXT")
        except Exception:
            return b""
        for rr in ans:
            return b"".join(rr.strings)
        return b""
    return lookup


def dkim_verify_all(msg, port, host="127.0.0.1"):
    """dkimpy's verdict (True/False) on every DKIM-Signature of msg (bytes), each
    key looked up on the loopback test server only."""
    import re
    import dkim
    d = dkim.DKIM(msg)
    res = []
    for i in range(len(re.findall(rb"(?im)^DKIM-Signature:", msg))):
        try:
            res.append(bool(d.verify(idx=i, dnsfunc=dkim_dnsfunc(port, host))))
        except Exception:
            res.append(False)
    return res


class DNSServer:
    """unbound -d on 127.0.0.1 (and ::1 when there is one), a free port or port."""

    def __init__(self, records, ptrs=(), extra_conf=(), start=True, port=None):
        self.records = list(records)
        self.fixed_port = port          # e.g. 53 inside a test's own network namespace
        self.ptrs = list(ptrs)
        self.extra_conf = list(extra_conf)
        self.dir = tempfile.mkdtemp(prefix="authmilter-dns-")
        self.proc = None
        self.port = None
        self.ipv6 = _have_ipv6_loopback()
        if start:
            self.start()

    @property
    def address(self):
        return "127.0.0.1@%d" % self.port

    def _conf(self):
        lines = ["server:",
                 "  interface: 127.0.0.1@%d" % self.port]
        if self.ipv6:
            lines.append("  interface: ::1@%d" % self.port)
        lines += [
            '  username: ""', '  chroot: ""', "  do-daemonize: no",
            '  directory: "%s"' % self.dir,
            '  pidfile: "%s"' % os.path.join(self.dir, "unbound.pid"),
            "  use-syslog: no",
            '  logfile: "%s"' % os.path.join(self.dir, "unbound.log"),
            "  verbosity: 1", "  num-threads: 1",
            '  module-config: "iterator"',
            "  access-control: 127.0.0.0/8 allow",
            "  access-control: ::1/128 allow",
            "  do-ip6: %s" % ("yes" if self.ipv6 else "no"),
            "  local-zone: \".\" static"]
        lines += ['  local-zone: "%s" nodefault' % z for z in DEFAULT_ZONES]
        lines += ["  " + c for c in self.extra_conf]
        for r in self.records:
            q = "'%s'" % r if '"' in r else '"%s"' % r
            lines.append("  local-data: " + q)
        for ip, name in self.ptrs:
            lines.append('  local-data-ptr: "%s %s"' % (ip, _fqdn(name)))
        lines.append("remote-control:\n  control-enable: no")
        return "\n".join(lines) + "\n"

    def start(self, attempts=5):
        """Start unbound and wait until it answers."""
        last = ""
        for _ in range(attempts):
            self.port = self.fixed_port or _free_port()
            conf = os.path.join(self.dir, "unbound.conf")
            with open(conf, "w") as f:
                f.write(self._conf())
            log = open(os.path.join(self.dir, "stderr"), "w")
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", conf],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            log.close()
            _live.append(self)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if query(self.port, "authmilter-probe.invalid", timeout=0.2):
                    return self
                time.sleep(0.05)
            last = self.log()
            self._kill()
        raise RuntimeError("unbound did not start:\n" + last)

    def log(self):
        out = ""
        for fn in ("stderr", "unbound.log"):
            try:
                with open(os.path.join(self.dir, fn)) as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self in _live:
            _live.remove(self)

    def stop(self):
        """Stop the server; its port then answers nothing (a server gone)."""
        self._kill()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


class DelayProxy:
    """A loopback forwarder (UDP and TCP) that holds each query delay_s seconds
    before passing it to 127.0.0.1@upstream_port; delay_s None: never answer.
    .port and .address as DNSServer."""

    def __init__(self, upstream_port, delay_s):
        self.upstream = upstream_port
        self.delay = delay_s
        self.port = _free_port()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.stopping = False
        self.rd, self.wr = os.pipe()
        self.threads = [threading.Thread(target=self._loop, daemon=True)]
        self.threads[0].start()
        _live.append(self)

    @property
    def address(self):
        return "127.0.0.1@%d" % self.port

    def _loop(self):
        while not self.stopping:
            r, _, _ = select.select([self.udp, self.tcp, self.rd], [], [])
            if self.rd in r:
                break
            if self.udp in r:
                try:
                    data, peer = self.udp.recvfrom(65535)
                except OSError:
                    continue
                if self.delay is not None:
                    threading.Thread(target=self._udp_one, args=(data, peer),
                                     daemon=True).start()
            if self.tcp in r:
                try:
                    conn, _ = self.tcp.accept()
                except OSError:
                    continue
                threading.Thread(target=self._tcp_one, args=(conn,),
                                 daemon=True).start()

    def _udp_one(self, data, peer):
        time.sleep(self.delay)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        try:
            s.sendto(data, ("127.0.0.1", self.upstream))
            reply = s.recv(65535)
            if not self.stopping:
                self.udp.sendto(reply, peer)
        except OSError:
            pass
        finally:
            s.close()

    @staticmethod
    def _read_msg(sock):
        """One length-prefixed DNS message from a TCP stream; None at its end."""
        hdr = recv_exact(sock, 2)
        body = hdr and recv_exact(sock, struct.unpack(">H", hdr)[0])
        return hdr + body if body is not None else None

    def _tcp_query(self, conn, lock, msg):
        """One query of a stream: held delay seconds (the delay when it
        arrived, as for UDP), asked upstream on its own connection, its reply
        written back whole."""
        time.sleep(self.delay)
        try:
            with socket.create_connection(("127.0.0.1", self.upstream), 5) as up:
                up.settimeout(5)
                up.sendall(msg)
                reply = self._read_msg(up)
            if reply is not None and not self.stopping:
                with lock:
                    conn.sendall(reply)
        except OSError:
            pass

    def _tcp_one(self, conn):
        """A TCP stream: every query on it is delayed by itself, so a client
        that keeps its stream open (unbound reuses them) sees the same delay
        as over UDP; replies may come back out of order, as RFC 7766 allows."""
        lock = threading.Lock()
        workers = []
        try:
            conn.settimeout(10)
            while True:
                msg = self._read_msg(conn)
                if msg is None:
                    break
                if self.delay is None:
                    continue
                t = threading.Thread(target=self._tcp_query, args=(conn, lock, msg),
                                     daemon=True)
                t.start()
                workers.append(t)
        except (OSError, struct.error):
            pass
        finally:
            for t in workers:
                t.join(15)
            conn.close()

    def stop(self):
        if self.stopping:
            return
        self.stopping = True
        os.write(self.wr, b"x")
        self.threads[0].join(5)
        self.udp.close()
        self.tcp.close()
        os.close(self.rd)
        os.close(self.wr)
        if self in _live:
            _live.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
