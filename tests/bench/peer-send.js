#!/usr/bin/env node
/*
 * peer-send.js: the peer of sms-send(1) in tests/bench/send.sh.
 *
 * Sends one message per NDJSON record ("to", "body") of FILE with the
 * official twilio library (found through NODE_PATH), keeping CONCURRENCY
 * client.messages.create({to, from, body}) promises in flight, as
 * sms-send --jobs does. The library is pointed at sms-sim by setting the
 * base URL of its Api domain, client.api.baseUrl (lib/base/Domain.js: the
 * 2010 API builds every URL from it; the region/edge rewrite leaves an
 * address like 127.0.0.1 as it is).
 *
 * Credentials and sender come from TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
 * and TWILIO_FROM; the base URL from TWILIO_API_URL. It prints one line on
 * stdout, "sent=N failed=N seconds=S version=V", and the first few errors
 * on stderr. Exit 0 if every message was created, 1 otherwise, 2 on a
 * usage error.
 *
 * usage: peer-send.js FILE CONCURRENCY
 */
'use strict';

const fs = require('fs');
const twilio = require('twilio');

if (process.argv.length !== 4 || !/^[1-9][0-9]*$/.test(process.argv[3])) {
	process.stderr.write('usage: peer-send.js FILE CONCURRENCY\n');
	process.exit(2);
}
const file = process.argv[2];
const conc = Number(process.argv[3]);
const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token,
	TWILIO_FROM: from, TWILIO_API_URL: base } = process.env;
if (!sid || !token || !from || !base) {
	process.stderr.write('peer-send.js: TWILIO_ACCOUNT_SID, ' +
	    'TWILIO_AUTH_TOKEN, TWILIO_FROM and TWILIO_API_URL are needed\n');
	process.exit(2);
}

const records = fs.readFileSync(file, 'utf8').split('\n')
	.filter((l) => l.length > 0).map((l) => JSON.parse(l));

const client = twilio(sid, token);
client.api.baseUrl = base;

let next = 0, sent = 0, failed = 0, shown = 0;

async function worker() {
	while (next < records.length) {
		const r = records[next++];
		try {
			const m = await client.messages.create({
				to: r.to, from, body: r.body });
			if (typeof m.sid === 'string' && m.sid.startsWith('SM'))
				sent++;
			else
				failed++;
		} catch (e) {
			failed++;
			if (shown++ < 5)
				process.stderr.write(`peer-send.js: ${r.to}: ` +
				    `${e.status || ''} ${e.message}\n`);
		}
	}
}

const t0 = process.hrtime.bigint();
const workers = [];
for (let i = 0; i < conc; i++)
	workers.push(worker());
Promise.all(workers).then(() => {
	const s = Number(process.hrtime.bigint() - t0) / 1e9;
	const v = require('twilio/package.json').version;
	process.stdout.write(`sent=${sent} failed=${failed} ` +
	    `seconds=${s.toFixed(3)} version=${v}\n`);
	process.exit(failed === 0 ? 0 : 1);
});
