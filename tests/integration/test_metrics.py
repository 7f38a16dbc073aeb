#!/usr/bin/python3
"""test_metrics - the /metrics page of the real daemon (issue 17).

The daemon runs with metrics { listen = "127.0.0.1:PORT" } on a free loopback port
and a loopback unbound. Messages go through it with miltc: inbound mail that passes
(iprev, SPF, DKIM by dkimpy, DMARC), inbound spoofs of a p=reject domain from a
client without PTR, outbound mail signed with an Ed25519 key and outbound mail for
a domain without a key. The counts on /metrics must match what was sent and the
verdicts the log line gives; `promtool check metrics` must accept the page;
reloads (good and broken) are counted; a scrape loop runs while one connection
sends 300 messages and every scrape answers, counts never go down; a busy port
stops the daemon at start with the file, line and key named; a bad value is
refused by -n; paths other than /metrics are 404; slow clients holding connections
(a byte a second, more of them than the connection limit) delay a scrape by at
most one request's time limit (issue 24, finding 6); the README's example alerting
rules pass `promtool check rules`.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Milter, MilterError, Results, free_port, run_miltc  # noqa: E402
from dnsserver import DNSServer, a, txt  # noqa: E402

import dkim  # noqa: E402

DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
IP_GOOD = "192.0.2.10"       # mail.example.org, forward-confirmed, in SPF
IP_BAD = "192.0.2.66"        # no PTR, not in SPF


def read(name, mode="rb"):
    with open(os.path.join(DKIMPY_DATA, name), mode) as f:
        return f.read()


RSA_KEY = read("2048_testkey.key")
RSA_PUB = read("2048_testkey_wo_markers.pub.txt", "r").strip()


def message(frm, subject):
    return ("From: %s\nTo: rcpt@example.net\nSubject: %s\n"
            "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@test.example>\n\n"
            "Hello.\n" % (frm, subject, re.sub(r"\W", "", subject))).encode()


def signed(msg):
    return dkim.sign(msg, b"rsa", b"example.org", RSA_KEY, linesep=b"\n",
                     include_headers=[b"from", b"to", b"subject", b"date"]) + msg


def scrape(port, path="/metrics"):
    """(status, content type, body) of one GET."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(page):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in page.splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def value(page, name, **labels):
    """One sample's value; labels in the order the page writes them."""
    key = name
    if labels:
        key += "{" + ",".join('%s="%s"' % kv for kv in labels.items()) + "}"
    return samples(page).get(key)


def make_ed25519(keydir):
    """An Ed25519 key file (0600) named as authmilter-keygen names it."""
    path = os.path.join(keydir, "ed.example.com.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", path],
                   check=True, stderr=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    return path


def send_all(m, t):
    """The messages of the counting case; returns how many of each were sent."""
    for i in range(3):
        r = run_miltc(m.socket, signed(message("a@example.org", "pass %d" % i)),
                      client_addr=IP_GOOD, client_name="mail.example.org",
                      helo="mail.example.org", mail_from="x@example.org",
                      rcpts=["rcpt@example.net"])
        t.eq("inbound pass %d accepted" % i, r["action"], "accept")
    for i in range(2):
        r = run_miltc(m.socket, message("a@example.org", "spoof %d" % i),
                      client_addr=IP_BAD, client_name="[%s]" % IP_BAD, helo="x.example",
                      mail_from="x@example.org", rcpts=["rcpt@example.net"])
        t.eq("inbound spoof %d rejected" % i, r["action"], "reject")
    r = run_miltc(m.socket, message("a@example.com", "out"), client_addr="127.0.0.1",
                  mail_from="a@example.com", rcpts=["rcpt@example.net"], count=4)
    t.eq("outbound: 4 messages signed", [x["action"] for x in r["messages"]],
         ["accept"] * 4)
    r = run_miltc(m.socket, message("a@nokey.example", "nokey"), client_addr="127.0.0.1",
                  mail_from="a@nokey.example", rcpts=["rcpt@example.net"])
    t.eq("outbound without a key accepted", r["action"], "accept")


