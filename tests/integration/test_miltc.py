#!/usr/bin/python3
"""test_miltc - the milter client (tests/lib/miltc) against a real libmilter milter.

The peer is fixtures/pymilter_echo.py (Debian's python3-milter over libmilter), which
echoes what it received in added headers; a few hand-made broken peers check that the
client fails cleanly (exit 2) instead of crashing or hanging.
"""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Milter, Results, run_miltc, tmpdir  # noqa: E402
from sockio import recv_exact  # noqa: E402

ECHO = os.path.join(harness.FIXTURES, "pymilter_echo.py")
SMFIP_NODATA = 0x200
SMFIP_NR_HDR = 0x80
SMFIP_HDR_LEADSPC = 0x100000

MSG = (b"From: Alice <alice@example.com>\n"
       b"To: bob@example.net\n"
       b"Subject:  two spaces\n"
       b"\tfolded\n"
       b"Date: Sat, 21 Nov 2026 12:00:00 +0000\n"
       b"\n"
       b"Hello.\n"
       b"Second line.\n")


def echo(*args, inet=False):
    return Milter(command=["/usr/bin/python3", ECHO, "{socket}"] + list(args),
                  inet=inet)


def added(res, name):
    for op, _, n, v in res["mods"]:
        if op in ("add", "insert") and n == name:
            return v
    return None


def info(res):
    """X-Echo-Info as a dict."""
    v = added(res, "X-Echo-Info") or ""
    return dict(p.split("=", 1) for p in v.split("; ") if "=" in p)


