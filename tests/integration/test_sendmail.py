#!/usr/bin/python3
"""test_sendmail.py - a private, real Sendmail with a milter, end to end (needs root).

Sendmail conflicts with Postfix as a Debian package, so mta.Sendmail runs the
binary unpacked from `apt-get download sendmail-bin sendmail-cf` (cached in
$AUTHMILTER_SENDMAIL_CACHE), with a .cf built by m4 from sendmail-cf.

Part 1 (plumbing): the STAND-IN milter (fixtures/standin_milter.py) on a unix
socket; records how Sendmail differs from Postfix on the milter protocol.
Part 2 (authmilter): the real daemon (daemon_cases).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import mta_cases  # noqa: E402
from mta_cases import (AUTHSERV_ID, FOLDED, StandIn, daemon_run, has_header,  # noqa: E402
                       inbound_pass, outage, outbound_signed, send, standin_passes)


def plumbing(t):
    """plumbing - Sendmail + stand-in milter."""
    wd = mta.make_workdir("/tmp/authmilter-sendmail-")
    standin = StandIn("spoof@reject.example", inet=False).start()
    sink = mta.SmtpSink(wd).start()
    sm = mta.Sendmail(wd, standin.socket, sink.port)
    try:
        try:
            sm.start()
        except Exception as e:
            t.fail("sendmail (stand-in): private instance starts", e)
            return
        t.ok("sendmail (stand-in): private instance (apt-get download + dpkg -x, m4 .cf) starts",
             True)
        standin_passes(t, "sendmail (stand-in)", sm, sink, standin, 30, "SMTP from 127.0.0.1",
                       " (as from Postfix)", log=lambda: sm.traffic_log()[-1500:])
        envfrom = standin.events("envfrom")
        t.ok("sendmail (stand-in): {i} is set already at MAIL FROM (Postfix: from end of headers)",
             envfrom and envfrom[-1]["macros"].get("i"), envfrom[-1:] if envfrom else "none")
        conns = standin.events("connect")
        t.ok("sendmail (stand-in): {daemon_name} is the DAEMON_OPTIONS Name= (MTA), "
             "not the host name",
             conns and conns[-1]["macros"].get("{daemon_name}") == "MTA", conns[-1:])

        r = send(sm.port, "dave@example.org", "user@example.com", "in 127.0.0.2",
                 helo="mail.example.org", source="127.0.0.2")
        got = sink.new_messages(1, 30)
        conns = [e for e in standin.events("connect") if "'127.0.0.2'" in e["hostaddr"]]
        t.ok("sendmail (stand-in): client bound to 127.0.0.2 reaches the milter as "
             "[127.0.0.2] (no PTR: hostname is the bracketed address)",
             r.accepted and got and conns and conns[-1]["hostname"] == "[127.0.0.2]",
             "%s %s" % (r, conns[-1:]))

        r = send(sm.port, "spoof@reject.example", "user@example.com", "spoof",
                 helo="mail.example.org", source="127.0.0.2")
        t.ok("sendmail (stand-in): milter reject at MAIL FROM gives the client 550 5.7.1 "
             "with the milter's text",
             r.final.stage == "mail" and r.final.code == 550 and
             "5.7.1" in r.final.text and "stand-in rejects this sender" in r.final.text, r)

        outage(t, sm, sink, standin, 30, (
            "sendmail (stand-in): milter down with F=T -> temporary failure: "
            "{r.final.code} {r.final.text}",
            "sendmail (stand-in): milter down -> nothing delivered",
            "sendmail (stand-in): milter restarted -> mail flows again"),
            flows=lambda got: has_header(got[0][1], "X-Stand-In", "1"))
        t.ok("sendmail (stand-in): queue empty at the end", sm.wait_queue_empty(20),
             sm.queue_files())
    finally:
        sm.stop()
        sink.stop()
        standin.stop()


def daemon_cases(t):
    """daemon_cases - Sendmail with the real authmilter on a unix socket.

    internal_hosts is 127.0.0.1/32 only, so a client bound to 127.0.0.2 is inbound;
    the DNS server gives 127.0.0.2 a PTR to mail.example.org and example.org an SPF
    record allowing it.
    """
    wd = mta.make_workdir("/tmp/authmilter-sendmail-")
    daemon_run(t, "sendmail (authmilter)", wd,
               lambda sock, port: mta.Sendmail(wd, sock, port),
               lambda *a: sendmail_cases(t, *a), detail=lambda sm: sm.stderr(),
               inbound_ip="127.0.0.2")


def sendmail_cases(t, sm, sink, m, dns, foreign_key, conf):
    """sendmail_cases - the daemon cases, with Sendmail started"""
    outbound_signed(t, "sendmail (authmilter)", sm, sink, dns, 30, (
        "outbound from 127.0.0.1 accepted", "outbound carries rsa-sha256 and "
        "ed25519-sha256 signatures that dkimpy verifies"), extra=FOLDED)
    t.ok("sendmail (authmilter): daemon logs the outbound signing with Sendmail's queue id",
         m.wait_log(r"^authmilter: \w+: outbound .*dkim-sign=example\.com/r2026", 5),
         m.log_tail(5))

    r = send(sm.port, "service@paypal.example", "user@example.com", "spoof",
             helo="mail.example.org", source="127.0.0.2")
    t.ok("sendmail (authmilter): inbound spoof of p=reject domain from 127.0.0.2 -> %s"
         % r.final, r.final.code == 550 and "5.7.1" in r.final.text and
         "DMARC" in r.final.text, r)
    t.ok("sendmail (authmilter): daemon logs dmarc=fail action=reject",
         m.wait_log(r"inbound .*127\.0\.0\.2.*dmarc=fail .*action=reject", 5),
         m.log_tail(5))
    sink.forget()

    # inbound, signed by dkimpy (which folds its DKIM-Signature header)
    r, got, body, ars = inbound_pass(sm, sink, foreign_key, 30, source="127.0.0.2")
    t.ok("sendmail (authmilter): inbound from 127.0.0.2 accepted", r.accepted and got, r)
    ar = ars[0] if ars else ""
    t.ok("sendmail (authmilter): folded DKIM-Signature from dkimpy verifies through "
         "Sendmail (dkim=pass header.d=example.org)",
         "dkim=pass" in ar and "header.d=example.org" in ar, ar)
    t.ok("sendmail (authmilter): inbound A-R says iprev=pass spf=pass dmarc=pass",
         all(x in ar for x in ("iprev=pass", "spf=pass", "dmarc=pass")), ar)
    t.ok("sendmail (authmilter): forged A-R removed, ours first (exactly one A-R)",
         len(ars) == 1 and AUTHSERV_ID in ar, ars)
    top = mta.added_headers(body)
    t.ok("sendmail (authmilter): our A-R sits above Sendmail's Received",
         top and top[0].lower().startswith("authentication-results:"), top)
    t.ok("sendmail (authmilter): queue empty at the end", sm.wait_queue_empty(20),
         sm.queue_files())


if __name__ == "__main__":
    mta_cases.main("sendmail: this test needs root", plumbing, daemon_cases)
