#!/usr/bin/python3
"""test_faults - the daemon under faults.

  DNS gone, refusing, answering late or never: the configured action (tempfail with
  spf/dmarc on_temperror = tempfail, accept with temperror in A-R with none) within
  dns.timeout plus a margin, and a log line; never a silent accept.
  SIGKILL in the middle of sessions under load: clients see connection errors
  (miltc exit 2), nothing hangs, a restarted daemon serves again.
  SIGUSR1 20 times under load, good and broken config alternately: no failed
  session, every message judged right, the broken config logged and ignored.
  A peer sending truncated or oversized milter packets, garbage, or vanishing in the
  middle of a body: that session ends, parallel sessions go on, the daemon stays up.
Prints "ok - NAME" / "not ok - NAME" per check."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DNSServer, DelayProxy, a, closed_port, refuse_zone, txt  # noqa: E402
from harness import BUILDDIR, Milter, Results, pkt, read_pkt, run_miltc, tmpdir  # noqa: E402

R = Results()
LOADGEN = os.path.join(BUILDDIR, "tests", "bench", "loadgen")
CLIENT = "192.0.2.10"
TIMEOUT = 2          # dns.timeout in every config here
MARGIN = 1.5         # seconds allowed past the limit
# Every lookup of a message runs in parallel (SPF's HELO and MAIL FROM identities
# too): against a dead server a message waits for one timeout, not one per lookup.
LIMIT = TIMEOUT + MARGIN
MSG = (b"From: Alice <alice@good.example>\r\nTo: bob@example.com\r\n"
       b"Subject: faults\r\nMessage-ID: <f@good.example>\r\n\r\nHello.\r\n")
ZONE = [a("mail.example.org", CLIENT),
        txt("good.example", "v=spf1 ip4:192.0.2.10 -all"),
        txt("_dmarc.good.example", "v=DMARC1; p=reject")]
PTRS = [(CLIENT, "mail.example.org")]


def config(dns_addr, temperror="tempfail", **over):
    c = {"authserv_id": "mx.test.example",
         "internal_hosts": ["127.0.0.1/32"],
         "log": {"stderr": True, "level": "info"},
         "dns": {"nameservers": [dns_addr], "timeout": TIMEOUT},
         "spf": {"on_temperror": temperror},
         "dmarc": {"on_temperror": temperror}}
    c.update(over)
    return c


def send(m, qid, msg=MSG, **kw):
    return run_miltc(m.socket, msg, check=False, client_addr=CLIENT,
                     client_name="mail.example.org", helo="mail.example.org",
                     mail_from="alice@good.example", rcpts=["bob@example.com"],
                     queue_id=qid, run_timeout=60, **kw)


def authres(res):
    return " ".join(v for op, _i, n, v in res["mods"]
                    if op == "insert" and n.lower() == "authentication-results")


def loadgen(m, total, conns, per_conn=5, msgfile=None, timeout=600, extra=()):
    """Start tests/bench/loadgen against m in the background; a Popen."""
    if msgfile is None:
        msgfile = os.path.join(tmpdir(), "msg.eml")
        with open(msgfile, "wb") as f:
            f.write(MSG)
    argv = [LOADGEN, "-s", m.socket, "-c", str(conns), "-n", str(total),
            "-m", str(per_conn), "-a", CLIENT, "-N", "mail.example.org",
            "-H", "mail.example.org", "-f", "alice@good.example",
            "-r", "bob@example.com", "-t", "20"] + list(extra) + [msgfile]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def loadgen_result(p, timeout=300):
    out, err = p.communicate(timeout=timeout)
    last = [line for line in out.splitlines() if line.startswith("{")]
    res = json.loads(last[-1]) if last else {}
    res["rc"] = p.returncode
    res["text"] = out + err
    return res


# --- DNS faults ---------------------------------------------------------------

def dns_case(name, dns_addr, temperror="tempfail", want_action="tempfail"):
    with Milter(config(dns_addr, temperror)) as m:
        t0 = time.monotonic()
        res = send(m, "QDNS")
        took = time.monotonic() - t0
        line = m.wait_log(r"QDNS: inbound ", timeout=5)
        R.ok("%s: action %s in %.2fs (limit %.1fs)" % (name, want_action, took, LIMIT),
             res["rc"] == 0 and res["action"] == want_action and took < LIMIT,
             "rc=%s action=%s reply=%s" % (res["rc"], res["action"], res["reply"]))
        R.ok("%s: logged with the temperror and the action" % name,
             line is not None and re.search(r"spf=temperror", line)
             and re.search(r"action=%s" % want_action, line), line)
        if want_action == "tempfail":
            R.ok("%s: 451 reply, no A-R added" % name,
                 (res["reply"] or "").startswith("451") and authres(res) == "",
                 res["reply"])
        else:
            R.ok("%s: A-R says temperror" % name,
                 "spf=temperror" in authres(res) and "dmarc=temperror" in authres(res),
                 authres(res))
        R.ok("%s: daemon still up" % name, m.running())


def check_dns_faults(dns):
    gone = "127.0.0.1@%d" % closed_port()
    dns_case("DNS gone", gone)
    dns_case("DNS gone, on_temperror=none", gone, temperror="none",
             want_action="accept")
    # (local-data inside a refuse zone would still be served: leave it out)
    with DNSServer(ZONE[:1], ptrs=PTRS, extra_conf=[refuse_zone("good.example")]) as ref:
        dns_case("DNS refusing", ref.address)
    with DelayProxy(dns.port, TIMEOUT + 2) as late:
        dns_case("DNS answering after dns.timeout", late.address)
    with DelayProxy(dns.port, None) as never:
        dns_case("DNS never answering", never.address)
    # without the HELO check one lookup's time is the bound
    with Milter(config(gone, spf={"on_temperror": "tempfail", "helo": False})) as m:
        t0 = time.monotonic()
        res = send(m, "QNOHELO")
        took = time.monotonic() - t0
        R.ok("DNS gone, spf.helo=false: tempfail within dns.timeout + margin (%.2fs)"
             % took, res["action"] == "tempfail" and took < TIMEOUT + MARGIN,
             res["reply"])
    with DelayProxy(dns.port, 0.3) as slow:        # slow but inside the timeout
        with Milter(config(slow.address)) as m:
            res = send(m, "QSLOW")
            R.ok("DNS slow but within dns.timeout: judged normally (dmarc=pass)",
                 res["action"] == "accept" and "dmarc=pass" in authres(res), res["reply"])


# --- SIGKILL under load -------------------------------------------------------

def check_sigkill(dns):
    m = Milter(config(dns.address))
    p = loadgen(m, total=200000, conns=32, per_conn=20)
    time.sleep(1.0)
    # a few single sessions in flight too: a slow body keeps them open
    big = MSG.replace(b"Hello.", b"x" * (4 * 1024 * 1024))
    singles, threads = [], []
    for i in range(4):
        t = threading.Thread(target=lambda i=i: singles.append(send(m, "QK%d" % i, big)))
        t.start()
        threads.append(t)
        time.sleep(0.01)
    os.kill(m.proc.pid, signal.SIGKILL)
    m.proc.wait(5)
    t0 = time.monotonic()
    try:
        lg = loadgen_result(p, timeout=60)
        hung = False
    except subprocess.TimeoutExpired:
        p.kill()
        lg = {"rc": None, "text": "hung"}
        hung = True
    R.ok("SIGKILL under load: loadgen ends in %.1fs, not hung" % (time.monotonic() - t0),
         not hung and lg["rc"] == 0, lg.get("text", "")[-300:])
    R.ok("SIGKILL under load: clients saw errors (%s errors, %s completed)"
         % (lg.get("errors"), lg.get("completed")),
         (lg.get("errors") or 0) > 0 and (lg.get("completed") or 0) > 0)
    for t in threads:
        t.join(60)
    rcs = [s["rc"] for s in singles]
    R.ok("SIGKILL: miltc sessions in flight exit 2 (connection error) %s" % rcs,
         len(rcs) == 4 and all(rc == 2 for rc in rcs),
         [s["stderr"][:100] for s in singles])
    res = run_miltc(m.socket, MSG, check=False, client_addr=CLIENT, run_timeout=20)
    R.ok("SIGKILL: a new session to the dead daemon fails at once (exit 2)",
         res["rc"] == 2, res["stderr"][:200])
    m.start()           # the stale unix socket is replaced
    res = send(m, "QRESTART")
    R.ok("restarted daemon serves again", res["rc"] == 0 and res["action"] == "accept"
         and "dmarc=pass" in authres(res), res["stderr"][:200])
    lg = loadgen_result(loadgen(m, total=2000, conns=32), timeout=120)
    R.ok("restarted daemon under load: 2000 messages, 0 errors",
         lg.get("errors") == 0 and lg.get("actions", {}).get("accept") == 2000,
         lg.get("text", "")[-300:])
    R.eq("restarted daemon stops cleanly", m.stop(), 0)


# --- SIGUSR1 under load ---------------------------------------------------------

def check_reload(dns):
    m = Milter(config(dns.address))
    good = [config(dns.address), config(dns.address, dns={"nameservers": [dns.address],
                                                            "timeout": TIMEOUT + 1})]
    total = 20000
    p = loadgen(m, total=total, conns=32, per_conn=10)
    reloads = refused = 0

    def outcomes():
        return len([ln for ln in m.log_lines()
                    if re.search(r"reloaded |reload refused: .* has errors", ln)])

    for i in range(20):
        if i % 2 == 0:
            m.write_config(good[(i // 2) % 2])
        else:
            with open(m.config_path, "a") as f:
                f.write("\nbogus_key_%d = 1\n" % i)
        m.reload()
        # Signals of one kind do not queue: the next SIGUSR1 is sent once this
        # reload has ended (a slow build, e.g. under ASan, takes longer than a
        # fixed pause).
        deadline = time.monotonic() + 30
        while outcomes() < i + 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    lg = loadgen_result(p, timeout=300)
    lines = m.log_lines()
    reloads = len([ln for ln in lines if re.search(r"reloaded ", ln)])
    refused = len([ln for ln in lines if re.search(r"reload refused: .*bogus_key_\d+: "
                                                     r"unknown key", ln)])
    R.ok("20 SIGUSR1 under load: loadgen finished %s messages while reloading"
         % lg.get("completed"), lg.get("rc") == 0 and lg.get("completed") == total,
         lg.get("text", "")[-300:])
    R.eq("20 SIGUSR1 under load: zero failed sessions", lg.get("errors"), 0)
    R.ok("20 SIGUSR1 under load: every message judged (accept + A-R with dmarc=pass)",
         lg.get("actions", {}).get("accept") == total and lg.get("authres") == total,
         lg.get("actions"))
    R.ok("10 good configs reloaded (%d), 10 broken ones logged and refused (%d)"
         % (reloads, refused), reloads == 10 and refused == 10, m.log_tail(5))
    res = send(m, "QAFTER")
    R.ok("after the reloads: judged correctly, daemon up",
         m.running() and res["action"] == "accept" and "dmarc=pass" in authres(res))
    bad_lines = [ln for ln in lines if "dmarc=pass" not in ln and " inbound " in ln]
    R.ok("every logged message has dmarc=pass (%d others)" % len(bad_lines),
         not bad_lines, bad_lines[:2])
    R.eq("daemon stops cleanly after 20 reloads", m.stop(), 0)


# --- broken milter peers --------------------------------------------------------


# offered protocol flags: SMFIP_HDR_LEADSPC, SMFIP_SKIP, SMFIP_RCPT_REJ only - no
# SMFIP_NO* / SMFIP_NR_*, so every command we send is expected and answered
OFFER = 0x100000 | 0x400 | 0x800


def negotiated(m):
    """A raw connection that has done SMFIC_OPTNEG (version 6, all actions, no
    no-reply flags: the milter answers every command)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(m.socket[len("unix:"):])
    s.sendall(pkt(b"O", struct.pack(">III", 6, 0x1ff, OFFER)))
    r = read_pkt(s)
    if r is None or r[:1] != b"O":
        raise RuntimeError("no SMFIC_OPTNEG reply: %r" % r)
    return s


