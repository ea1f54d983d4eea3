#!/bin/sh
# sms-recv(1) killed at random moments, for smsdesk(7), GUARANTEES:
# acknowledged means stored (a 200 means stored), nothing partial is shown,
# and a retry is stored once (a retried message id is one visible message).
#
# SLOW: about 30 to 60 s on a 2-core machine (it runs in `make check`).
#
# Every case of hook_cases (lib.sh: the carriers of $PROVIDERS, twilio
# telnyx plivo vonage, and Twilio's WhatsApp, twilio:whatsapp) at once:
# one listener serves each carrier on its own path (-p twilio,telnyx,...;
# WhatsApp comes on /twilio), and request i goes to case i mod N, so each
# gets its share (a fifth, for five) of the requests of every round, the
# kills landing in the middle of each one's requests; the time is that of
# one provider.
# A driver posts each provider's signed inbound webhooks, in its own
# format (tests/tools/hook, signed a batch at a time as it goes, so that a
# timestamp is never stale), as fast as it can, many at once (curl
# --parallel), each with a unique message id, about one in five a retry of
# an earlier one (Twilio's the same request, Telnyx's attempt 2, Plivo's
# and Vonage's with a new nonce), and logs every id answered 200. A killer
# SIGKILLs the listener after a random 5 to 200 ms and starts it again on
# the same port, at least 100 rounds however long they take (up to 200
# while the time budget lasts). Then, for each provider, every
# acknowledged id must be exactly one visible message of that provider
# (as inbox-ls shows a thread, duplicates folded by provider id), and
# every file under msg/ must be one whole record, in the conversation of
# the customer's number, with its channel (whatsapp, or none for an SMS);
# every number with a WhatsApp message stored has its profile name as
# its contact's name (each WhatsApp message comes from a number of its
# own, so that no later message of the number fills a name a kill cut
# short).
#
# The seed is printed; SMSDESK_SEED=N replays a run's choices (the kill
# times, replays and threads; not the scheduling). SMSDESK_CRASH_SECONDS
# changes the time budget (default 40), SMSDESK_CRASH_ROUNDS the least
# number of rounds (default 100; `make soak` raises both).
. "$(dirname "$0")/lib.sh"

carriers_env 0210

seed=${SMSDESK_SEED:-$$}
budget=$(rounds SMSDESK_CRASH_SECONDS 40)
min_rounds=$(rounds SMSDESK_CRASH_ROUNDS 100)
max_rounds=$((min_rounds * 2))
threads=20		# conversations the messages are spread over
pool=$((budget * 500))	# requests prepared (the driver stops early;
[ "$pool" -ge 60000 ] || pool=60000	# it takes about 270 a second)
batch=40		# requests per curl --parallel run
public=https://hooks.example	# what the requests are signed for
diag "seed=$seed (SMSDESK_SEED=$seed replays it)"

ib=$tmp/inbox
pid= dpid=
trap 'touch "$tmp/stop"; for p in $pid $dpid; do kill -9 "$p" 2>/dev/null; done;
	[ -n "$dpid" ] && wait "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT

# --- The requests: a pool of batches, signed as they go --------------------

