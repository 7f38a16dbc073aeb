#!/usr/bin/python3
"""test_postfix_chroot - the README's setup for Debian's Postfix, whose smtpd and
cleanup run chrooted in the queue directory: authmilter's unix socket inside the
Postfix spool, named relative to it in both smtpd_milters and non_smtpd_milters.

    smtp       a message over SMTP from 127.0.0.1 arrives at the sink signed
    sendmail   a message submitted with Postfix's sendmail (pickup -> cleanup, which
               is chrooted too, so non_smtpd_milters is spool-relative as well)
               arrives signed
    socket     the socket is mode 0660 and belongs to the configured user, in a
               directory only that user's group (postfix here) may enter

The spool is a private queue directory; Debian's configure-instance.sh prepares its
jail as Debian's postfix service does (mta.ChrootPostfix).
"""
import os
import pwd
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mta  # noqa: E402
from dnsserver import DNSServer  # noqa: E402

MSG = ("From: A <a@example.com>\nTo: b@example.net\nSubject: chroot %s\n"
       "Date: Fri, 21 Nov 2025 12:00:00 +0000\nMessage-ID: <c.%s@example.com>\n\n"
       "body text\n")


def signed(data):
    _, msg = mta.split_sink_file(data)
    return any(h.lower().startswith("dkim-signature:") and "d=example.com" in h
               for h in mta.header_lines(msg))


def main():
    r = harness.Results()
    if not os.path.exists(mta.CONFIGURE_INSTANCE):
        r.fail("Debian's postfix package", mta.CONFIGURE_INSTANCE + " missing")
        r.exit()
    d = harness.tmpdir()
    key = mta.make_dkim_key(d, "example.com", "s")[0]
    dns = DNSServer([])
    wd = mta.make_workdir("amt-chroot-")
    queue = os.path.join(wd, "postfix-queue")
    sockdir = os.path.join(queue, "authmilter")
    os.makedirs(sockdir)
    pw = pwd.getpwnam(mta.POSTFIX_USER)
    os.chown(sockdir, 0, pw.pw_gid)
    os.chmod(sockdir, 0o750)
    sock = os.path.join(sockdir, "authmilter.sock")
    m = harness.Milter(start=False)
    m.socket = "unix:" + sock
    # user postfix stands in for the README's authmilter user with postfix in its group
    m.write_config({"socket": m.socket, "socket_mode": "0660", "user": mta.POSTFIX_USER,
                    "dns": {"nameservers": [dns.address]},
                    "dkim": {"require_safe_keys": False,
                             'key "k"': {"domain": "example.com", "selector": "s",
                                         "file": key}}})
    sink = mta.SmtpSink(wd).start()
    pf = None
    try:
        m.start()
        m.wait_log("started")
        st = os.stat(sock)
        r.eq("socket mode 0660, owned by the configured user",
             (stat.S_IMODE(st.st_mode), st.st_uid), (0o660, pw.pw_uid))
        pf = mta.ChrootPostfix(wd, "unix:/authmilter/authmilter.sock", sink.port,
                               extra={"milter_default_action": "tempfail"}).start()
        res = mta.smtp_send(pf.port, "a@example.com", ["b@example.net"], MSG % (1, 1))
        r.ok("smtp: accepted", res.accepted, "%s\n%s" % (res, pf.maillog()[-1500:]))
        got = sink.new_messages(1)
        r.ok("smtp: delivered signed (chrooted smtpd, smtpd_milters spool-relative)",
             len(got) == 1 and signed(got[0][1]), pf.maillog()[-1500:])
        rc, out = pf.sendmail(MSG % (2, 2), "a@example.com", ["b@example.net"])
        r.eq("sendmail: submitted", rc, 0)
        got = sink.new_messages(1)
        r.ok("sendmail: delivered signed (chrooted cleanup, non_smtpd_milters "
             "spool-relative)", len(got) == 1 and signed(got[0][1]),
             pf.maillog()[-1500:])
    finally:
        if pf is not None:
            pf.stop()
        sink.stop()
        m.stop()
        dns.cleanup()
    r.exit()


if __name__ == "__main__":
    main()
