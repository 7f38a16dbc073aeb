#!/usr/bin/python3
"""test_postfix.py - a private, real Postfix with a milter, end to end (needs root).

Part 1 (plumbing): Postfix with the STAND-IN milter (fixtures/standin_milter.py),
proving the MTA side on its own: SMTP and local `sendmail -C` submission reach the
milter, XCLIENT gives a session a foreign client address, a milter 550 reaches the
client, a dead milter gives 451 (milter_default_action = tempfail) and loses nothing.

Part 2 (authmilter): the same Postfix with the real daemon (daemon_cases).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402

import harness  # noqa: E402
import mta_cases  # noqa: E402
from mta_cases import (AUTHSERV_ID, StandIn, check_signed, daemon_run,  # noqa: E402
                       delivered, has_header, inbound_pass, msg, outage, outbound_signed,
                       send, standin_passes)

FOREIGN_XCLIENT = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"


def postfix_socket(spec):
    """postfix_socket - libmilter's inet:PORT@HOST as Postfix writes it (inet:HOST:PORT)."""
    if spec.startswith("inet:"):
        port, host = spec[5:].split("@")
        return "inet:%s:%s" % (host, port)
    return spec


def plumbing(t):
    """plumbing - Postfix + stand-in milter: every path the real daemon will use."""
    wd = mta.make_workdir("/tmp/authmilter-postfix-")
    standin = StandIn("spoof@reject.example").start()
    sink = mta.SmtpSink(wd)
    pf = mta.Postfix(wd, postfix_socket(standin.socket), sink.port)
    try:
        sink.start()
        try:
            pf.start()
            started = True
        except RuntimeError as e:
            started = False
            t.ok("postfix (stand-in): private instance starts",
             False,
             e)
            return
        t.ok("postfix (stand-in): private instance passes `postfix check` and starts",
             started)

        # outbound over SMTP from 127.0.0.1 (mynetworks)
        standin_passes(t, "postfix (stand-in)", pf, sink, standin, 20, "SMTP submission")

        # local submission: sendmail -C DIR -> pickup -> cleanup (non_smtpd_milters)
        rc, out = pf.sendmail(msg("alice@example.com", "carol@example.net", "out local"),
                              "alice@example.com", ["carol@example.net"])
        got = sink.new_messages(1, 20)
        t.ok("postfix (stand-in): local `sendmail -C` submission passes the milter",
             rc == 0 and got and has_header(got[0][1], "X-Stand-In", "1"),
             "rc=%d %s\n%s" % (rc, out, pf.maillog()[-2000:]))

        # inbound: XCLIENT makes the session come from 192.0.2.10
        r = mta.smtp_send(pf.port, "dave@example.org", ["user@example.com"],
                          msg("dave@example.org", "user@example.com", "in xclient"),
                          helo="mail.example.org", xclient=FOREIGN_XCLIENT)
        got = sink.new_messages(1, 20)
        conns = [e for e in standin.events("connect") if e["hostaddr"].startswith("('192.0.2.10'")]
        t.ok("postfix (stand-in): XCLIENT gives the milter client 192.0.2.10 "
                "mail.example.org (connect callback re-run)",
             r.accepted and got and conns and conns[-1]["hostname"] == "mail.example.org",
             "%s\n%s" % (r, conns))
        env = mta.split_sink_file(got[0][1])[0] if got else {}
        t.ok("postfix (stand-in): inbound mail for a relay_domains recipient is delivered",
             env.get("x-rcpt-args", [""])[0].startswith("<user@example.com>"),
             env)

        # a milter 550 reaches the client and the maillog
        r = mta.smtp_send(pf.port, "spoof@reject.example", ["user@example.com"],
                          msg("spoof@reject.example", "user@example.com", "spoof"),
                          helo="mail.example.org", xclient=FOREIGN_XCLIENT)
        t.ok("postfix (stand-in): milter reject at MAIL FROM gives the client 550 5.7.1 "
                "with the milter's text",
             r.final.stage == "mail" and r.final.code == 550 and
                "5.7.1 stand-in rejects this sender" in r.final.text,
             r)
        t.ok("postfix (stand-in): maillog records the milter-reject",
             "milter-reject: MAIL from mail.example.org[192.0.2.10]: 550 5.7.1"
                in pf.maillog(),
             pf.maillog()[-1500:])

        # milter gone: 451, nothing queued or delivered, then restart
        outage(t, pf, sink, standin, 20, (
            "postfix (stand-in): milter down -> temporary failure "
            "(milter_default_action = tempfail): {r.final.code} {r.final.text}",
            "postfix (stand-in): milter down -> nothing queued, nothing delivered",
            "postfix (stand-in): milter restarted -> mail flows again"),
            queue=(pf.queue_empty, pf.queue_listing),
            flows=lambda got: has_header(got[0][1], "X-Stand-In", "1"))
        t.ok("postfix (stand-in): queue empty at the end",
             pf.wait_queue_empty(20),
             pf.queue_listing())
    finally:
        pf.stop()
        sink.stop()
        standin.stop()