# Each a line for hook -e: the case, inbound, the fields; the id's first
# two letters say the case (SM Twilio, wa Twilio's WhatsApp, tx Telnyx,
# pl Plivo, vn Vonage); a WhatsApp message comes from a number of its
# own, +1555701NNNN, with the profile name "WA +NUMBER".
mkdir "$tmp/batch"
perl -e '
	my ($seed, $n, $batch, $threads, $dir, @prov) = @ARGV;
	my %pre = (twilio => "SM", "twilio:whatsapp" => "wa",
	    telnyx => "tx", plivo => "pl", vonage => "vn");
	srand($seed);
	my (@req, $fh);
	for my $i (1 .. $n) {
		my $r;
		if ($i > 20 && rand() < 0.2) {
			$r = $req[int(rand(@req))];	# a provider retry
			$r = { %$r, replay => 1 };
		} else {
			my $p = $prov[$i % @prov];
			my $id = sprintf("%s%08x%024d", $pre{$p},
			    $seed % 4294967296, $i);
			$r = { p => $p, id => $id,
			    from => sprintf("+1555700%04d", int(rand($threads))) };
			$r->{from} = sprintf("+1555701%04d", $i % 10000)
			    if $p =~ /:whatsapp$/;
			push @req, $r;
		}
		if (($i - 1) % $batch == 0) {
			close $fh if $fh;
			open $fh, ">", sprintf("%s/%06d", $dir, int(($i - 1) / $batch) + 1) or die;
		}
		print $fh join("\t", $r->{p}, "inbound", "id=$r->{id}",
		    "from=$r->{from}", "to=+15550000000",
		    "body=crash test $r->{id}",
		    ($r->{p} =~ /:whatsapp$/ ? ("profile=WA $r->{from}") : ()),
		    "attempt=" . ($r->{replay} ? 2 : 1),
		    "curl.output=/dev/null",
		    "curl.write-out=%{http_code} $r->{id}" .
		    ($r->{replay} ? " replay" : "") . "\\n"), "\n";
	}
	close $fh;
' "$seed" "$pool" "$batch" "$threads" "$tmp/batch" $hook_cases ||
    { fail 'the requests are prepared'; done_testing; }

# hook signs as each provider's own signing tool does.
for P in $hook_cases; do
	grep -m 1 "^$P	" "$tmp/batch/000001" |
	    "$tools/hook" -e -f "$public" http://127.0.0.1:1 >"$tmp/one" ||
	    fail "$P: hook makes its webhook"
	sed -n 's/^data-raw = "\(.*\)"$/\1/p' "$tmp/one" |
	    sed 's/\\"/"/g; s/\\\\/\\/g' >"$tmp/one.body"
	hdr() { sed -n "s/^header = \"$1: \(.*\)\"$/\1/p" "$tmp/one"; }
	case $(hook_carrier "$P") in
	twilio)	want=$(tr -d '\n' <"$tmp/one.body" |
		    "$tools/twilio-sign" "$public/twilio")
		got=$(hdr X-Twilio-Signature) ;;
	telnyx)	want=$(tr -d '\n' <"$tmp/one.body" | "$tools/telnyx-sign" \
		    "$SMSDESK_SIM_TELNYX_SEED" "$(hdr telnyx-timestamp)" |
		    sed -n 's/^telnyx-signature-ed25519: //p')
		got=$(hdr telnyx-signature-ed25519) ;;
	plivo)	want=$(tr -d '\n' <"$tmp/one.body" | "$tools/plivo-sign" \
		    "$public/plivo" "$(hdr X-Plivo-Signature-V3-Nonce)")
		got=$(hdr X-Plivo-Signature-V3) ;;
	vonage)	want=$(sed 's/&sig=.*//' "$tmp/one.body" |
		    "$tools/vonage-sign" "$VONAGE_SIGNATURE_METHOD")
		got=$(cat "$tmp/one.body") ;;
	esac
	is "$P: the driver signs as $P-sign does" "$got" "$want"
done

# --- The listener, started and killed --------------------------------------

port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))

# start: run sms-recv on $port again, where the driver sends (serve in
# lib.sh, which moves to another port if this one stays taken for 2 s).
# Sets pid; $tmp/port says where it listens.
start() {
	s_port=$port serve_port=$port
	serve /dev/null "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
	    --public-url "$public" -p "$(hook_carriers $hook_cases)" ||
	    { pid= serve_port=; return 1; }
	pid=$server serve_port=
	[ "$port" = "$s_port" ] || rebinds=$((rebinds + 1))
	echo "$port" >"$tmp/port"
}