def test_basic(r, m):
    res = run_miltc(m.socket, MSG, output=True, auth="alice", client_addr="192.0.2.7",
                    client_name="mail.example.com", mail_from="alice@example.com",
                    rcpts=["bob@example.net", "carol@example.net"], queue_id="QID1")
    r.eq("accept: action", res["action"], "accept")
    r.eq("accept: step", res["step"], "eom")
    r.eq("accept: no reply code", res["reply"], None)
    r.eq("accept: mods in order", [(o, i, n) for o, i, n, _ in res["mods"]],
         [("add", None, "X-Echo-Subject"), ("add", None, "X-Echo-Info"),
          ("insert", 1, "X-Echo-Top"), ("change", 1, "Subject")])
    r.eq("accept: change value", res["mods"][3][3], "changed")
    r.eq("accept: DATA step negotiated away", res["protocol"] & SMFIP_NODATA,
         SMFIP_NODATA)
    r.eq("leading space: one space stripped, LF fold",
         added(res, "X-Echo-Subject"), "[ two spaces<LF>\tfolded]")
    i = info(res)
    r.eq("macro {auth_authen}", i.get("{auth_authen}"), "alice")
    r.eq("macro {client_addr}", i.get("{client_addr}"), "192.0.2.7")
    r.eq("macro {client_name}", i.get("{client_name}"), "mail.example.com")
    r.eq("macro _", i.get("_"), "mail.example.com [192.0.2.7]")
    r.eq("macro {mail_addr}", i.get("{mail_addr}"), "alice@example.com")
    r.eq("macro {rcpt_addr} (last)", i.get("{rcpt_addr}"), "carol@example.net")
    r.eq("macro i", i.get("i"), "QID1")
    r.eq("macro j", i.get("j"), "mx.test.example")
    r.eq("envelope from", i.get("from"), "<alice@example.com>")
    r.eq("envelope rcpts", i.get("rcpts"), "<bob@example.net>,<carol@example.net>")
    r.eq("connect host/addr", i.get("conn"), "mail.example.com|('192.0.2.7', 40000)")
    r.eq("header count", i.get("hdrs"), "4")
    r.eq("body CRLF", i.get("body"), str(len(b"Hello.\r\nSecond line.\r\n")))
    out = res["output"] or b""
    head, _, body = out.partition(b"\n\n")
    lines = head.split(b"\n")
    r.eq("output: inserted at index 1", lines[1] if len(lines) > 1 else None,
         b"X-Echo-Top: inserted")
    r.ok("output: Subject changed, fold gone",
         b"\nSubject: changed\nDate: " in out, out[:300])
    r.ok("output: added at end", lines[-1].startswith(b"X-Echo-Info: "), lines[-1:])
    r.eq("output: body unchanged", body, b"Hello.\nSecond line.\n")

    res = run_miltc(m.socket, MSG)
    r.eq("no -A: {auth_authen} absent", info(res).get("{auth_authen}"), "None")

    crlf = MSG.replace(b"\n", b"\r\n") + b"X-Delete: yes\r\n"
    crlf = crlf.replace(b"\r\n\r\n", b"\r\nX-Delete: yes\r\n\r\n", 1)
    res = run_miltc(m.socket, crlf, fold_crlf=True, output=True)
    r.eq("fold-crlf: fold sent as CRLF", added(res, "X-Echo-Subject"),
         "[ two spaces<CR><LF>\tfolded]")
    r.ok("delete: change with empty value",
         ("change", 1, "X-Delete", "") in res["mods"], res["mods"])
    out = res["output"] or b""
    r.ok("output: deleted field gone, CRLF kept",
         b"X-Delete" not in out.partition(b"\r\n\r\n")[0] and
         b"Subject: changed\r\n" in out, out[:400])
    r.ok("output: body unchanged (CRLF)",
         out.endswith(b"\r\n\r\nHello.\r\nSecond line.\r\nX-Delete: yes\r\n"), out[-80:])

    res = run_miltc(m.socket, MSG.replace(b"Date:", b"X-Quarantine: held for review\nDate:"))
    r.eq("quarantine: action", res["action"], "quarantine")
    r.eq("quarantine: reason", res["quarantine"], "held for review")

    res = run_miltc(m.socket, b"Subject:\ttab\n\nx\n")
    r.eq("leading tab kept", added(res, "X-Echo-Subject"), "[\ttab]")

    # RFC 5322 §4.5.3 obs-optional: WSP between the name and the colon. Postfix's
    # is_header() accepts it and milter8 sends the name without it; a space
    # inside a name ends the header block (is_header() says no header)
    wsp = (b"From: a@example.com\nSubject   :  spaced\nDate\t: Sat, 21 Nov 2026 "
           b"12:00:00 +0000\n\nHello.\n")
    res = run_miltc(m.socket, wsp, output=True)
    r.eq("WSP before the colon: sent as Subject, one space stripped",
         added(res, "X-Echo-Subject"), "[ spaced]")
    r.eq("WSP before the colon: three header fields, body intact",
         (info(res).get("hdrs"), info(res).get("body")), ("3", str(len(b"Hello.\r\n"))))
    r.ok("WSP before the colon: output keeps the field as written",
         b"\nDate\t: Sat, 21 Nov" in (res["output"] or b""), res["output"])
    res = run_miltc(m.socket, b"From: a@example.com\nSub ject: x\n\nHello.\n")
    r.eq("space inside a name: the body starts there",
         (info(res).get("hdrs"), info(res).get("body")),
         ("1", str(len(b"Sub ject: x\r\n\r\nHello.\r\n"))))

    res = run_miltc(m.socket, MSG, mail_from="spam@example.org")
    r.eq("reject: action", res["action"], "reject")
    r.eq("reject: reply", res["reply"], "550 5.7.1 sender rejected")
    r.eq("reject: step", res["step"], "mail")
    r.eq("reject: no mods", res["mods"], [])

    res = run_miltc(m.socket, MSG, rcpts=["ok@example.net", "later@example.net"])
    r.eq("tempfail at rcpt", (res["action"], res["step"], res["reply"]),
         ("tempfail", "rcpt", "451 4.7.1 try later"))

    res = run_miltc(m.socket, MSG, count=3)
    r.eq("--count 3: three results", len(res["messages"]), 3)
    r.eq("--count 3: one connection, messages numbered",
         [info(x).get("n") for x in res["messages"]], ["1", "2", "3"])
    r.ok("--count 3: each accepted",
         all(x["action"] == "accept" and x["step"] == "eom" for x in res["messages"]))

    res = run_miltc(m.socket, MSG, count=2, mail_from="spam@example.org")
    r.eq("--count after early reject: both rejected at mail",
         [(x["action"], x["step"]) for x in res["messages"]],
         [("reject", "mail"), ("reject", "mail")])

    body = b"".join(b"line %06d %s\n" % (i, b"x" * 60) for i in range(3500))
    res = run_miltc(m.socket, b"Subject: big\n\n" + body)
    i = info(res)
    r.ok("big body: > 200 KB sent", len(body) > 200 * 1024, len(body))
    r.eq("big body: every byte arrived (CRLF)", i.get("body"),
         str(len(body.replace(b"\n", b"\r\n"))))
    r.ok("big body: several chunks of at most 65535",
         int(i.get("chunks", 0)) >= 4 and int(i.get("maxchunk", 1 << 30)) <= 65535, i)


