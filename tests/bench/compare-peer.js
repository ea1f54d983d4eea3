#!/usr/bin/env node
/*
 * compare-peer.js: line by line, compare segment(1)'s (encoding, segments)
 * with the peer's (peer-segment.js) on the same NDJSON input, for
 * tests/bench/segment.sh. Informational: it exits 0 whatever it finds, and
 * non-zero only when it cannot read its input or the files do not line up.
 *
 * Each disagreement is tagged with its likely cause, the two documented in
 * reference section 9.1 and 12:
 *   splitter   the peer's grapheme-splitter (2017, pre-Unicode 11) cuts
 *              the text into a different number of clusters than current
 *              Unicode rules (Intl.Segmenter) do;
 *   oversize   a cluster is longer than a UCS-2 part (67 units);
 *   other      neither: worth a look.
 *
 * usage: compare-peer.js LABEL CORPUS SEGMENT-OUT PEER-OUT [MAX-EXAMPLES]
 */
'use strict';

const fs = require('fs');

let GraphemeSplitter = null;
try {
	GraphemeSplitter = require('grapheme-splitter');
} catch (e) {
	/* no cause tags, just counts */
}

const [label, corpusFile, segFile, peerFile, maxArg] = process.argv.slice(2);
if (peerFile === undefined) {
	process.stderr.write('usage: compare-peer.js LABEL CORPUS ' +
	    'SEGMENT-OUT PEER-OUT [MAX-EXAMPLES]\n');
	process.exit(2);
}
const maxExamples = maxArg === undefined ? 5 : Number(maxArg);

function lines(file) {
	const s = fs.readFileSync(file, 'utf8');
	const a = s.split('\n');
	if (a[a.length - 1] === '')
		a.pop();
	return a;
}

function parse(s) {
	try {
		return JSON.parse(s);
	} catch (e) {
		return null;
	}
}

/* "GSM-7", "gsm7", "GSM 7" are one encoding. */
function norm(enc) {
	return typeof enc === 'string' ?
	    enc.toUpperCase().replace(/[^A-Z0-9]/g, '') : String(enc);
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const splitter = GraphemeSplitter ? new GraphemeSplitter() : null;

function cause(body) {
	const now = [...segmenter.segment(body)].map((g) => g.segment);
	if (now.some((g) => g.length > 67))
		return 'oversize';
	if (splitter !== null && splitter.countGraphemes(body) !== now.length)
		return 'splitter';
	return splitter !== null ? 'other' : '?';
}

function show(body) {
	const cps = [...body];
	const s = cps.length > 60 ? cps.slice(0, 60).join('') + '...' : body;
	return JSON.stringify(s);
}

const corpus = lines(corpusFile);
const seg = lines(segFile);
const peer = lines(peerFile);
if (seg.length !== corpus.length || peer.length !== corpus.length) {
	process.stderr.write(`compare-peer: ${label}: ` +
	    `${corpus.length} records, ${seg.length} from segment, ` +
	    `${peer.length} from the peer\n`);
	process.exit(1);
}

let compared = 0, encDiff = 0, segDiff = 0, unparsed = 0;
const causes = {};
const examples = [];
for (let i = 0; i < corpus.length; i++) {
	const rec = parse(corpus[i]);
	if (rec === null || typeof rec.body !== 'string')
		continue;
	const s = parse(seg[i]), p = parse(peer[i]);
	if (s === null || p === null) {
		unparsed++;
		continue;
	}
	compared++;
	const e = norm(s.encoding) !== norm(p.encoding);
	const n = s.segments !== p.segments;
	if (!e && !n)
		continue;
	if (e)
		encDiff++;
	if (n)
		segDiff++;
	const c = cause(rec.body);
	causes[c] = (causes[c] || 0) + 1;
	if (examples.length < maxExamples)
		examples.push(`  line ${i + 1}: ` +
		    `segment ${s.encoding}/${s.segments}, ` +
		    `peer ${p.encoding}/${p.segments} ` +
		    `[${c}, ${rec.body.length} units] ${show(rec.body)}`);
}

const total = Object.values(causes).reduce((a, b) => a + b, 0);
const byCause = Object.keys(causes).sort()
    .map((k) => `${k} ${causes[k]}`).join(', ');
process.stdout.write(`cross-check ${label}: ${total} of ${compared} ` +
    `records disagree (encoding ${encDiff}, segments ${segDiff})` +
    `${total ? `; by cause: ${byCause}` : ''}` +
    `${unparsed ? `; ${unparsed} unparsable output lines` : ''}\n`);
for (const x of examples)
	process.stdout.write(x + '\n');
