#!/usr/bin/env python3
# mk-twilio-cases.py: restate Twilio's calculator vectors as twilio-cases.ndjson.
#
# Provenance only. This reads ../shared/reference/segment/*.json (relative to
# the repository root), which exists only in the team's workspace; a clone has
# no such folder, so the output, tests/data/twilio-cases.ndjson, is committed
# and the build and tests read only that. Run from the repository root:
#
#	python3 tests/data/mk-twilio-cases.py
#
# Each output line is one compact JSON object:
#
#	{"id", "source", "body", "smart", "expect", "live"?, "note"?,
#	 "differs"?, "ours"?}
#
# "expect" is Twilio's answer (sms-segments-calculator 1.3.0, its branch
# tests, or live billing). To find where our rules (segmentation.md section
# 12: GSM-7 if every code point is in the default alphabet or its extension
# table, 0x09 = U+00C7; UCS-2 parts cut at extended grapheme clusters by
# current Unicode rules, code points for a cluster longer than a part; empty
# body = 1 part; no trimming) answer otherwise, the script runs a small model
# of those rules (graphemes from the system's libutf8proc, as lib/gsm.c uses)
# on every vector. Where the model disagrees with "expect", the vector must be
# listed in KNOWN with a reason, and gets "differs" (the reason) and "ours"
# (the model's answer for the fields that differ); an unexplained
# disagreement stops the script. Twilio's "chars" means septets for GSM-7 and
# graphemes (its outdated grapheme-splitter, CRLF split back in two) for
# UCS-2; the model compares the latter with current-rules graphemes, which
# coincide on every vector here.

import ctypes
import ctypes.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
	os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, '..', 'shared', 'reference', 'segment')
OUT = os.path.join(ROOT, 'tests', 'data', 'twilio-cases.ndjson')

# Vectors where our rules knowingly differ from Twilio's answer.
KNOWN = {
	'tw-basic-my-1': 'released_lib_disagrees: this expectation comes from '
	    'an unmerged Twilio branch with a Malaysia rule that makes é '
	    'UCS-2; é (U+00E9) is GSM 03.38 septet 0x05, so we (and the '
	    'released 1.3.0) say GSM-7, 1 part',
}


def load(name):
	with open(os.path.join(SHARED, name), encoding='utf-8') as f:
		return json.load(f)


def cp_of(u):
	return int(u[2:], 16)


