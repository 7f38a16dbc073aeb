#!/usr/bin/python3
"""test_postfix.py - a private, real Postfix with a milter, end to end (needs root).

Part 1 (plumbing): Postfix with the STAND-IN milter (fixtures/standin_milter.py),
proving the MTA side on its own: SMTP and local `sendmail -C` submission reach the
milter, XCLIENT gives a session a foreign client address, a milter 550 reaches the
client, a dead milter gives 451 (milter_default_action = tempfail) and loses nothing.

Part 2 (authmilter): the same Postfix with the real daemon (daemon_cases).
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402

import harness  # noqa: E402

STANDIN = os.path.join(HERE, "fixtures", "standin_milter.py")
FOREIGN_XCLIENT = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"


class StandIn:
    """StandIn - fixtures/standin_milter.py run by harness.Milter; reads back its JSON log."""

    def __init__(self, reject_sender, inet=True):
        self.reject_sender = reject_sender
        self.inet = inet
        self.m = None
        self.logfile = None

    def start(self):
        """start - (re)start the stand-in; the log file survives restarts."""
        if self.m is None:
            self.m = harness.Milter(inet=self.inet, command=[
                "/usr/bin/python3", STANDIN, "{socket}", "{dir}/standin.log",
                self.reject_sender])
            self.logfile = os.path.join(self.m.dir, "standin.log")
        else:
            self.m.start()
        return self

    @property
    def socket(self):
        return self.m.socket

    def stop(self):
        if self.m is not None:
            self.m.stop()

    def events(self, kind=None):
        try:
            with open(self.logfile) as f:
                recs = [json.loads(line) for line in f if line.strip()]
        except (OSError, TypeError):
            return []
        return [r for r in recs if kind is None or r["event"] == kind]


def postfix_socket(spec):
    """postfix_socket - libmilter's inet:PORT@HOST as Postfix writes it (inet:HOST:PORT)."""
    if spec.startswith("inet:"):
        port, host = spec[5:].split("@")
        return "inet:%s:%s" % (host, port)
    return spec


def msg(frm, to, subject, extra=""):
    return ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s@test.example>\n%s\n"
            "Body of %s.\n" % (frm, to, subject, subject.replace(" ", "-"), extra, subject))


def has_header(message, name, value=None):
    for h in mta.header_lines(message):
        n, _, v = h.partition(":")
        if n.strip().lower() == name.lower() and (value is None or v.strip() == value):
            return True
    return False


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
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "out smtp",
                              "X-Folded: one\n two\n\tthree\n"))
        got = sink.new_messages(1, 20)
        t.ok("postfix (stand-in): SMTP submission passes the milter and reaches smtp-sink",
             r.accepted and got and has_header(got[0][1], "X-Stand-In", "1"),
             "%s\n%s" % (r, got))
        folded = [e["value"] for e in standin.events("header") if e["name"] == "X-Folded"]
        t.ok("postfix (stand-in): a folded header value reaches the milter with bare LF "
                "and its leading space stripped",
             folded == ["one\n two\n\tthree"],
             repr(folded))

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
        standin.stop()
        sink.forget()
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "milter down"))
        t.ok("postfix (stand-in): milter down -> temporary failure "
                "(milter_default_action = tempfail): %d %s" % (r.final.code, r.final.text),
             400 <= r.final.code < 500 and not r.accepted,
             r)
        t.ok("postfix (stand-in): milter down -> nothing queued, nothing delivered",
             pf.queue_empty() and not sink.new_messages(1, 2),
             pf.queue_listing())
        standin.start()
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "milter back"))
        got = sink.new_messages(1, 20)
        t.ok("postfix (stand-in): milter restarted -> mail flows again",
             r.accepted and got and has_header(got[0][1], "X-Stand-In", "1"),
             r)
        t.ok("postfix (stand-in): queue empty at the end",
             pf.wait_queue_empty(20),
             pf.queue_listing())
    finally:
        pf.stop()
        sink.stop()
        standin.stop()


