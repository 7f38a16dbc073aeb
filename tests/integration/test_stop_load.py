#!/usr/bin/python3
"""test_stop_load - SIGTERM under load: every message that has begun gets its reply
(issue 31.3).

16 MTA connections (raw milter clients, every command answered) send messages
whose checks each wait on a DNS forwarder 0.2 s late, so that messages are in
flight whenever the stop comes. 20 times: start the daemon, let the load run,
SIGTERM. A message has begun when the milter answered its MAIL FROM with
"continue"; it is cut when its connection is lost before its final answer (accept,
reject, tempfail at any step). Before issue 31, libmilter's worker pool stopped
with the signal and the MTA lost messages in the middle. Prints the figures: stop
time, messages begun, answered after the signal, refused at MAIL FROM, MAIL FROMs
that met a closed connection (the MTA's milter_default_action applies to those: no
message had begun).
"""
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Milter, Results, pkt, read_pkt  # noqa: E402
from dnsserver import DNSServer, DelayProxy, a, txt  # noqa: E402

R = Results()
ROUNDS = int(os.environ.get("STOP_LOAD_ROUNDS", "20"))
CONNS = 16
CLIENT = "192.0.2.10"
# offered: SMFIP_HDR_LEADSPC, SMFIP_SKIP, SMFIP_RCPT_REJ; no no-reply flags
OFFER = 0x100000 | 0x400 | 0x800


def ask(s, p):
    """Send p, return the reply (None: connection lost)."""
    try:
        s.sendall(p)
    except OSError:
        return None
    return read_pkt(s)


# a final answer: accept, continue (at end of message: accept with changes),
# reject, tempfail, reply code, discard
FINAL_CODES = (b"a", b"c", b"r", b"t", b"y", b"d")


class Load:
    """CONNS client threads until stop(); per-message counters."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.n = {"begun": 0, "answered": 0, "cut": 0, "refused_mail": 0,
                  "mail_lost": 0, "after_signal": 0}
        self.cut_detail = []
        self.signalled = None
        self.done = threading.Event()
        self.seq = 0
        self.threads = [threading.Thread(target=self.client, daemon=True)
                        for _ in range(CONNS)]
        for t in self.threads:
            t.start()

    def count(self, key, detail=None):
        with self.lock:
            self.n[key] += 1
            if detail is not None and len(self.cut_detail) < 5:
                self.cut_detail.append(detail)

    def session(self):
        """A connection up to HELO; None when the milter does not take it."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            return None
        r = ask(s, pkt(b"O", struct.pack(">III", 6, 0x1ff, OFFER)))
        if r is None or r[:1] != b"O":
            s.close()
            return None
        r = ask(s, pkt(b"C", b"mail.example.org\0" + b"4" + struct.pack(">H", 25) +
                       CLIENT.encode() + b"\0"))
        if r is None or r[:1] != b"c" or ask(s, pkt(b"H", b"mail.example.org\0")) is None:
            s.close()
            return None
        return s

    def message(self, s):
        """One message; False when the connection is over."""
        with self.lock:
            self.seq += 1
            dom = "m%d.example.org" % self.seq
        r = ask(s, pkt(b"M", b"<alice@" + dom.encode() + b">\0"))
        if r is None:
            self.count("mail_lost")
            return False
        if r[:1] != b"c":
            self.count("refused_mail")
            return False
        self.count("begun")
        steps = [pkt(b"R", b"<bob@example.com>\0"),
                 pkt(b"L", b"From\0 alice@" + dom.encode() + b"\0"),
                 pkt(b"L", b"Subject\0 stop under load\0"), pkt(b"N"),
                 pkt(b"B", b"Hello.\r\n")]
        for i, p in enumerate(steps):
            r = ask(s, p)
            if r is None:
                self.count("cut", "lost at step %d" % i)
                return False
            if r[:1] in (b"r", b"t", b"y", b"d", b"a"):
                self.answered()
                return r[:1] == b"a"
        try:
            s.sendall(pkt(b"E"))
        except OSError:
            self.count("cut", "lost at end of message")
            return False
        while True:
            r = read_pkt(s)
            if r is None:
                self.count("cut", "lost waiting for the verdict")
                return False
            if r[:1] in FINAL_CODES:
                self.answered()
                return r[:1] in (b"a", b"c")

    def answered(self):
        with self.lock:
            self.n["answered"] += 1
            if self.signalled is not None:
                self.n["after_signal"] += 1

    def client(self):
        while not self.done.is_set():
            s = self.session()
            if s is None:
                time.sleep(0.01)
                continue
            while not self.done.is_set() and self.message(s):
                pass
            s.close()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(30)


def one_round(slow, i, totals, times):
    conf = {"authserv_id": "mx.test.example", "internal_hosts": ["127.0.0.2/32"],
            "dns": {"nameservers": [slow.address], "timeout": 2}}
    m = Milter(conf)
    load = Load(m.socket[len("unix:"):])
    time.sleep(0.8)
    with load.lock:
        load.signalled = time.monotonic()
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    try:
        m.proc.wait(timeout=30)
    except Exception:
        pass
    times.append(time.monotonic() - t0)
    load.stop()
    for k, v in load.n.items():
        totals[k] = totals.get(k, 0) + v
    if load.n["cut"]:
        print("# round %d: %d cut (%s); log: %s" % (i, load.n["cut"],
              "; ".join(load.cut_detail), m.log_tail(4).replace("\n", " | ")))
    m.stop()


def main():
    with DNSServer([a("mail.example.org", CLIENT),
                    txt("example.org", "v=spf1 ip4:192.0.2.10 -all")],
                   ptrs=[(CLIENT, "mail.example.org")]) as dns, \
            DelayProxy(dns.port, 0.2) as slow:
        totals, times = {}, []
        for i in range(ROUNDS):
            one_round(slow, i, totals, times)
        times.sort()
        print("# %d stops under load: stop time median %.2f s, max %.2f s; %s"
              % (ROUNDS, times[len(times) // 2], times[-1],
                 ", ".join("%s %d" % kv for kv in sorted(totals.items()))))
        R.ok("messages were in flight at the signals (%d answered after one)"
             % totals.get("after_signal", 0), totals.get("after_signal", 0) > 0)
        R.eq("%d stops under %d connections: messages cut after MAIL FROM"
             % (ROUNDS, CONNS), totals.get("cut", 0), 0)
        R.ok("every stop within dns.timeout + 2 s (max %.2f s)" % times[-1],
             times[-1] < 4.0)
    R.exit()


if __name__ == "__main__":
    main()