class Rules:
	"""Our segmentation rules, enough to predict every expect field."""

	def __init__(self):
		tables = load('gsm7-tables.json')['tables']['default']
		self.basic = {cp_of(u) for u in tables['locking'] if u}
		self.ext = {cp_of(u) for u in tables['single_shift'] if u}
		smart = load('twilio-smart-encoding.json')['map']
		self.smart = {cp_of(k): v for k, v in smart.items()}
		lib = ctypes.util.find_library('utf8proc')
		if not lib:
			sys.exit('mk-twilio-cases: libutf8proc not found')
		self.u8p = ctypes.CDLL(lib)
		self.u8p.utf8proc_grapheme_break_stateful.restype = ctypes.c_bool
		self.u8p.utf8proc_grapheme_break_stateful.argtypes = [
		    ctypes.c_int32, ctypes.c_int32,
		    ctypes.POINTER(ctypes.c_int32)]

	def graphemes(self, text):
		out = []
		state = ctypes.c_int32(0)
		for i, ch in enumerate(text):
			if i == 0 or self.u8p.utf8proc_grapheme_break_stateful(
			    ord(text[i - 1]), ord(ch), ctypes.byref(state)):
				out.append(ch)
			else:
				out[-1] += ch
		return out

	def analyze(self, body, smart):
		text = ''.join(self.smart.get(ord(c), c) for c in body) \
		    if smart else body
		nongsm = [c for c in text
		    if ord(c) not in self.basic and ord(c) not in self.ext]
		gsm = not nongsm
		if gsm:
			# Escape pairs are whole items, so never split.
			items = [[c, 2 if ord(c) in self.ext else 1] for c in text]
			one, many, bits = 160, 153, 7
		else:
			items = []
			for g in self.graphemes(text):
				n = sum(2 if ord(c) > 0xFFFF else 1 for c in g)
				if n > 67:	# oversize cluster: code points
					items += [[c, 2 if ord(c) > 0xFFFF else 1]
					    for c in g]
				else:
					items.append([g, n])
			one, many, bits = 70, 67, 16
		units = sum(n for _, n in items)
		parts = [['', 0]]
		if units > one:
			for s, n in items:
				if parts[-1][1] + n > many:
					parts.append(['', 0])
				parts[-1][0] += s
				parts[-1][1] += n
		else:
			parts = [[text, units]]
		segs = len(parts)
		chars = units if gsm else len(self.graphemes(text))
		return {
			'encoding': 'GSM-7' if gsm else 'UCS-2',
			'segments': segs,
			'message_bits': bits * units,
			'total_bits': bits * units + (48 * segs if segs > 1 else 0),
			'chars': chars,
			'unicode_scalars': len(text),
			'units_per_segment': [n for _, n in parts],
			'last_part_text': parts[-1][0],
			'udh_octets_each_part': 6 if segs > 1 else 0,
			'first_char_code_units': self.first_units(text, gsm),
			'non_gsm_chars': nongsm,
			'all_chars_non_gsm': bool(text) and len(nongsm) == len(text),
			'body_after_smart': text,
		}

	def first_units(self, text, gsm):
		if not text:
			return []
		if gsm:
			# Only letters and digits, whose septet is their ASCII code.
			c = text[0]
			return [ord(c)] if c.isascii() and c.isalnum() else None
		b = self.graphemes(text)[0].encode('utf-16-le')
		return [int.from_bytes(b[i:i + 2], 'little')
		    for i in range(0, len(b), 2)]


def escape_controls(line):
	"""json.dumps leaves C1 controls, DEL, U+2028/9 raw: escape them too."""
	return ''.join('\\u%04x' % ord(c)
	    if 0x7F <= ord(c) <= 0x9F or ord(c) in (0x2028, 0x2029) else c
	    for c in line)


def main():
	rules = Rules()
	cases = load('twilio-calculator-cases.json')['cases']
	lines = []
	bad = []
	for c in cases:
		body = c['input']['body']
		smart = bool(c['input'].get('smart_encoding', False))
		rec = {'id': c['id'], 'source': c['source'], 'body': body,
		    'smart': smart, 'expect': c['expect']}
		if 'live' in c:
			rec['live'] = c['live']
		if 'note' in c:
			rec['note'] = c['note']
		ours = rules.analyze(body, smart)
		diff = {k: ours[k] for k, v in c['expect'].items()
		    if ours[k] != v}
		live = c.get('live', {}).get('twilio_num_segments')
		if live is not None and ours['segments'] != live:
			diff['segments'] = ours['segments']
		if diff:
			if c['id'] not in KNOWN:
				bad.append('%s: expect %s, our rules give %s' % (
				    c['id'], {k: c['expect'].get(k) for k in diff},
				    diff))
				continue
			rec['differs'] = KNOWN[c['id']]
			rec['ours'] = diff
		elif c['id'] in KNOWN:
			bad.append('%s: listed in KNOWN but agrees' % c['id'])
		lines.append(escape_controls(json.dumps(rec, ensure_ascii=False,
		    separators=(',', ':'))))
	if bad:
		sys.exit('mk-twilio-cases: unexplained:\n' + '\n'.join(bad))
	with open(OUT, 'w', encoding='utf-8', newline='\n') as f:
		for line in lines:
			f.write(line + '\n')
	print('mk-twilio-cases: %d vectors, %d marked differs -> %s' % (
	    len(lines), sum('"differs":' in l for l in lines),
	    os.path.relpath(OUT, ROOT)))


if __name__ == '__main__':
	main()