AUTHSERV_ID = "mx.test.example"
INBOUND = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"
BAD_PTR = "ADDR=192.0.2.66 NAME=ghost.example.org HELO=ghost.example.org"


def world(wd, inbound_ip="192.0.2.10", bad_ip="192.0.2.66"):
    """world - keys and a loopback DNS server for the daemon cases.

    example.com: our domain (keys rsa + ed25519 by authmilter-keygen, p=reject);
    example.org: a foreign domain that signs with dkimpy, SPF allows inbound_ip;
    paypal.example: p=reject, SPF excludes everyone we use (the spoof);
    bad_ip: PTR to ghost.example.org, which has no address (iprev fail).
    Returns (dns, conf dict, foreign key file).
    """
    import dnsserver as D
    keys = os.path.join(wd, "keys")
    keygen = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")
    rsa = mta.make_dkim_key(keys, "example.com", "r2026", "rsa", keygen=keygen)
    ed = mta.make_dkim_key(keys, "example.com", "e2026", "ed25519", keygen=keygen)
    foreign = mta.make_dkim_key(keys, "example.org", "sel", "rsa")
    recs = [D.txt(rsa[1], rsa[2]), D.txt(ed[1], ed[2]), D.txt(foreign[1], foreign[2]),
            D.txt("example.com", "v=spf1 ip4:127.0.0.0/8 -all"),
            D.txt("_dmarc.example.com", "v=DMARC1; p=reject"),
            D.a("mail.example.org", inbound_ip),
            D.txt("example.org", "v=spf1 ip4:%s -all" % inbound_ip),
            D.txt("_dmarc.example.org", "v=DMARC1; p=reject"),
            D.txt("paypal.example", "v=spf1 ip4:198.51.100.1 -all"),
            D.txt("_dmarc.paypal.example", "v=DMARC1; p=reject"),
            # issue 11: the attacker's names, SPF published for the inbound client
            D.txt("paypal.example.evil.example", "v=spf1 ip4:%s -all" % inbound_ip),
            D.txt("evil.example", "v=spf1 ip4:%s -all" % inbound_ip),
            # issue 13: RFC 9989 records
            D.txt("solo.example", "v=spf1 ip4:%s -all" % inbound_ip),
            D.txt("_dmarc.mail.solo.example", "v=DMARC1; p=reject"),
            D.txt("_dmarc.pct.example", "v=DMARC1; p=reject; pct=0"),
            D.a("x.branch.big.example", "192.0.2.1"),
            D.txt("_dmarc.branch.big.example", "v=DMARC1; p=none; psd=n"),
            D.txt("_dmarc.big.example", "v=DMARC1; p=reject; sp=reject")]
    dns = D.DNSServer(recs, ptrs=[(inbound_ip, "mail.example.org"),
                                  (bad_ip, "ghost.example.org")])
    conf = {"authserv_id": AUTHSERV_ID, "internal_hosts": ["127.0.0.1/32"],
            "dns": {"nameservers": [dns.address], "timeout": 3},
            "dkim": {'key "example.com-rsa"': {"domain": "example.com",
                                               "selector": "r2026", "file": rsa[0]},
                     'key "example.com-ed25519"': {"domain": "example.com",
                                                   "selector": "e2026", "file": ed[0]}}}
    return dns, conf, foreign[0]


def check_signed(t, name, data, dns):
    """check_signed - both our signatures present and verified by dkimpy."""
    body = mta.split_sink_file(data)[1]
    sigs = mta.dkim_verify_all(body, dns.port)
    want = {("example.com", "r2026", "rsa-sha256", True),
            ("example.com", "e2026", "ed25519-sha256", True)}
    t.ok(name, want <= set(sigs), "signatures %r" % sigs)


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
    body = mta.split_sink_file(got[0][1])[1] if got else b""
    ars = [h for h in mta.header_lines(body)
           if h.lower().startswith("authentication-results:")]
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
    body = mta.split_sink_file(got[0][1])[1] if got else b""
    ars = [h for h in mta.header_lines(body)
           if h.lower().startswith("authentication-results:")]
    ar = " ".join(ars[0].split()) if ars else ""
    t.ok("postfix (authmilter): A-R dmarc=fail names the policy domain, policy.dmarc=none",
         "dmarc=fail (p=none dis=none policy.domain=branch.big.example)" in ar and
         "policy.dmarc=none" in ar, ar)
    sink.forget()


