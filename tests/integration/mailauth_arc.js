// mailauth_arc.js - RFC 8617 ARC verdicts from mailauth (npm, 7.x), an
// independent implementation, for test_arc_verify.py to diff against.
//
// argv[2]: the loopback DNS server's port; argv[3..]: message files. stdout: one
// JSON object a file, in order: {"file", "result", "i", "reason"}. Every lookup
// goes to 127.0.0.1:PORT, nowhere else.
'use strict';

const fs = require('node:fs');
const { Resolver } = require('node:dns').promises;
const { dkimVerify } = require('mailauth/lib/dkim/verify');
const { arc } = require('mailauth/lib/arc');

const resolver = new Resolver({ timeout: 3000, tries: 1 });
resolver.setServers([`127.0.0.1:${process.argv[2]}`]);

// lookup - mailauth's resolver(name, type) over the test server
const lookup = (name, type) => (type === 'TXT' ? resolver.resolveTxt(name) : resolver.resolve(name, type));

const main = async () => {
    for (const file of process.argv.slice(3)) {
        let out;
        try {
            const msg = fs.readFileSync(file);
            const d = await dkimVerify(msg, { resolver: lookup });
            const r = await arc(d.arc, { resolver: lookup });
            out = { file, result: r.status.result, i: r.i || 0, reason: r.status.comment || null };
        } catch (err) {
            out = { file, result: 'exception', reason: String(err) };
        }
        process.stdout.write(JSON.stringify(out) + '\n');
    }
};

main();