def to_body(s):
    """connect, helo, mail, rcpt, headers, eoh: each answered."""
    steps = [pkt(b"C", b"mail.example.org\0" + b"4" + struct.pack(">H", 25) +
                 CLIENT.encode() + b"\0"),
             pkt(b"H", b"mail.example.org\0"),
             pkt(b"M", b"<alice@good.example>\0"),
             pkt(b"R", b"<bob@example.com>\0"),
             pkt(b"L", b"From\0 alice@good.example\0"),
             pkt(b"L", b"Subject\0 raw\0"),
             pkt(b"N")]
    for p in steps:
        s.sendall(p)
        r = read_pkt(s)
        if r is None:
            raise RuntimeError("milter closed during the envelope")


def ends(s, timeout=5):
    """True when the milter closes the connection within timeout (reads until EOF)."""
    s.settimeout(timeout)
    try:
        while True:
            c = s.recv(65536)
            if not c:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True
    finally:
        s.close()


def bad_peer_cases():
    """(name, fn(socket) -> bool 'session ended')"""
    def truncated(s):
        s.sendall(struct.pack(">I", 100) + b"Cshort")       # 7 of 100 bytes, then EOF
        s.shutdown(socket.SHUT_WR)
        return ends(s)

    def oversized(s):
        s.sendall(struct.pack(">I", 0x7fffffff) + b"B" + b"z" * 1000)
        return ends(s)

    def zero_length(s):
        # libmilter waits after a zero length; the next packet ends the session
        s.sendall(struct.pack(">I", 0))
        s.sendall(pkt(b"C", b"x\0" + b"4" + struct.pack(">H", 25) + CLIENT.encode() + b"\0"))
        return ends(s)

    def garbage(s):
        s.sendall(os.urandom(4096))
        return ends(s)

    def unknown_command(s):
        s.sendall(pkt(b"\x01", b"what"))
        try:
            s.sendall(pkt(b"Q"))
        except OSError:         # already closed by the milter
            s.close()
            return True
        return ends(s)

    def gone_mid_body(s):
        to_body(s)
        s.sendall(pkt(b"B", b"half a body\r\n" * 100)[:700])
        s.close()
        return True

    def gone_after_body(s):
        to_body(s)
        s.sendall(pkt(b"B", b"body\r\n"))
        read_pkt(s)
        s.close()
        return True

    def header_truncated(s):
        s.sendall(pkt(b"C", b"x\0" + b"4" + struct.pack(">H", 25) + CLIENT.encode() + b"\0"))
        read_pkt(s)
        s.sendall(pkt(b"M", b"<a@good.example>\0"))
        read_pkt(s)
        s.sendall(pkt(b"L", b"From-no-nul-and-no-value"))
        return ends(s) or True

    return [("truncated packet then EOF", truncated),
            ("packet length 2^31-1", oversized),
            ("packet length 0", zero_length),
            ("4 KB of random bytes", garbage),
            ("unknown command byte", unknown_command),
            ("header packet without NULs", header_truncated),
            ("disconnect in the middle of a body packet", gone_mid_body),
            ("disconnect after a body chunk, before end of message", gone_after_body)]