def daemon_cases(t):
    """daemon_cases - Postfix with the real authmilter."""
    wd = mta.make_workdir("/tmp/authmilter-postfix-")
    dns, conf, foreign_key = world(wd)
    try:
        m = harness.Milter(conf, inet=True)
    except harness.MilterError as e:
        t.fail("postfix (authmilter): daemon starts", e)
        return
    sink = mta.SmtpSink(wd).start()
    pf = mta.Postfix(wd, postfix_socket(m.socket), sink.port)
    try:
        pf.start()
        # outbound over SMTP from 127.0.0.1 (internal_hosts)
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "outbound smtp",
                              "Date: Sat, 21 Nov 2026 12:00:00 +0000\n"))
        got = sink.new_messages(1, 20)
        t.ok("postfix (authmilter): outbound SMTP accepted", r.accepted and got, r)
        if got:
            check_signed(t, "postfix (authmilter): outbound SMTP carries rsa-sha256 and "
                         "ed25519-sha256 signatures that dkimpy verifies", got[0][1], dns)
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
        r = mta.smtp_send(pf.port, "service@paypal.example", ["user@example.com"],
                          msg("service@paypal.example", "user@example.com", "spoof"),
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
        text = msg("dave@example.org", "user@example.com", "inbound pass",
                   "Date: Sat, 21 Nov 2026 12:00:00 +0000\n"
                   "Authentication-Results: %s; dmarc=pass header.from=example.org\n"
                   % AUTHSERV_ID)
        signed = mta.dkim_sign(text, foreign_key, "example.org", "sel")
        r = mta.smtp_send(pf.port, "dave@example.org", ["user@example.com"], signed,
                          helo="mail.example.org", xclient=INBOUND)
        got = sink.new_messages(1, 20)
        t.ok("postfix (authmilter): inbound signed by example.org accepted", r.accepted and got, r)
        body = mta.split_sink_file(got[0][1])[1] if got else b""
        top = mta.added_headers(body)
        ars = [h for h in mta.header_lines(body)
               if h.lower().startswith("authentication-results:")]
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
        m.stop()
        sink.forget()
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "daemon down"))
        t.ok("postfix (authmilter): daemon stopped -> %s" % r.final,
             400 <= r.final.code < 500 and not r.accepted, r)
        t.ok("postfix (authmilter): daemon stopped -> nothing queued, nothing delivered",
             pf.queue_empty() and not sink.new_messages(1, 2), pf.queue_listing())
        m.start()
        r = mta.smtp_send(pf.port, "alice@example.com", ["bob@example.net"],
                          msg("alice@example.com", "bob@example.net", "daemon back"))
        got = sink.new_messages(1, 20)
        t.ok("postfix (authmilter): daemon restarted -> mail flows again", r.accepted and got, r)
        if got:
            check_signed(t, "postfix (authmilter): after restart still signed", got[0][1], dns)
        t.ok("postfix (authmilter): queue empty at the end", pf.wait_queue_empty(20),
             pf.queue_listing())
    except Exception as e:
        t.fail("postfix (authmilter): unexpected %s: %s" % (type(e).__name__, e),
               m.log_tail(10))
    finally:
        pf.stop()
        sink.stop()
        m.stop()
        dns.cleanup()


def main():
    t = harness.Results()
    if os.geteuid() != 0:
        t.ok("postfix: this test needs root (Postfix starts as root)",
             False)
        t.exit()
    plumbing(t)
    daemon_cases(t)
    t.exit()


if __name__ == "__main__":
    main()