# The driver: batch after batch while the listener is up.
: >"$tmp/log"
(
	i=0
	while [ ! -e "$tmp/stop" ]; do
		if [ ! -e "$tmp/up" ]; then
			sleep 0.005
			continue
		fi
		i=$((i + 1))
		f=$tmp/batch/$(printf '%06d' "$i")
		[ -e "$f" ] || break
		# Signed now, for where the listener is now.
		"$tools/hook" -e -f "$public" "http://127.0.0.1:$(cat "$tmp/port")" \
		    <"$f" >"$tmp/run" 2>>"$tmp/hook.err"
		# curl 7.88 --parallel can hang with nothing left to do after
		# a connection is refused: bound every run.
		timeout -s KILL 10 curl -s --max-time 5 --parallel \
		    --parallel-max 16 -K "$tmp/run" >>"$tmp/log" 2>/dev/null
		[ $? -eq 137 ] && echo x >>"$tmp/stalls"
	done
) &
dpid=$!

# The kill delays, from the seed.
awk -v seed="$seed" -v n="$max_rounds" \
    'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.3f\n", (5 + int(rand() * 196)) / 1000 }' \
    >"$tmp/delays"

rounds=0 rebinds=0 startfail=0
t0=$(date +%s)
for d in $(cat "$tmp/delays"); do
	if ! start; then
		startfail=$((startfail + 1))
		break
	fi
	touch "$tmp/up"
	sleep "$d"
	rm -f "$tmp/up"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	pid=
	rounds=$((rounds + 1))
	elapsed=$(($(date +%s) - t0))
	# The rounds are the test, the budget only adds more: a loaded
	# machine takes longer, it does not run fewer.
	[ "$rounds" -ge "$min_rounds" ] && [ "$elapsed" -ge "$budget" ] && break
done
touch "$tmp/stop"
wait "$dpid"
dpid=
elapsed=$(($(date +%s) - t0))

# --- What the inbox shows ----------------------------------------------------

# Acknowledged: a whole "200 SID" line (a torn last line is ignored).
grep -E '^200 (SM|wa|tx|pl|vn)[0-9a-f]+( replay)?$' "$tmp/log" | cut -d' ' -f2 | sort -u >"$tmp/acked"
requests=$(grep -cE '^[0-9]{3} (SM|wa|tx|pl|vn)' "$tmp/log")
refused=$(grep -cE '^4[0-9][0-9] ' "$tmp/log")
failed5=$(grep -cE '^5[0-9][0-9] ' "$tmp/log")

