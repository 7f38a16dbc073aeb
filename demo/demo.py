#!/usr/bin/python3
"""demo.py - authmilter end to end with a real Postfix, on this machine only.

Run through demo/run-demo (which installs packages and builds first), as root:
    sudo demo/run-demo

What it does, with nothing sent off the machine:
  1. makes DKIM keys for example.com with authmilter-keygen (RSA and Ed25519);
  2. starts a private unbound on 127.0.0.1 serving the example zone: DKIM keys,
     SPF, DMARC (p=reject for example.com, example.org and paypal.example),
     PTR/A for the "inbound" clients 192.0.2.10 (good) and 192.0.2.66 (broken PTR);
  3. starts authmilter, an smtp-sink standing in for the Internet, and a private
     Postfix that relays everything to the sink through authmilter;
  4. sends four messages and prints, for each, the SMTP replies, authmilter's
     verdict log line and the headers authmilter added to the delivered copy:
       a. outbound from a local client (signed),
       b. inbound from mail.example.org, DKIM-signed by example.org (passes),
       c. inbound spoof of paypal.example, a p=reject domain (refused),
       d. inbound from a client whose PTR does not confirm (iprev=fail);
  5. stops everything and removes its files (--keep keeps them).
Inbound clients get their foreign address through Postfix's XCLIENT command.
"""
import os
import sys
import time

SRCDIR = os.environ.get("AUTHMILTER_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("AUTHMILTER_SRCDIR", SRCDIR)
os.environ.setdefault("AUTHMILTER_BUILDDIR", SRCDIR)
if "--keep" in sys.argv:
    os.environ["AUTHMILTER_KEEP_TMP"] = "1"
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))

import dnsserver as D  # noqa: E402
import harness  # noqa: E402
import mta  # noqa: E402

AUTHSERV_ID = "mx.example.com"
GOOD = "ADDR=192.0.2.10 NAME=mail.example.org HELO=mail.example.org"
BROKEN = "ADDR=192.0.2.66 NAME=ghost.example.net HELO=ghost.example.net"
WIDTH = 78


def title(text):
    print("\n" + "=" * WIDTH + "\n" + text + "\n" + "=" * WIDTH, flush=True)


def show(label, lines):
    print("  %s" % label)
    for line in lines:
        for part in str(line).splitlines():
            print("      " + part)


def message(frm, to, subject):
    return ("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s.%d@demo>\n\n"
            "This is the demo message \"%s\".\n" %
            (frm, to, subject, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
             subject.replace(" ", "-"), os.getpid(), subject))


