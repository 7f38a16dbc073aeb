// mailauth_dmarc.js - RFC 9989 DMARC verdicts from mailauth (npm, 7.x), an
// independent implementation, for test_dmarc9989.py to diff against.
//
// argv[2]: the loopback DNS server's port. stdin: one JSON object a line,
// {"from": "a@x.example", "spf": "domain" or null, "dkim": ["d", ...], "strict":
// bool} (the identifiers that passed; strict: RFC 6376 tag-list parsing); stdout: {"result", "policy", "policyDomain", "error"}
// a line, in order. Every lookup goes to 127.0.0.1:PORT, nowhere else.
'use strict';

const { Resolver } = require('node:dns').promises;
const readline = require('node:readline');
const { dmarc } = require('mailauth/lib/dmarc');

const resolver = new Resolver({ timeout: 3000, tries: 1 });
resolver.setServers([`127.0.0.1:${process.argv[2]}`]);

// lookup - mailauth's resolver(name, type) over the test server
const lookup = (name, type) => {
    switch (type) {
        case 'TXT':
            return resolver.resolveTxt(name);
        case 'A':
            return resolver.resolve4(name);
        case 'AAAA':
            return resolver.resolve6(name);
        case 'MX':
            return resolver.resolveMx(name);
        case 'CNAME':
            return resolver.resolveCname(name);
        default:
            return resolver.resolve(name, type);
    }
};

const main = async () => {
    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
        if (!line.trim()) {
            continue;
        }
        const c = JSON.parse(line);
        let out;
        try {
            const r = await dmarc({
                headerFrom: c.from,
                spfDomains: c.spf ? [{ domain: c.spf, result: 'pass' }] : [],
                dkimDomains: (c.dkim || []).map(d => ({ domain: d, result: 'pass' })),
                resolver: lookup,
                strict: !!c.strict
            });
            out = {
                result: r.status.result,
                policy: r.status.policy ? r.status.policy.dmarc : null,
                policyDomain: r.policyDomain || null,
                error: r.error || null
            };
        } catch (err) {
            out = { result: 'exception', error: String(err) };
        }
        process.stdout.write(JSON.stringify(out) + '\n');
    }
};

main();