def counting_case(t, m, port):
    send_all(m, t)
    time.sleep(0.2)     # miltc has closed; the daemon's close callback runs
    status, ctype, page = scrape(port)
    t.eq("GET /metrics: 200", status, 200)
    t.ok("content type is the text format 0.0.4", ctype and "version=0.0.4" in ctype,
         ctype)
    want = [
        ("authmilter_messages_total", dict(direction="inbound", action="accept"), 3),
        ("authmilter_messages_total", dict(direction="inbound", action="reject"), 2),
        ("authmilter_messages_total", dict(direction="inbound", action="tempfail"), 0),
        ("authmilter_messages_total", dict(direction="outbound", action="accept"), 5),
        ("authmilter_verdicts_total", dict(check="iprev", result="pass"), 3),
        ("authmilter_verdicts_total", dict(check="iprev", result="fail"), 2),
        ("authmilter_verdicts_total", dict(check="spf", result="pass"), 3),
        ("authmilter_verdicts_total", dict(check="spf", result="fail"), 2),
        ("authmilter_verdicts_total", dict(check="spf_helo", result="none"), 5),
        ("authmilter_verdicts_total", dict(check="dkim", result="pass"), 3),
        ("authmilter_verdicts_total", dict(check="dkim", result="none"), 2),
        ("authmilter_verdicts_total", dict(check="dmarc", result="pass"), 3),
        ("authmilter_verdicts_total", dict(check="dmarc", result="fail"), 2),
        ("authmilter_dkim_signatures_total",
         dict(domain="example.com", algorithm="ed25519-sha256"), 4),
        ("authmilter_dkim_signatures_total",
         dict(domain="example.com", algorithm="rsa-sha256"), 0),
        ("authmilter_dkim_signatures_total",
         dict(domain="other", algorithm="ed25519-sha256"), 0),
        ("authmilter_eom_latency_seconds_count", dict(direction="inbound"), 5),
        ("authmilter_eom_latency_seconds_count", dict(direction="outbound"), 5),
        ("authmilter_eom_latency_seconds_bucket", dict(direction="outbound", le="+Inf"),
         5),
        ("authmilter_sessions_open", {}, 0),
        ("authmilter_dns_timeouts_total", {}, 0),
        ("authmilter_reloads_total", dict(result="ok"), 0),
    ]
    for name, labels, n in want:
        t.eq("%s%s = %d" % (name, labels, n), value(page, name, **labels), n)
    # the log lines say the same as the counters
    lines = m.log_lines()
    t.eq("log: 3 inbound dmarc=pass lines",
         sum(1 for x in lines if " inbound " in x and "dmarc=pass" in x), 3)
    t.eq("log: 4 outbound ed25519 signatures",
         sum(1 for x in lines if "dkim-sign=example.com/ed/ed25519-sha256" in x), 4)
    q = value(page, "authmilter_dns_queries_total") or 0
    hits = value(page, "authmilter_dns_cache_hits_total") or 0
    t.ok("DNS: queries counted, the repeated ones hit the front cache (%d queries, "
         "%d hits)" % (q, hits), q >= 10 and 0 < hits < q, page[-600:])
    inb = [(k, v) for k, v in samples(page).items()
           if k.startswith("authmilter_eom_latency_seconds_bucket{direction=\"inbound\"")]
    t.ok("latency buckets are cumulative", all(
        inb[i][1] <= inb[i + 1][1] for i in range(len(inb) - 1)) and len(inb) == 14, inb)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=page.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t.ok("promtool check metrics accepts the page", p.returncode == 0 and
         not p.stdout.strip(), p.stdout.decode()[:500])
    status, _, body = scrape(port, "/")
    t.eq("GET / is 404", status, 404)


def reload_case(t, m, port):
    good = m.config_text
    m.reload()
    t.ok("reload logged", m.wait_log(r"reloaded ", 5), m.log_tail(3))
    page = scrape(port)[2]
    t.eq("reloads_total{ok} = 1", value(page, "authmilter_reloads_total", result="ok"), 1)
    m.write_config(good + "dns {\n  timeout = 600\n}\nbogus_key = 1\n")
    m.reload()
    t.ok("broken reload logged", m.wait_log(r"reload refused: .*has errors", 5),
         m.log_tail(3))
    page = scrape(port)[2]
    t.eq("reloads_total{failed} = 1",
         value(page, "authmilter_reloads_total", result="failed"), 1)
    t.ok("config_errors_total counts the problems",
         (value(page, "authmilter_config_errors_total") or 0) >= 1, page[-500:])
    t.eq("last reload unsuccessful",
         value(page, "authmilter_config_last_reload_successful"), 0)
    m.write_config(good)
    m.reload()
    time.sleep(0.5)
    page = scrape(port)[2]
    t.eq("reloads_total{ok} = 2 after the fix",
         value(page, "authmilter_reloads_total", result="ok"), 2)
    t.eq("last reload successful again",
         value(page, "authmilter_config_last_reload_successful"), 1)


