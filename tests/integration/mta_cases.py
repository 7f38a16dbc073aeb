"""mta_cases - what the end-to-end MTA tests (test_postfix, test_sendmail) share.

    StandIn(reject_sender, inet)  fixtures/standin_milter.py under harness.Milter,
                                  its JSON event log read back by .events(kind)
    msg(frm, to, subject, extra)  a small test message; send(port, ...) sends one
    has_header(message, name, value)
    world(wd, inbound_ip, bad_ip) keys and a loopback DNS server for the daemon
    check_signed(t, name, data, dns)  our two signatures, verified by dkimpy
    delivered(got)                the first delivered message's body and its
                                  Authentication-Results fields
    standin_passes, outage, daemon_run, outbound_signed, inbound_pass: the steps
    both MTAs go through, each check named as the calling test names it
    main(root_check, *parts)      run the parts as root, exit as harness.Results does

An MTA object here is an mta.Postfix or mta.Sendmail (port, start, stop,
wait_queue_empty); smtp-sink is an mta.SmtpSink.
"""
import json
import os

import harness
import mta

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "fixtures", "standin_milter.py")
AUTHSERV_ID = "mx.test.example"
DATE = "Date: Sat, 21 Nov 2026 12:00:00 +0000\n"
FOLDED = "X-Folded: one\n two\n\tthree\n"


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


def msg(frm, to, subject, extra=""):
    """msg - a message from frm to to; extra: header lines to add"""
    return ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s@test.example>\n%s\n"
            "Body of %s.\n" % (frm, to, subject, subject.replace(" ", "-"), extra, subject))


def send(port, frm, to, subject, extra="", **kw):
    """send - msg(frm, to, subject, extra) over SMTP, MAIL FROM frm, RCPT TO to"""
    return mta.smtp_send(port, frm, [to], msg(frm, to, subject, extra), **kw)


def has_header(message, name, value=None):
    """has_header - message has a field name (with value, when given)"""
    for h in mta.header_lines(message):
        n, _, v = h.partition(":")
        if n.strip().lower() == name.lower() and (value is None or v.strip() == value):
            return True
    return False


def delivered(got):
    """delivered - (body of the first delivered message or b"", its A-R fields)"""
    body = mta.split_sink_file(got[0][1])[1] if got else b""
    return body, [h for h in mta.header_lines(body)
                  if h.lower().startswith("authentication-results:")]


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
    rsa = mta.make_dkim_key(keys, "example.com", "r2026", "rsa", keygen=harness.KEYGEN)
    ed = mta.make_dkim_key(keys, "example.com", "e2026", "ed25519", keygen=harness.KEYGEN)
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


def standin_passes(t, label, server, sink, standin, wait, how, folded_note="", log=None):
    """standin_passes - a message from 127.0.0.1 with a folded field: it passes the
    stand-in and reaches smtp-sink, and the milter saw the field with bare LF and its
    leading space stripped. log: more detail for a failure (the MTA's log)."""
    r = send(server.port, "alice@example.com", "bob@example.net", "out smtp", FOLDED)
    got = sink.new_messages(1, wait)
    t.ok("%s: %s passes the milter and reaches smtp-sink" % (label, how),
         r.accepted and got and has_header(got[0][1], "X-Stand-In", "1"),
         "%s\n%s" % (r, log() if log else got))
    folded = [e["value"] for e in standin.events("header") if e["name"] == "X-Folded"]
    t.ok("%s: a folded header value reaches the milter with bare LF and its leading "
         "space stripped%s" % (label, folded_note),
         folded == ["one\n two\n\tthree"], repr(folded))


def outage(t, server, sink, milter, wait, names, queue=None, flows=None, word="milter"):
    """outage - the milter stopped: a temporary failure, nothing delivered (nor queued,
    when queue is the MTA's (queue_empty, queue_listing)); restarted: mail flows again.

    names: (the failure's name, a format taking the SMTP result as r; the "nothing"
    check's name; the "flows" check's name). flows(got): what the delivered message
    must show, beyond arriving. word: the subjects' "WORD down", "WORD back".
    Returns what arrived after the restart."""
    milter.stop()
    sink.forget()
    r = send(server.port, "alice@example.com", "bob@example.net", word + " down")
    t.ok(names[0].format(r=r), 400 <= r.final.code < 500 and not r.accepted, r)
    t.ok(names[1], (queue is None or queue[0]()) and not sink.new_messages(1, 2),
         queue[1]() if queue else "")
    milter.start()
    r = send(server.port, "alice@example.com", "bob@example.net", word + " back")
    got = sink.new_messages(1, wait)
    t.ok(names[2], r.accepted and got and (flows is None or flows(got)), r)
    return got


def daemon_run(t, label, wd, make_server, cases, inet=False, detail=None, **world_kw):
    """daemon_run - the real authmilter in world(wd, **world_kw), an MTA made by
    make_server(milter socket, sink port), smtp-sink; cases(server, sink, milter, dns,
    foreign key, conf). An exception is one failed check; everything is stopped at
    the end. detail(server): more for that failure than the daemon's log."""
    dns, conf, foreign_key = world(wd, **world_kw)
    try:
        m = harness.Milter(conf, inet=inet)
    except harness.MilterError as e:
        t.fail("%s: daemon starts" % label, e)
        return
    sink = mta.SmtpSink(wd).start()
    server = make_server(m.socket, sink.port)
    try:
        server.start()
        cases(server, sink, m, dns, foreign_key, conf)
    except Exception as e:
        t.fail("%s: unexpected %s: %s" % (label, type(e).__name__, e),
               m.log_tail(10) + ("\n" + detail(server) if detail else ""))
    finally:
        server.stop()
        sink.stop()
        m.stop()
        dns.cleanup()


def outbound_signed(t, label, server, sink, dns, wait, names, extra=""):
    """outbound_signed - alice@example.com from 127.0.0.1 is accepted, arrives and
    carries both our signatures; names: (accepted check, signed check)."""
    r = send(server.port, "alice@example.com", "bob@example.net", "outbound smtp",
             DATE + extra)
    got = sink.new_messages(1, wait)
    t.ok("%s: %s" % (label, names[0]), r.accepted and got, r)
    if got:
        check_signed(t, "%s: %s" % (label, names[1]), got[0][1], dns)


def main(root_check, *parts):
    """main - each part(t) in turn, as root (else root_check fails); exits"""
    t = harness.Results()
    if os.geteuid() != 0:
        t.fail(root_check)
        t.exit()
    for part in parts:
        part(t)
    t.exit()


def inbound_pass(server, sink, foreign_key, wait, **kw):
    """inbound_pass - dave@example.org's message signed by dkimpy for example.org,
    carrying a forged A-R with our authserv-id, sent as kw says (xclient, source);
    (SMTP result, delivered files, body, its A-R fields)."""
    text = msg("dave@example.org", "user@example.com", "inbound pass",
               DATE + "Authentication-Results: %s; dmarc=pass header.from=example.org\n"
               % AUTHSERV_ID)
    signed = mta.dkim_sign(text, foreign_key, "example.org", "sel")
    r = mta.smtp_send(server.port, "dave@example.org", ["user@example.com"], signed,
                      helo="mail.example.org", **kw)
    got = sink.new_messages(1, wait)
    return (r, got) + delivered(got)