INBOUND = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"
BAD_PTR = "ADDR=192.0.2.66 NAME=ghost.example.org HELO=ghost.example.org"


def spoof_cases(t, pf, sink, m):
    """spoof_cases - issue 11's findings 1 and 2, proven through Postfix before the fix."""
    # 1: a MAIL FROM whose first 511 bytes end in "@paypal.example"
    sender = "a" * 496 + "@paypal.example.evil.example"
    r = mta.smtp_send(pf.port, sender, ["user@example.com"],
                      msg("service@paypal.example", "user@example.com", "long sender"),
                      helo="mail.example.org", xclient=INBOUND)
    t.ok("postfix (authmilter): spoof of p=reject through a 525-byte MAIL FROM -> %s"
         % r.final, r.final.code == 550 and "DMARC" in r.final.text, r)
    t.ok("postfix (authmilter): daemon logs spf=pass for the long sender, dmarc=fail",
         m.wait_log(r"spf=pass .*dmarc=fail header\.from=paypal\.example.*action=reject",
                    5), m.log_tail(3))
    sink.forget()

    # 2: a forged A-R after 10,000 header fields reaches nobody
    forged = "Authentication-Results: %s; dmarc=pass header.from=paypal.example\n" % AUTHSERV_ID
    fill = "".join("X-Fill-%d: v\n" % i for i in range(10000))
    r = mta.smtp_send(pf.port, "a@evil.example", ["user@example.com"],
                      msg("a@evil.example", "user@example.com", "past the cap",
                          fill + forged),
                      helo="mail.example.org", xclient=INBOUND)
    got = sink.new_messages(1, 30)
    t.ok("postfix (authmilter): message with 10,000 fields and a forged A-R accepted",
         r.accepted and got, r)
    ars = delivered(got)[1]
    t.ok("postfix (authmilter): the forged A-R after 10,000 fields is deleted "
         "(only ours delivered)", len(ars) == 1 and "dmarc=pass" not in ars[0], ars)
    sink.forget()