# Every file under msg/ must be one record ending in a newline, with the
# body its id says, of the provider and channel its id says, in the
# conversation of its sender's number; what is on disk, per provider id,
# and the numbers that wrote on WhatsApp.
perl -MJSON::PP -e '
	my ($ib, $onfile, $badfile, $wafile) = @ARGV;
	my (%n, @bad, %wa);
	my %pv = (SM => "twilio", wa => "twilio", tx => "telnyx",
	    pl => "plivo", vn => "vonage");
	for my $f (glob("$ib/msg/*/*")) {
		open my $fh, "<", $f or do { push @bad, "$f: $!"; next };
		local $/;
		my $s = <$fh>;
		my $rec = eval {
			die "no newline at the end\n" unless $s =~ /\n\z/;
			die "more than one line\n" if ($s =~ tr/\n//) != 1;
			JSON::PP->new->utf8->decode($s);
		};
		if (!$rec || ref $rec ne "HASH") {
			push @bad, "$f: " . ($@ || "not an object\n");
			next;
		}
		my $id = $rec->{provider_id} // "";
		my $tag = substr($id, 0, 2);
		if ($rec->{type} ne "message" ||
		    ($pv{$tag} // "") ne ($rec->{provider} // "") ||
		    $rec->{body} ne "crash test $id") {
			push @bad, "$f: not the message sent\n";
			next;
		}
		if (($rec->{channel} // "") ne ($tag eq "wa" ? "whatsapp" : "") ||
		    $rec->{from} !~ /^\+155570[01][0-9]{4}\z/ ||
		    $rec->{thread} ne $rec->{from} ||
		    $f ne "$ib/msg/$rec->{thread}/$rec->{id}" ||
		    $rec->{to} ne "+15550000000") {
			push @bad, "$f: not its channel, or not in the " .
			    "conversation of its number\n";
			next;
		}
		$wa{$rec->{thread}} = 1 if $tag eq "wa";
		$n{$id}++;
	}
	open my $o, ">", $onfile or die;
	print $o "$n{$_} $_\n" for sort keys %n;
	open my $b, ">", $badfile or die;
	print $b @bad;
	open my $w, ">", $wafile or die;
	print $w "$_\n" for sort keys %wa;
' "$ib" "$tmp/ondisk" "$tmp/corrupt" "$tmp/wa" ||
    fail 'the inbox can be scanned'
corrupt=$(wc -l <"$tmp/corrupt" | tr -d ' ')
dup_disk=$(awk '$1 > 1' "$tmp/ondisk" | wc -l | tr -d ' ')

# What a reader sees: inbox-ls's thread view, which folds copies of one
# provider id (crash between message and ledger), else the same fold in jq.
if [ -x "$bin/inbox-ls" ]; then
	reader=inbox-ls
	: >"$tmp/visible"
	for t in $(ls "$ib/msg"); do
		"$bin/inbox-ls" -d "$ib" --json --no-mark "$t" >"$tmp/thread" 2>>"$tmp/ls.err" ||
		    echo "inbox-ls $t: exit $?" >>"$tmp/ls.err"
		jq -r 'select(.type == "message") | .provider_id' "$tmp/thread" >>"$tmp/visible"
	done
else
	reader='jq fold'
	: >"$tmp/ls.err"
	for t in $(ls "$ib/msg"); do
		cat "$ib/msg/$t"/* | jq -rs 'group_by(.provider_id) | .[] | .[0].provider_id'
	done >"$tmp/visible"
fi
sort "$tmp/visible" | uniq -c | awk '{ print $1, $2 }' >"$tmp/seen"
lost=$(awk 'NR == FNR { seen[$2] = 1; next } !($1 in seen)' "$tmp/seen" "$tmp/acked" | wc -l | tr -d ' ')
dup=$(awk '$1 > 1' "$tmp/seen" | wc -l | tr -d ' ')
unacked=$(awk 'NR == FNR { acked[$1] = 1; next } !($2 in acked)' "$tmp/acked" "$tmp/seen" | wc -l | tr -d ' ')
acked=$(wc -l <"$tmp/acked" | tr -d ' ')
tmpleft=$(find "$ib/tmp" -type f | wc -l | tr -d ' ')

diag "rounds=$rounds acked=$acked lost_acked=$lost corrupt_visible=$corrupt dup_visible=$dup stored_but_unacked=$unacked tmp_leftover=$tmpleft"
diag "seed=$seed elapsed_s=$elapsed requests=$requests visible=$(wc -l <"$tmp/seen" | tr -d ' ') dup_on_disk=$dup_disk answered_4xx=$refused answered_5xx=$failed5 rebinds=$rebinds driver_stalls=$(cat "$tmp/stalls" 2>/dev/null | wc -l | tr -d ' ') reader=$reader"

ok "$startfail" 'the listener came back every round'
check "at least $min_rounds rounds" "[ $rounds -ge $min_rounds ]"
# A few per round at least, even under a sanitizer on a loaded machine
# (a quiet one acknowledges thousands): the test is not vacuous.
check 'requests acknowledged in most rounds' "[ $acked -ge $((min_rounds / 2)) ]"
check 'no valid request refused (4xx)' "[ $refused -eq 0 ]"
[ -s "$tmp/hook.err" ] && head -n 5 "$tmp/hook.err" | sed 's/^/# hook: /' >&2
# Each case: its ids by their first two letters.
for P in $hook_cases; do
	case $P in
	twilio) x=SM ;; twilio:whatsapp) x=wa ;; telnyx) x=tx ;;
	plivo) x=pl ;; vonage) x=vn ;;
	esac
	grep "^$x" "$tmp/acked" >"$tmp/acked.$P"
	grep " $x" "$tmp/seen" >"$tmp/seen.$P"
	p_acked=$(wc -l <"$tmp/acked.$P" | tr -d ' ')
	p_lost=$(awk 'NR == FNR { seen[$2] = 1; next } !($1 in seen)' \
	    "$tmp/seen.$P" "$tmp/acked.$P" | wc -l | tr -d ' ')
	p_dup=$(awk '$1 > 1' "$tmp/seen.$P" | wc -l | tr -d ' ')
	diag "$P: acked=$p_acked lost_acked=$p_lost dup_visible=$p_dup visible=$(wc -l <"$tmp/seen.$P" | tr -d ' ') answered_4xx=$(grep -cE "^4[0-9][0-9] $x" "$tmp/log")"
	check "$P: its requests acknowledged in many rounds" \
	    "[ $p_acked -ge $((min_rounds / 2 / $(echo $hook_cases | wc -w))) ]"
	is "$P: lost_acked=0: every 200 is a stored message" "$p_lost" 0
	[ "$p_lost" -eq 0 ] || diag "lost, e.g.: $(awk 'NR == FNR { seen[$2] = 1; next } !($1 in seen)' "$tmp/seen.$P" "$tmp/acked.$P" | head -n 5 | tr '\n' ' ')"
	is "$P: dup_visible=0: a replayed or retried message id is shown once" \
	    "$p_dup" 0
done
is 'corrupt_visible=0: every file in msg/ is one whole record, of its provider' "$corrupt" 0
[ "$corrupt" -eq 0 ] || head -n 5 "$tmp/corrupt" | sed 's/^/# /' >&2
is "the reader ($reader) read every thread cleanly" "$(cat "$tmp/ls.err")" ''

# WhatsApp's profile name: kept before its message (cmd/sms-recv/store.c),
# so every number with a WhatsApp message stored has its name.
case " $hook_cases " in
*" twilio:whatsapp "*)
	unnamed=$(while read -r t; do
		[ "$(jq -r .name "$ib/contacts/$t" 2>/dev/null)" = "WA $t" ] ||
		    echo "$t"
	done <"$tmp/wa")
	diag "twilio:whatsapp: numbers=$(wc -l <"$tmp/wa" | tr -d ' ') unnamed=$(echo $unnamed | wc -w)"
	is 'twilio:whatsapp: unnamed=0: each number that wrote on WhatsApp has its profile name' \
	    "$(echo $unnamed | wc -w)" 0
	[ -z "$unnamed" ] || diag "unnamed, e.g.: $(echo $unnamed | cut -d ' ' -f 1-5)"
	;;
esac

# queue/, the index assign --next reads (smsdesk-inbox(5)): whatever the
# kills cut short, every conversation has the name its state gives it
# there (the index may hold more, never less).
for c in "$ib"/conv/*; do
	[ -f "$c" ] && tail -n 1 "$c"
done | jq -r 'if .status == "resolved" or .blocked_at != null then empty
	elif (.assignee // "") != "" then "a,\(.assignee),\(.thread)"
	elif .status == "open" or .status == "pending" then
	    "w,\(if (.waiting_since // "") != "" then .waiting_since
	    elif (.last_in_at // "") != "" then .last_in_at else "~" end),\(.thread)"
	else empty end' >"$tmp/qwant" 2>/dev/null ||
	fail 'the conversations can be read for their queue/ names'
qmissing=$(while read -r q; do
	[ -e "$ib/queue/$q" ] || echo "$q"
done <"$tmp/qwant" | wc -l | tr -d ' ')
diag "queue/: $(wc -l <"$tmp/qwant" | tr -d ' ') names wanted, $(ls "$ib/queue" | wc -l | tr -d ' ') there"
is 'queue_missing=0: every waiting conversation is in the index' "$qmissing" 0
check 'and there are some' "[ -s '$tmp/qwant' ]"
"$bin/sms-recv" -d "$ib" </dev/null >/dev/null 2>&1; inbox_check "$ib"	# after its replay

done_testing