def flowing_case(t, m, port):
    before = value(scrape(port)[2], "authmilter_messages_total", direction="outbound",
                   action="accept")
    res = {}

    def sender():
        res["r"] = run_miltc(m.socket, message("a@example.com", "flow"),
                             client_addr="127.0.0.1", mail_from="a@example.com",
                             rcpts=["rcpt@example.net"], count=300)
    th = threading.Thread(target=sender)
    th.start()
    seen, bad, slow, open_seen = [], [], 0.0, 0
    while th.is_alive():
        t0 = time.monotonic()
        status, _, page = scrape(port)
        slow = max(slow, time.monotonic() - t0)
        if status != 200:
            bad.append(status)
            continue
        seen.append(value(page, "authmilter_messages_total", direction="outbound",
                          action="accept"))
        open_seen = max(open_seen, value(page, "authmilter_sessions_open") or 0)
    th.join()
    after = value(scrape(port)[2], "authmilter_messages_total", direction="outbound",
                  action="accept")
    t.ok("scraping while 300 messages flow: %d scrapes, all 200, slowest %.3f s"
         % (len(seen), slow), len(seen) >= 3 and not bad, bad)
    t.ok("counts never go down between scrapes",
         all(seen[i] <= seen[i + 1] for i in range(len(seen) - 1)), seen[:20])
    t.eq("300 more outbound messages counted", after - before, 300)
    t.ok("sessions_open was 1 while the connection sent", open_seen == 1, open_seen)
    t.eq("every flowing message accepted",
         [x["action"] for x in res["r"]["messages"]], ["accept"] * 300)


class SlowClients:
    """SlowClients(port, n) - n connections to port, each sending one byte of a
    request that never ends every `every` seconds from its own thread (a slowloris);
    one cut by the server is counted (with how long it lived) and, with reconnect,
    replaced at once, as a persistent attacker would."""

    def __init__(self, port, n, every=1.0, reconnect=True):
        self.port, self.every, self.reconnect = port, every, reconnect
        self.lifetimes = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]
        for th in self.threads:
            th.start()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        return s, time.monotonic()

    def cut(self, s):
        """cut - did the server close s (EOF, a reset, or an answer to a request
        it never got)?"""
        try:
            return s.recv(4096) is not None
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
        s, born, i = None, 0.0, 0
        while not self.stopping.is_set():
            try:
                if s is None:
                    s, born, i = *self.connect(), 0
                if self.cut(s):
                    raise OSError("cut")
                s.send(request[i:i + 1])
                i += 1
            except OSError:
                if s is not None:
                    with self.lock:
                        self.lifetimes.append(time.monotonic() - born)
                    s.close()
                s = None
                if not self.reconnect:
                    return
                continue
            self.stopping.wait(self.every)
        if s is not None:
            s.close()

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join()