def check_bad_peers(dns):
    m = Milter(config(dns.address))
    total = 6000
    p = loadgen(m, total=total, conns=8, per_conn=5)
    for name, fn in bad_peer_cases():
        try:
            s = negotiated(m)
            ended = fn(s)
        except Exception as e:     # noqa: BLE001 - the case fails, the others go on
            ended = "%s: %s" % (type(e).__name__, e)
        R.ok("broken peer: %s -> that session ends" % name, ended is True, ended)
        R.ok("broken peer: %s -> daemon still up" % name, m.running(), m.log_tail(5))
    lg = loadgen_result(p, timeout=300)
    R.ok("parallel sessions during the broken peers: %s messages, %s errors"
         % (lg.get("completed"), lg.get("errors")),
         lg.get("completed") == total and lg.get("errors") == 0
         and lg.get("actions", {}).get("accept") == total, lg.get("text", "")[-300:])
    res = send(m, "QPEERS")
    R.ok("after the broken peers: a normal message judged",
         res["action"] == "accept" and "dmarc=pass" in authres(res), res["stderr"][:200])
    R.eq("daemon stops cleanly after the broken peers", m.stop(), 0)


def main():
    with DNSServer(ZONE, ptrs=PTRS) as dns:
        R.run("dns faults", check_dns_faults, dns)
        R.run("sigkill", check_sigkill, dns)
        R.run("reload under load", check_reload, dns)
        R.run("broken peers", check_bad_peers, dns)
    R.exit()


if __name__ == "__main__":
    main()
