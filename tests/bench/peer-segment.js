#!/usr/bin/env node
/*
 * peer-segment.js: the peer of segment(1) in tests/bench/segment.sh.
 *
 * Reads NDJSON records from the file named by the argument, or stdin, and
 * for each record with a string "body" runs Twilio's calculator
 * (sms-segments-calculator, found through NODE_PATH):
 * new SegmentedMessage(body, 'auto', smart). It writes one line per input
 * line, {"encoding":"GSM-7"|"UCS-2","segments":N}, or {} for a record
 * without a body, so its output lines up with the input and its I/O is
 * comparable to segment's. Count and elapsed time go to stderr.
 *
 * usage: peer-segment.js [--smart] [file]
 */
'use strict';

const fs = require('fs');
const { StringDecoder } = require('string_decoder');
const { SegmentedMessage } = require('sms-segments-calculator');

function usage() {
	process.stderr.write('usage: peer-segment.js [--smart] [file]\n');
	process.exit(2);
}

let smart = false;
let file = null;
for (const a of process.argv.slice(2)) {
	if (a === '--smart' || a === '-s')
		smart = true;
	else if (a.startsWith('-') && a !== '-')
		usage();
	else if (file === null)
		file = a;
	else
		usage();
}

const start = process.hrtime.bigint();
let records = 0, bodies = 0, bad = 0;
let out = [];
let outLen = 0;

function flush() {
	if (out.length > 0)
		fs.writeSync(1, out.join(''));
	out = [];
	outLen = 0;
}

function line(s) {
	let rec, res;

	if (s.length === 0)
		return;
	records++;
	try {
		rec = JSON.parse(s);
	} catch (e) {
		bad++;
		res = '{"error":"invalid JSON"}\n';
	}
	if (res === undefined && rec !== null && typeof rec === 'object' &&
	    typeof rec.body === 'string') {
		const m = new SegmentedMessage(rec.body, 'auto', smart);
		bodies++;
		res = JSON.stringify({ encoding: m.encodingName,
		    segments: m.segmentsCount }) + '\n';
	} else if (res === undefined) {
		res = '{}\n';
	}
	out.push(res);
	outLen += res.length;
	if (outLen >= 65536)
		flush();
}

const fd = file === null || file === '-' ? 0 : fs.openSync(file, 'r');
const buf = Buffer.alloc(1 << 20);
const dec = new StringDecoder('utf8');
let rest = '';
for (;;) {
	let n;
	try {
		n = fs.readSync(fd, buf, 0, buf.length, null);
	} catch (e) {
		if (e.code === 'EAGAIN')
			continue;
		throw e;
	}
	if (n === 0)
		break;
	const parts = (rest + dec.write(buf.subarray(0, n))).split('\n');
	rest = parts.pop();
	for (const p of parts)
		line(p);
}
line(rest + dec.end());
flush();

const secs = Number(process.hrtime.bigint() - start) / 1e9;
process.stderr.write(`peer-segment: ${records} records, ${bodies} bodies` +
    `${smart ? ' (smart)' : ''}, ${secs.toFixed(3)} s, ` +
    `${Math.round(bodies / secs)} msgs/s` +
    `${bad ? `, ${bad} invalid` : ''}\n`);
process.exitCode = bad ? 1 : 0;