def main():
    if os.geteuid() != 0:
        sys.exit("demo.py: run as root (Postfix starts as root): sudo demo/run-demo")
    keygen = os.path.join(harness.BUILDDIR, "milter", "authmilter-keygen")
    wd = mta.make_workdir("/tmp/authmilter-demo-")

    title("1. DKIM keys for example.com (authmilter-keygen)")
    keys = os.path.join(wd, "keys")
    rsa = mta.make_dkim_key(keys, "example.com", "2026r", "rsa", keygen=keygen)
    ed = mta.make_dkim_key(keys, "example.com", "2026e", "ed25519", keygen=keygen)
    foreign = mta.make_dkim_key(keys, "example.org", "sel1", "rsa")   # openssl; dkimpy signs
    for kf, name, value in (rsa, ed):
        print("  %s\n      %s TXT \"%s...\"" % (kf, name, value[:60]))

    title("2. DNS: a private unbound on loopback with the example zone")
    records = [D.txt(rsa[1], rsa[2]), D.txt(ed[1], ed[2]), D.txt(foreign[1], foreign[2]),
               D.txt("example.com", "v=spf1 ip4:127.0.0.0/8 -all"),
               D.txt("_dmarc.example.com", "v=DMARC1; p=reject"),
               D.a("mail.example.org", "192.0.2.10"),
               D.txt("example.org", "v=spf1 ip4:192.0.2.10 -all"),
               D.txt("_dmarc.example.org", "v=DMARC1; p=reject"),
               D.txt("paypal.example", "v=spf1 ip4:198.51.100.7 -all"),
               D.txt("_dmarc.paypal.example", "v=DMARC1; p=reject"),
               D.txt("example.net", "v=spf1 ip4:192.0.2.66 -all")]
    ptrs = [("192.0.2.10", "mail.example.org"), ("192.0.2.66", "ghost.example.net")]
    dns = D.DNSServer(records, ptrs=ptrs)
    for r in records:
        print("  " + (r if len(r) < 100 else r[:96] + "...\""))
    for ip, name in ptrs:
        print("  %s PTR %s." % (ip, name))
    print("  (ghost.example.net has no A record: its PTR does not confirm)")
    print("  server: %s" % dns.address)

    title("3. authmilter, smtp-sink and a private Postfix")
    conf = {"authserv_id": AUTHSERV_ID, "internal_hosts": ["127.0.0.1/32"],
            "log": {"stderr": True, "level": "info"},
            "dns": {"nameservers": [dns.address]},
            "dkim": {'key "example.com-rsa"': {"domain": "example.com",
                                               "selector": "2026r", "file": rsa[0]},
                     'key "example.com-ed25519"': {"domain": "example.com",
                                                   "selector": "2026e", "file": ed[0]}}}
    milter = harness.Milter(conf, inet=True)
    sink = mta.SmtpSink(wd).start()
    port, host = milter.socket[5:].split("@")
    pf = mta.Postfix(wd, "inet:%s:%s" % (host, port), sink.port, hostname=AUTHSERV_ID,
                     relay_domains="example.com")
    try:
        pf.start()
        print("  authmilter  %s   (config %s)" % (milter.socket, milter.config_path))
        for line in milter.config_text.splitlines():
            print("      " + line)
        print("  postfix     127.0.0.1:%d   (config dir %s)" % (pf.port, pf.conf))
        print("  smtp-sink   127.0.0.1:%d   (stands in for the Internet; files in %s)"
              % (sink.port, sink.dir))

        cases = [
            ("a. outbound: alice@example.com from 127.0.0.1 (an internal host)",
             "alice@example.com", "bob@example.net", None, "mail.example.com", None),
            ("b. inbound: dave@example.org from mail.example.org [192.0.2.10], "
             "DKIM-signed by example.org",
             "dave@example.org", "user@example.com", GOOD, "mail.example.org", foreign),
            ("c. inbound spoof: From service@paypal.example (p=reject) from 192.0.2.10",
             "service@paypal.example", "user@example.com", GOOD, "mail.example.org", None),
            ("d. inbound: erin@example.net from 192.0.2.66, whose PTR does not confirm",
             "erin@example.net", "user@example.com", BROKEN, "ghost.example.net", None),
        ]
        for label, frm, to, xclient, helo, signer in cases:
            title("4." + label)
            text = message(frm, to, label.split(":")[0])
            if signer:
                text = mta.dkim_sign(text, signer[0], "example.org", "sel1")
            before = len(milter.log_lines())
            sink.forget()
            r = mta.smtp_send(pf.port, frm, [to], text, helo=helo, xclient=xclient)
            show("SMTP client sees:", ["%-7s %d %s" % (x.stage, x.code,
                                                       x.text.split("\n")[0])
                                       for x in r.replies if x.stage != "ehlo"])
            time.sleep(0.3)
            show("authmilter logged:", [x for x in milter.log_lines()[before:]
                                        if " client=" in x])
            if r.accepted:
                got = sink.new_messages(1, 20)
                if got:
                    body = mta.split_sink_file(got[0][1])[1]
                    added = mta.added_headers(body)
                    show("delivered; headers authmilter added at the top:", added)
                    if xclient is None:
                        sigs = mta.dkim_verify_all(body, dns.port)
                        show("dkimpy verifies the signatures:",
                             ["d=%s s=%s a=%s -> %s" % (d, s, a, "pass" if ok else "FAIL")
                              for d, s, a, ok in sigs])
                else:
                    show("delivered:", ["(not in the sink after 20 s)"])
            else:
                show("result:", ["refused; nothing was queued"])

        title("5. done")
        pf.wait_queue_empty(10)
        print("  Postfix queue: %s" % pf.queue_listing().strip())
    finally:
        pf.stop()
        sink.stop()
        milter.stop()
        dns.cleanup()
    if "--keep" in sys.argv:
        print("  files kept in %s" % wd)
    else:
        print("  stopped Postfix, authmilter, smtp-sink and unbound; removed %s" % wd)


if __name__ == "__main__":
    main()