def test_leadspc(r):
    with echo("--leadspc") as m:
        res = run_miltc(m.socket, MSG, output=True)
        r.eq("leadspc: negotiated", res["protocol"] & SMFIP_HDR_LEADSPC,
             SMFIP_HDR_LEADSPC)
        r.eq("leadspc: value as written", added(res, "X-Echo-Subject"),
             "[  two spaces<LF>\tfolded]")
        r.ok("leadspc: added field written without a space",
             b"\nSubject:changed\n" in (res["output"] or b""), res["output"])


def test_nr_header(r):
    with echo("--nr-header", inet=True) as m:
        res = run_miltc(m.socket, MSG, count=2)
        r.eq("inet socket + no header replies: negotiated",
             res["protocol"] & SMFIP_NR_HDR, SMFIP_NR_HDR)
        r.eq("no header replies: results",
             [(x["action"], info(x).get("hdrs")) for x in res["messages"]],
             [("accept", "4"), ("accept", "4")])


class BadPeer:
    """A broken milter on a unix socket. It answers OPTNEG (or, with negotiate=False,
    sends reply to it), answers "continue" to every step before the command `at`,
    then sends reply to that one and closes; with reply None it says nothing and
    waits."""

    def __init__(self, reply, negotiate=True, at=b"C", keep=False):
        self.path = os.path.join(tmpdir(), "bad.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.reply = reply
        self.negotiate = negotiate
        self.at = at
        self.keep = keep        # go on after the reply; accept at end of message
        self.seen = []          # commands received
        threading.Thread(target=self.serve, daemon=True).start()

    def recv_packet(self, c):
        hdr = recv_exact(c, 4)
        return hdr and recv_exact(c, int.from_bytes(hdr, "big"))

    def serve(self):
        c, _ = self.sock.accept()
        try:
            self.recv_packet(c)
            if not self.negotiate:
                c.sendall(self.reply)
                return
            c.sendall((13).to_bytes(4, "big") + b"O" + (6).to_bytes(4, "big") +
                      (0x1FF).to_bytes(4, "big") + (0).to_bytes(4, "big"))
            while True:
                p = self.recv_packet(c)
                if p is None:
                    return
                cmd = p[:1]
                self.seen.append(cmd)
                if cmd in (b"D", b"A"):
                    continue
                if cmd == self.at and self.reply is not None and self.keep:
                    c.sendall(self.reply)
                    self.at = None
                    continue
                if cmd == self.at:
                    break
                c.sendall(pkt(b"a") if cmd == b"E" and self.keep else pkt(b"c"))
            if self.reply is None:
                c.recv(1 << 16)     # silent: let the client time out
            else:
                c.sendall(self.reply)
        except OSError:
            pass
        finally:
            c.close()


def pkt(cmd, data=b""):
    return (len(data) + 1).to_bytes(4, "big") + cmd + data


def test_errors(r):
    d = tmpdir()
    res = run_miltc("unix:%s/missing.sock" % d, MSG, check=False)
    r.eq("missing socket: exit 2", res["rc"], 2)
    r.ok("missing socket: says why", "missing.sock" in res["stderr"], res["stderr"])
    res = run_miltc("inet:%d@127.0.0.1" % harness.free_port(), MSG, check=False)
    r.eq("refused inet port: exit 2", res["rc"], 2)
    res = run_miltc("bogus", MSG, check=False)
    r.eq("bad socket spec: exit 2", res["rc"], 2)

    cases = [
        ("oversized packet length", b"\x7f\xff\xff\xffc", True, "out of range"),
        ("zero packet length", b"\x00\x00\x00\x00", True, "out of range"),
        ("unknown reply", b"\x00\x00\x00\x01Z", True, "unknown reply"),
        ("header action before eom", b"\x00\x00\x00\x05hA\x00B\x00", True, "only at eom"),
        ("reply code not terminated", b"\x00\x00\x00\x04y550", True, "NUL"),
        ("bad reply code", b"\x00\x00\x00\x05y2x0\x00", True, "bad reply code"),
        ("closed mid-packet", b"\x00\x00\x00\x09c", True, "closed"),
        ("silent milter times out", None, True, "timeout"),
        ("short negotiation", b"\x00\x00\x00\x05O\x00\x00\x00\x06", False, "12"),
        ("version 7 refused", b"\x00\x00\x00\x0dO\x00\x00\x00\x07" + b"\x00" * 8,
         False, "version"),
    ]
    eom = [
        ("insert without index", pkt(b"i", b"\x00\x01"), "without index"),
        ("header name not terminated", pkt(b"h", b"X-A"), "name"),
        ("header value not terminated", pkt(b"h", b"X-A\x00val"), "value"),
        ("empty header name", pkt(b"h", b"\x00v\x00"), "empty name"),
        ("quarantine not terminated", pkt(b"q", b"why"), "quarantine"),
        ("endless header actions", pkt(b"h", b"X-A\x00v\x00") * 10001, "more than"),
    ]
    for name, reply, why in eom:
        cases.append(("at eom, " + name, reply, True, why, b"E"))
    p = BadPeer(pkt(b"p") + pkt(b"h", b"X-A\x00v\\x\r\n\ty\x00") +
                pkt(b"m", b"\x00\x00\x00\x05Subject\x00new\x00") +
                pkt(b"y", b"550 5.7.1 no\x00"), at=b"E")
    res = run_miltc("unix:" + p.path, MSG, check=False, timeout=5, output=True)
    r.eq("hand-made milter, every step answered: result",
         (res["rc"], res["action"], res["step"], res["reply"], res["mods"]),
         (0, "reject", "eom", "550 5.7.1 no",
          [("add", None, "X-A", "v\\x\r\n\ty"), ("change", 5, "Subject", "new")]))
    out = res["output"] or b""
    r.ok("output: folded added value, change of a missing 5th Subject adds it",
         out.endswith(b"X-A: v\\x\n\ty\nSubject: new\n\nHello.\nSecond line.\n") and
         b"Subject:  two spaces" in out, out)
    p = BadPeer(pkt(b"s"), at=b"B", keep=True)
    big = b"Subject: skip\n\n" + b"y" * 200000
    res = run_miltc("unix:" + p.path, big, check=False, timeout=5)
    r.eq("SMFIR_SKIP: accepted", (res["rc"], res["action"]), (0, "accept"))
    r.eq("SMFIR_SKIP: one body chunk, then end of message",
         [x for x in p.seen if x in (b"B", b"E")], [b"B", b"E"])
    p = BadPeer(pkt(b"s"), at=b"M")
    res = run_miltc("unix:" + p.path, MSG, check=False, timeout=5)
    r.ok("SMFIR_SKIP outside body: exit 2", res["rc"] == 2 and "SKIP" in res["stderr"],
         (res["rc"], res["stderr"]))
    for case in cases:
        name, reply, neg, why = case[:4]
        p = BadPeer(reply, negotiate=neg, at=case[4] if len(case) > 4 else b"C")
        res = run_miltc("unix:" + p.path, MSG, check=False, timeout=1, run_timeout=20)
        r.ok("broken milter, %s: exit 2 naming it" % name,
             res["rc"] == 2 and why in res["stderr"], (res["rc"], res["stderr"]))


def main():
    r = Results()
    try:
        with echo("--reject-from", "spam@example.org",
                  "--tempfail-rcpt", "later@example.net") as m:
            r.run("basic cases", test_basic, r, m)
    except harness.MilterError as e:
        r.fail("start pymilter_echo", e)
    r.run("leadspc", test_leadspc, r)
    r.run("nr-header", test_nr_header, r)
    r.run("errors", test_errors, r)
    r.exit()


if __name__ == "__main__":
    main()