def rfc9989_cases(t, pf, sink, m):
    """rfc9989_cases - issue 13: verdicts that RFC 9989 changed, through Postfix."""
    # a record only at mail.solo.example; SPF passes for solo.example: the two
    # walks find different organizational domains, so SPF does not align
    r = mta.smtp_send(pf.port, "x@solo.example", ["user@example.com"],
                      msg("a@mail.solo.example", "user@example.com", "solo"),
                      helo="mail.example.org", xclient=INBOUND)
    t.ok("postfix (authmilter): RFC 9989 org domains: SPF solo.example does not align "
         "with mail.solo.example -> %s" % r.final,
         r.final.code == 550 and "DMARC" in r.final.text, r)
    t.ok("postfix (authmilter): daemon logs discovery=treewalk, the policy domain",
         m.wait_log(r"spf=pass smtp\.mailfrom=solo\.example.*dmarc=fail "
                    r"header\.from=mail\.solo\.example discovery=treewalk "
                    r"policy\.domain=mail\.solo\.example", 5), m.log_tail(3))
    # pct=0 no longer samples
    r = mta.smtp_send(pf.port, "x@evil.example", ["user@example.com"],
                      msg("a@pct.example", "user@example.com", "pct"),
                      helo="mail.example.org", xclient=INBOUND)
    t.ok("postfix (authmilter): p=reject; pct=0 rejects (pct is gone) -> %s" % r.final,
         r.final.code == 550, r)
    # psd=n: branch.big.example's own p=none, not big.example's sp=reject
    r = mta.smtp_send(pf.port, "x@evil.example", ["user@example.com"],
                      msg("a@x.branch.big.example", "user@example.com", "psd"),
                      helo="mail.example.org", xclient=INBOUND)
    got = sink.new_messages(1, 20)
    t.ok("postfix (authmilter): psd=n makes branch.big.example's p=none apply -> %s"
         % r.final, r.accepted and got, r)
    ars = delivered(got)[1]
    ar = " ".join(ars[0].split()) if ars else ""
    t.ok("postfix (authmilter): A-R dmarc=fail names the policy domain, policy.dmarc=none",
         "dmarc=fail (p=none dis=none policy.domain=branch.big.example)" in ar and
         "policy.dmarc=none" in ar, ar)
    sink.forget()


def daemon_cases(t):
    """daemon_cases - Postfix with the real authmilter."""
    wd = mta.make_workdir("/tmp/authmilter-postfix-")
    daemon_run(t, "postfix (authmilter)", wd,
               lambda sock, port: mta.Postfix(wd, postfix_socket(sock), port),
               lambda *a: postfix_cases(t, *a), inet=True)