def timed_scrape(port):
    """(status or the error, seconds) of one scrape."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=15) as r:
            r.read()
            status = r.status
    except (OSError, urllib.error.URLError) as e:
        status = repr(e)
    return status, time.monotonic() - t0


def slow_clients_case(t, port):
    """Slow clients holding connections do not keep a scrape from being answered:
    20 (more than the old limit of 16) leave it prompt; 80 (more than the limit)
    delay it at most until the oldest are cut (each request is bounded as a whole,
    not by idleness: one byte a second never idles)."""
    slow = SlowClients(port, 20)
    try:
        time.sleep(2.5)
        res = [timed_scrape(port) for _ in range(3)]
    finally:
        slow.stop()
    print("# 20 slow clients: scrapes took %s s" % ", ".join("%.3f" % x[1] for x in res))
    t.ok("20 slow clients: every scrape answers 200 within 3 s",
         all(st == 200 and took < 3 for st, took in res), res)
    slow = SlowClients(port, 80)
    try:
        time.sleep(1.5)
        res = [timed_scrape(port) for _ in range(3)]
        time.sleep(3)
    finally:
        slow.stop()
    lives = sorted(slow.lifetimes)
    print("# 80 slow clients, reconnecting when cut: scrapes took %s s; %d cut, "
          "lived %.1f-%.1f s" % (", ".join("%.3f" % x[1] for x in res), len(lives),
                                 lives[0] if lives else 0, lives[-1] if lives else 0))
    t.ok("80 slow clients: every scrape answers 200 within 8 s",
         all(st == 200 and took < 8 for st, took in res), res)
    t.ok("80 slow clients: they are cut, none lives past 8 s",
         lives and lives[-1] < 8, lives[-5:])


def busy_port_case(t, base):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    m = Milter(dict(base, metrics={"listen": "127.0.0.1:%d" % port}), start=False)
    try:
        m.start()
        t.fail("busy metrics port: the daemon started anyway")
    except MilterError:
        t.eq("busy metrics port: exit status 1", m.returncode, 1)
        line = m.wait_log(r"metrics\.listen", 1) or ""
        line_no = [i + 1 for i, x in enumerate(m.config_text.splitlines())
                   if "listen =" in x][0]
        t.ok("busy metrics port: the error names file, line and key",
             "%s:%d: metrics.listen: 127.0.0.1:%d: Address already in use"
             % (m.config_path, line_no, port) in line, m.log_tail(3))
    finally:
        m.stop()
        s.close()


def bad_value_case(t, base):
    m = Milter(dict(base, metrics={"listen": "localhost:9871"}), start=False)
    p = subprocess.run([harness.AUTHMILTER, "-n", "-c", m.config_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    t.ok("-n refuses metrics.listen = \"localhost:9871\" with file:line: key",
         p.returncode == 1 and re.search(r"milter\.conf:\d+: metrics\.listen: "
                                         r"\"localhost:9871\" is not valid", out), out)


def readme_rules_case(t):
    """The README's example alerting rules are valid Prometheus rules."""
    with open(os.path.join(harness.SRCDIR, "README.md")) as f:
        readme = f.read()
    section = readme.split("## Metrics", 1)[-1].split("\n## ", 1)[0]
    m = re.search(r"```yaml\n(.*?)```", section, re.S)
    if not t.ok("README's Metrics section has alerting rules", m):
        return
    path = os.path.join(harness.tmpdir(), "rules.yml")
    with open(path, "w") as f:
        f.write(m.group(1))
    p = subprocess.run([PROMTOOL, "check", "rules", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    t.ok("promtool check rules accepts the README's rules (%s)"
         % (re.search(r"\d+ rules found", out) or [out[:80]])[0],
         p.returncode == 0, out[:500])


def main():
    t = Results()
    records = [a("mail.example.org", IP_GOOD), a("example.org", "192.0.2.1"),
               txt("example.org", "v=spf1 ip4:%s -all" % IP_GOOD),
               txt("_dmarc.example.org", "v=DMARC1; p=reject"),
               txt("rsa._domainkey.example.org", RSA_PUB)]
    with DNSServer(records, ptrs=[(IP_GOOD, "mail.example.org")]) as dns:
        keydir = harness.tmpdir()
        port = free_port()
        base = {"authserv_id": "mx.test.example", "dns": {"nameservers": [dns.address]},
                "dkim": {"key \"ed\"": {"domain": "example.com", "selector": "ed",
                                         "file": make_ed25519(keydir)}}}
        with Milter(dict(base, metrics={"listen": "127.0.0.1:%d" % port})) as m:
            t.run("counting", counting_case, t, m, port)
            t.run("reload", reload_case, t, m, port)
            t.run("flowing", flowing_case, t, m, port)
            t.run("slow clients", slow_clients_case, t, port)
        t.run("busy port", busy_port_case, t, base)
        t.run("bad value", bad_value_case, t, base)
        t.run("README rules", readme_rules_case, t)
        m = Milter(base)
        try:
            with socket.socket() as s:
                t.ok("metrics off by default: nothing listens on the port",
                     s.connect_ex(("127.0.0.1", port)) != 0)
        finally:
            m.stop()
    t.exit()


if __name__ == "__main__":
    main()
