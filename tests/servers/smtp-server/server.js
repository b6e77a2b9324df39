// SPDX-License-Identifier: LGPL-2.1-or-later
// nodemailer's smtp-server (npm, pinned in package.json and package-lock.json
// beside this file) as a real SMTP server for farceur's tests: a server
// nobody here wrote.  tests/send/send-smtp-server.py installs the package with
// `npm ci` and runs this script with NODE_PATH set to its node_modules.
//
//   node server.js OUTDIR CERT KEY USER [LATER]
//   (the password of USER in $SMTP_SERVER_PASSWORD, never in argv)
//
// Listens on 127.0.0.1, port 0, and prints one JSON line on stdout,
// {"port": N}; serves until stdin is closed (so it never outlives the test).
// STARTTLS with CERT and KEY (PEM); AUTH PLAIN and LOGIN after STARTTLS,
// optional.  Rules on RCPT TO, by the local part:
//   bad*    550 5.1.1, always;
//   later*  451 4.7.1 the first LATER times (default 2) for that address,
//           then accepted.
// Each message received is stored as OUTDIR/NNNN.eml (the octets as the
// server received them, dot-unstuffed) and OUTDIR/NNNN.json (its envelope and
// session: mail_from, rcpt_to, secure, user).  OUTDIR/events.jsonl logs every
// RCPT and AUTH with the reply given (never a password).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');

function usage(why) {
    process.stderr.write(`server.js: ${why}\nusage: node server.js OUTDIR CERT KEY USER [LATER]\n`);
    process.exit(64);
}

const [outdir, certFile, keyFile, user, laterArg] = process.argv.slice(2);
if (!user) usage('missing arguments');
const password = process.env.SMTP_SERVER_PASSWORD;
if (!password) usage('SMTP_SERVER_PASSWORD is not set');
const laterTimes = laterArg === undefined ? 2 : Number(laterArg);
if (!Number.isInteger(laterTimes) || laterTimes < 0) usage(`bad LATER: ${laterArg}`);

const events = path.join(outdir, 'events.jsonl');
let stored = 0;
const deferredSoFar = new Map(); // address -> 451 replies given

function log(event) {
    fs.appendFileSync(events, JSON.stringify(event) + '\n');
}

function smtpError(code, text) {
    const err = new Error(text);
    err.responseCode = code;
    return err;
}

function onAuth(auth, session, callback) {
    const ok = auth.username === user && auth.password === password;
    log({ event: 'auth', method: auth.method, username: auth.username, ok, secure: session.secure });
    if (!ok) return callback(smtpError(535, 'authentication credentials invalid'));
    callback(null, { user: auth.username });
}

function onRcptTo(address, session, callback) {
    const addr = address.address;
    const local = addr.split('@')[0].toLowerCase();
    let reply = 250;
    let err = null;
    if (local.startsWith('bad')) {
        reply = 550;
        err = smtpError(550, `no mailbox here by that name: ${addr}`);
    } else if (local.startsWith('later')) {
        const n = deferredSoFar.get(addr) || 0;
        if (n < laterTimes) {
            deferredSoFar.set(addr, n + 1);
            reply = 451;
            err = smtpError(451, `greylisted, try again later (${n + 1} of ${laterTimes})`);
        }
    }
    log({ event: 'rcpt', addr, reply, session: session.id, secure: session.secure });
    callback(err);
}

function onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('error', callback);
    stream.on('end', () => {
        stored += 1;
        const base = path.join(outdir, String(stored).padStart(4, '0'));
        const envelope = {
            mail_from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            rcpt_to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: session.user || null,
            session: session.id,
            body_type: session.envelope.bodyType || null,
            smtputf8: Boolean(session.envelope.smtpUtf8),
        };
        // the .eml first: a .json names a message whose octets are all there
        fs.writeFileSync(base + '.eml', Buffer.concat(chunks));
        fs.writeFileSync(base + '.json', JSON.stringify(envelope) + '\n');
        callback(null, `stored as ${path.basename(base)}`);
    });
}

const server = new SMTPServer({
    name: 'smtp-server.test',
    key: fs.readFileSync(keyFile),
    cert: fs.readFileSync(certFile),
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    size: 10 * 1024 * 1024,
    closeTimeout: 1000,
    onAuth,
    onRcptTo,
    onData,
});

server.on('error', (err) => {
    process.stderr.write(`server.js: ${err.stack || err}\n`);
    process.exit(70);
});

server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.server.address().port }) + '\n');
});

process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