def postfix_cases(t, pf, sink, m, dns, foreign_key, conf):
    """postfix_cases - the daemon cases, with Postfix started"""
    # outbound over SMTP from 127.0.0.1 (internal_hosts)
    outbound_signed(t, "postfix (authmilter)", pf, sink, dns, 20, (
        "outbound SMTP accepted", "outbound SMTP carries rsa-sha256 and "
        "ed25519-sha256 signatures that dkimpy verifies"))
    t.ok("postfix (authmilter): daemon logs the outbound signing",
         m.wait_log(r"outbound .*dkim-sign=example\.com/r2026/rsa-sha256,"
                    r"example\.com/e2026/ed25519-sha256 action=accept", 5),
         m.log_tail(5))

    # outbound through local sendmail -C (non_smtpd_milters)
    rc, out = pf.sendmail(msg("alice@example.com", "carol@example.net", "outbound local"),
                          "alice@example.com", ["carol@example.net"])
    got = sink.new_messages(1, 20)
    t.ok("postfix (authmilter): local `sendmail -C` submission accepted",
         rc == 0 and got, out)
    if got:
        check_signed(t, "postfix (authmilter): local submission signed too (rsa + ed25519, "
                     "dkimpy verifies)", got[0][1], dns)

    # inbound spoof of a p=reject domain
    r = send(pf.port, "service@paypal.example", "user@example.com", "spoof",
             helo="mail.example.org", xclient=INBOUND)
    t.ok("postfix (authmilter): inbound spoof of p=reject domain -> %s" % r.final,
         r.final.code == 550 and r.final.text.startswith("5.7.1") and
         "DMARC" in r.final.text, r)
    t.ok("postfix (authmilter): maillog records the milter-reject",
         "milter-reject: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 5.7.1"
         in pf.maillog(), pf.maillog()[-800:])
    t.ok("postfix (authmilter): daemon logs dmarc=fail action=reject",
         m.wait_log(r"inbound client=mail\.example\.org\[192\.0\.2\.10\].*dmarc=fail "
                    r"header\.from=paypal\.example.*action=reject", 5), m.log_tail(5))
    sink.forget()

    spoof_cases(t, pf, sink, m)
    rfc9989_cases(t, pf, sink, m)

    # inbound that passes, carrying a forged A-R with our authserv-id
    r, got, body, ars = inbound_pass(pf, sink, foreign_key, 20, xclient=INBOUND)
    t.ok("postfix (authmilter): inbound signed by example.org accepted", r.accepted and got, r)
    top = mta.added_headers(body)
    t.ok("postfix (authmilter): our Authentication-Results is the first header "
         "(above Postfix's Received)",
         top and top[0].lower().startswith("authentication-results:") and
         AUTHSERV_ID in top[0], top)
    ar = ars[0] if ars else ""
    t.ok("postfix (authmilter): A-R says iprev=pass spf=pass dkim=pass dmarc=pass",
         all(x in ar for x in ("iprev=pass", "spf=pass", "dkim=pass", "dmarc=pass",
                               "header.d=example.org")), ar)
    t.ok("postfix (authmilter): the forged A-R with our authserv-id is removed "
         "(exactly one A-R delivered)", len(ars) == 1, ars)
    t.ok("postfix (authmilter): added headers have a space after the colon",
         all(h.split(":", 1)[1][:1] in (" ", "\t") for h in top), top)

    # iprev fail with on_fail = reject (reload with a new config)
    conf2 = dict(conf)
    conf2["iprev"] = {"on_fail": "reject"}
    m.write_config(harness._merge({"socket": m.socket, "user": "",
                                   "log": {"stderr": True, "level": "debug"}}, conf2))
    m.reload()
    time.sleep(1)
    t.ok("postfix (authmilter): SIGUSR1 reload keeps the daemon running",
         m.running(), "exit status %s; %s" % (m.proc.returncode, m.log_tail(3)))
    if not m.running():      # restart with the new config so the iprev case still runs
        m.stop()
        m.start()
    r = mta.smtp_send(pf.port, "x@example.org", ["user@example.com"],
                      msg("x@example.org", "user@example.com", "bad ptr"),
                      helo="ghost.example.org", xclient=BAD_PTR)
    # Postfix answers a milter's connect-time reject with its own "554 <host> ESMTP
    # not accepting connections" (here to XCLIENT, which re-runs the connect
    # callback); the milter's 550 5.7.25 text goes to the maillog only.
    t.ok("postfix (authmilter): iprev fail with on_fail=reject -> %s" % r.final,
         r.final.code in (550, 554) and r.final.stage in ("connect", "xclient", "ehlo",
                                                           "mail"), r)
    # postlogd writes the maillog after the reply has gone out: wait for it
    t.ok("postfix (authmilter): maillog shows the milter's 5.7.25 for 192.0.2.66",
         mta.wait_for(lambda: any("192.0.2.66" in line and "5.7.25" in line
                                  for line in pf.maillog().splitlines()), 10),
         [x for x in pf.maillog().splitlines() if "192.0.2.66" in x])
    t.ok("postfix (authmilter): daemon logs iprev=fail",
         m.wait_log(r"192\.0\.2\.66.*iprev=fail", 5), m.log_tail(5))

    # authmilter stopped: 451, nothing lost; restarted: flows again
    got = outage(t, pf, sink, m, 20, (
        "postfix (authmilter): daemon stopped -> {r.final}",
        "postfix (authmilter): daemon stopped -> nothing queued, nothing delivered",
        "postfix (authmilter): daemon restarted -> mail flows again"),
        queue=(pf.queue_empty, pf.queue_listing), word="daemon")
    if got:
        check_signed(t, "postfix (authmilter): after restart still signed", got[0][1], dns)
    t.ok("postfix (authmilter): queue empty at the end", pf.wait_queue_empty(20),
         pf.queue_listing())


if __name__ == "__main__":
    mta_cases.main("postfix: this test needs root (Postfix starts as root)",
                   plumbing, daemon_cases)
