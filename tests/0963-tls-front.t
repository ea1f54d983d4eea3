#!/bin/sh
# TLS in front (smsdesk(7); issue 23): the listener behind the shipped
# example configurations, etc/nginx/smsdesk.conf and etc/caddy/Caddyfile,
# each run from its Debian package as an unprivileged process, with a
# self-signed certificate made here, on 127.0.0.1. The configuration run
# is the shipped file with only its lines marked CHANGE set to this test's
# ports and paths (and, for Caddy, what keeps a test's Caddy to itself:
# no admin endpoint, no port 80), so what is shipped is what is tested.
#
# For each front (FRONTS chooses; both by default, a missing one skipped),
# the listener started with the options the file's opening comment gives:
# a webhook signed for the public https URL goes through and is stored,
# its query kept (Twilio's, and Plivo's, whose signature covers the URL
# too), the listener seeing /twilio; a forged one, one signed for the
# listener's own URL, and one whose forwarded headers name another URL
# are refused (403) and not stored; a body over 64 KiB is refused by the
# proxy, whether its length is said or not (nginx: never reaching the
# listener; Caddy streams a chunked body, cut off at the limit); a client
# that stops halfway through its body is cut off, not stored, and not
# told it was (nginx: never reaching the listener); nginx takes 32
# connections at once from one address, and no more.
. "$(dirname "$0")/lib.sh"

twilio_env 0963
umask 077
unset PLIVO_AUTH_ID PLIVO_FROM PLIVO_API_URL
PLIVO_AUTH_TOKEN=ptok-0963
export PLIVO_AUTH_TOKEN
fronts=${FRONTS:-nginx caddy}

command -v openssl >/dev/null ||
	{ skip 'TLS in front' 'no openssl'; done_testing; }

# Nginx and Caddy run as nobody when the test runs as root (CI): their
# directory theirs, the scratch directory passable, nothing else.
as=
if [ "$(id -u)" = 0 ]; then
	as='setpriv --reuid=nobody --regid=nogroup --clear-groups --'
	chmod 711 "$tmp"
fi

# The certificate of support.example.com, which curl is told to trust
# (--cacert) and reaches on 127.0.0.1 (--resolve).
name=support.example.com
mkdir -m 755 "$tmp/ssl"
check 'a self-signed certificate' \
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj /CN=$name -addext subjectAltName=DNS:$name \
	    -keyout '$tmp/ssl/key.pem' -out '$tmp/ssl/cert.pem' 2>&1"
chmod 644 "$tmp/ssl/cert.pem"
[ -n "$as" ] && chown nobody "$tmp/ssl/key.pem"

ib=$tmp/inbox
A=+15551230001
n=0

# stored ID: a message of provider id ID is in the inbox.
stored() {
	cat "$ib"/msg/*/* 2>/dev/null |
	    jq -se --arg id "$1" 'map(select(.provider_id == $id)) | length == 1'
}

# fpost PATH SIGNED-FOR BODY [CURL-ARG...]: POST the form BODY to the
# front's PATH (/sms/twilio...), over TLS, signed (X-Twilio-Signature) for
# the URL SIGNED-FOR. Prints the HTTP status (000: none).
fpost() {
	f_path=$1 f_for=$2 f_body=$3
	shift 3
	f_sig=$(printf '%s' "$f_body" | sign "$f_for")
	curl -s -o "$tmp/resp" -w '%{http_code}' --max-time 60 --http1.1 \
	    --cacert "$tmp/ssl/cert.pem" --resolve "$name:$fport:127.0.0.1" \
	    -H "X-Twilio-Signature: $f_sig" --data-binary "$f_body" "$@" \
	    "https://$name:$fport$f_path"
}

# body X [TEXT]: a new inbound message's form in $b, its MessageSid in
# $sid (SM0963X...).
body() {
	n=$((n + 1))
	sid=$(printf 'SM0963%s%026d' "$1" "$n")
	b=$(printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B15550100000&Body=%s' \
	    "$sid" "$AC" "${A#+}" "${2:-hello+over+TLS}")
}

# gen_nginx DIR: the shipped configuration with this test's lines, and a
# main configuration that keeps everything of nginx in DIR.
gen_nginx() {
	sed -e "s|^\(\tlisten\) 443 ssl;|\1 127.0.0.1:$fport ssl;|" \
	    -e "s|/etc/ssl/smsdesk/fullchain.pem|$tmp/ssl/cert.pem|" \
	    -e "s|/etc/ssl/smsdesk/privkey.pem|$tmp/ssl/key.pem|" \
	    -e "s|http://127.0.0.1:8080/;|http://127.0.0.1:$lport/;|" \
	    "$top/etc/nginx/smsdesk.conf" >"$1/smsdesk.conf"
	cat >"$1/nginx.conf" <<-EOF
	daemon off;
	worker_processes 1;
	pid $1/nginx.pid;
	error_log $1/error.log notice;
	events { worker_connections 256; }
	http {
		access_log $1/access.log;
		client_body_temp_path $1/body;
		proxy_temp_path $1/proxy;
		fastcgi_temp_path $1/fastcgi;
		uwsgi_temp_path $1/uwsgi;
		scgi_temp_path $1/scgi;
		include $1/smsdesk.conf;
	}
	EOF
}
run_nginx() {
	exec $as nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log"
}
nginx_up() { grep -qs 'start worker process' "$1/error.log"; }
nginx_taken() { grep -qs 'Address already in use' "$1/error.log"; }

# gen_caddy DIR: the same for Caddy; no admin endpoint (another Caddy on
# this machine has :2019), no redirects from port 80, its data in DIR.
gen_caddy() {
	sed -e "s|^{$|{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n\tstorage file_system $1/data|" \
	    -e "s|^$name {.*|https://$name:$fport {\n\tbind 127.0.0.1|" \
	    -e "s|/etc/ssl/smsdesk/fullchain.pem|$tmp/ssl/cert.pem|" \
	    -e "s|/etc/ssl/smsdesk/privkey.pem|$tmp/ssl/key.pem|" \
	    -e "s|reverse_proxy 127.0.0.1:8080 {|reverse_proxy 127.0.0.1:$lport {|" \
	    "$top/etc/caddy/Caddyfile" >"$1/Caddyfile"
}
run_caddy() {
	exec $as env HOME="$1" XDG_DATA_HOME="$1/data" XDG_CONFIG_HOME="$1/config" \
	    caddy run --adapter caddyfile --config "$1/Caddyfile" \
	    2>"$1/error.log"
}
caddy_up() { grep -qs 'serving initial configuration' "$1/error.log"; }
caddy_taken() { grep -qs 'address already in use' "$1/error.log"; }

for front in $fronts; do
	case $front in
	nginx|caddy) ;;
	*) fail "FRONTS: no front '$front'"; continue ;;
	esac
	command -v "$front" >/dev/null ||
		{ skip "$front in front" "no $front"; continue; }
	d=$tmp/$front
	mkdir -m 755 "$d"
	[ -n "$as" ] && chown nobody "$d"
	rm -rf "$ib"

	# The listener as the shipped file says to start it (the command in
	# its opening comment: its options, the public URL this test's), then
	# the front on a port of its own; both again on other ports while the
	# front's is taken.
	case $front in
	nginx) shipped=$top/etc/nginx/smsdesk.conf ;;
	caddy) shipped=$top/etc/caddy/Caddyfile ;;
	esac
	largs=$(sed -n '/^#[ \t]*sms-recv --listen/,/[^\\]$/p' "$shipped" |
	    sed 's/^#[ \t]*//; s/\\$//' | tr '\n' ' ')
	is "$front: the listener's command, as shipped" \
	    "$(echo $largs | cut -d' ' -f1-3)" 'sms-recv --listen 127.0.0.1:8080'
	largs=$(echo $largs | sed 's/^sms-recv --listen [^ ]* //')
	up=
	for try in 1 2 3 4 5 6 7 8 9 10; do
		fport=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
		public=https://$name:$fport/sms
		serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
		    $(echo $largs | sed "s|https://$name/sms|$public|") \
		    -p twilio,plivo || break
		lpid=$server lport=$port
		gen_$front "$d"
		rm -f "$d/error.log"
		[ -n "$as" ] && chown -R nobody "$d"
		run_$front "$d" >"$d/out" 2>&1 &
		fpid=$!
		pids="$pids $fpid"
		poll "${front}_up '$d' || ! kill -0 $fpid 2>/dev/null"
		if kill -0 "$fpid" 2>/dev/null && ${front}_up "$d"; then
			up=1
			break
		fi
		kill "$lpid" 2>/dev/null
		wait "$lpid" "$fpid"
		${front}_taken "$d" || break
	done
	if [ -z "$up" ]; then
		fail "$front in front: it starts"
		sed 's/^/# /' "$d/error.log" "$d/out" "$tmp/L.err" >&2
		continue
	fi
	pass "$front: starts from the shipped configuration, port $fport"
	if [ -n "$as" ]; then
		is "$front: runs as nobody (and its workers)" \
		    "$(ps -o user= -p "$fpid" --ppid "$fpid" | sort -u)" nobody
	fi
	# What the test changed: the lines marked CHANGE but the server's
	# name (nginx: listen, certificate, key, proxy_pass; Caddy: the
	# site's address, then bind; tls; reverse_proxy), and 4 lines of
	# Caddy's global options added.
	case $front in
	nginx) conf=$d/smsdesk.conf out=4 in=4 ;;
	caddy) conf=$d/Caddyfile out=3 in=8 ;;
	esac
	if [ "$front" = caddy ]; then
		check "$front: the shipped file as caddy fmt writes it" \
		    "caddy fmt '$shipped' | cmp - '$shipped'"
	fi
	diff "$shipped" "$conf" >"$tmp/diff"
	is "$front: $out lines of the shipped file changed" \
	    "$(grep -c '^<' "$tmp/diff")" "$out"
	# A line is marked by "# CHANGE" at its end or by a comment just
	# above it that starts with "CHANGE".
	diff --old-line-format='%dn
' --new-line-format= --unchanged-line-format= "$shipped" "$conf" \
	    >"$tmp/changed"
	is "$front: ... each marked CHANGE" "$(awk '
	    NR == FNR { want[$1] = 1; next }
	    /^[ \t]*#[ \t]*CHANGE/ { pending = 1; next }
	    /^[ \t]*#/ { next }
	    /^[ \t]*$/ { pending = 0; next }
	    { if ((FNR in want) && !pending && !/# CHANGE/) print FNR ": " $0
	      pending = 0 }' "$tmp/changed" "$shipped")" ""
	is "$front: $in lines in their place" "$(grep -c '^>' "$tmp/diff")" "$in"
	check "$front: the listener says the public URL" \
	    "grep -q 'public URL $public\$' '$tmp/L.err'"
	diag "$front: sms-recv $largs"

	# Signed for the public https URL: through, stored.
	body a
	is "$front: signed for $public/twilio: 200" \
	    "$(fpost /sms/twilio "$public/twilio" "$b")" 200
	check "$front: stored" "stored $sid"
	check "$front: the listener saw POST /twilio from the proxy, 200" \
	    "grep -q '^sms-recv: 127.0.0.1 POST /twilio 200 .* message ' '$tmp/L.err'"
	# The query goes as it came: the signature covers it.
	q='?x=1&y=a%2Fb&z=%C3%A9'
	body q
	is "$front: with a query, signed with it: 200" \
	    "$(fpost "/sms/twilio$q" "$public/twilio$q" "$b")" 200
	check "$front: stored" "stored $sid"
	check "$front: the listener saw the query" \
	    "grep -q '^sms-recv: 127.0.0.1 POST /twilio?... 200 ' '$tmp/L.err'"

	# Plivo's signature covers the URL too (hook signs as Plivo does).
	"$tools/hook" -f "$public/plivo" plivo "https://$name:$fport/sms/plivo" \
	    inbound id=pl-0963-$front body=hi curl.cacert="$tmp/ssl/cert.pem" \
	    curl.resolve="$name:$fport:127.0.0.1" >"$tmp/hook.cfg"
	is "$front: Plivo, signed for $public/plivo: 200" \
	    "$(curl -s -o "$tmp/resp" -w '%{http_code}' --http1.1 -K "$tmp/hook.cfg")" 200
	check "$front: stored" "stored pl-0963-$front"

	# Forged: signed with another token.
	body f
	is "$front: forged (another token): 403" \
	    "$(TWILIO_AUTH_TOKEN=not-$TOK fpost /sms/twilio "$public/twilio" "$b")" 403
	check "$front: not stored" "! stored $sid"
	# Signed for the listener's own URL behind the proxy.
	body l
	is "$front: signed for http://127.0.0.1:$lport/twilio: 403" \
	    "$(fpost /sms/twilio "http://127.0.0.1:$lport/twilio" "$b")" 403
	check "$front: not stored" "! stored $sid"
	# Signed for another URL, which forwarded headers claim.
	body x
	is "$front: signed for the URL forwarded headers name: 403" \
	    "$(fpost /sms/twilio https://evil.example/sms/twilio "$b" \
		-H 'X-Forwarded-Host: evil.example' -H 'X-Forwarded-Proto: https' \
		-H 'Forwarded: host=evil.example;proto=https' \
		-H 'X-Original-URL: https://evil.example/sms/twilio')" 403
	check "$front: not stored" "! stored $sid"
	is "$front: the listener refused those three itself" \
	    "$(grep -c 'POST /twilio 403 .*does not match' "$tmp/L.err")" 3

	# A body over 64 KiB, correctly signed: refused by the proxy, its
	# length said (Content-Length) or not (chunked). Nginx reads a
	# chunked body whole before it passes it on; Caddy streams it, and
	# cuts it off at the limit: the listener has seen its beginning, and
	# stores nothing.
	body b "$(head -c 70000 /dev/zero | tr '\0' a)"
	lines=$(wc -l <"$tmp/L.err")
	answered=$(grep -c ' POST /twilio [0-9]' "$tmp/L.err")
	is "$front: 70,000 bytes (Content-Length): 413" \
	    "$(fpost /sms/twilio "$public/twilio" "$b")" 413
	is "$front: the listener never saw it" "$(wc -l <"$tmp/L.err")" "$lines"
	is "$front: chunked: 413" \
	    "$(fpost /sms/twilio "$public/twilio" "$b" \
		-H 'Transfer-Encoding: chunked')" 413
	check "$front: neither stored" "! stored $sid"
	if [ "$front" = nginx ]; then
		is "$front: the listener never saw it" \
		    "$(wc -l <"$tmp/L.err")" "$lines"
	else
		is "$front: the listener answered it nothing" \
		    "$(grep -c ' POST /twilio [0-9]' "$tmp/L.err")" "$answered"
	fi
	# Just under the limit goes through.
	# (in fields of at most 32 KiB each, the listener's limit of one)
	body c
	pad=$(head -c 30000 /dev/zero | tr '\0' a)
	b="$b&Pad1=$pad&Pad2="
	b="$b$(head -c $((65536 - ${#b})) /dev/zero | tr '\0' a)"
	is "$front: 65,536 bytes: 200" \
	    "${#b}:$(fpost /sms/twilio "$public/twilio" "$b")" 65536:200
	check "$front: stored" "stored $sid"

	# A client that sends its headers and half its body, then nothing:
	# cut off by the proxy's deadline for a body (nginx: 10 s), or the
	# listener's (behind Caddy: idle for 5 s). Nginx reads a body whole
	# before the listener hears of it; Caddy streams it, and the
	# listener, which has seen its beginning, stores nothing.
	body s
	slow=$b
	lines=$(wc -l <"$tmp/L.err")
	rm -f "$tmp/slow"
	mkfifo "$tmp/slow"
	openssl s_client -quiet -connect "127.0.0.1:$fport" -servername "$name" \
	    -CAfile "$tmp/ssl/cert.pem" <"$tmp/slow" >"$tmp/slow.out" 2>&1 &
	spid=$!
	pids="$pids $spid"
	exec 3>"$tmp/slow"
	# (in a subshell: a write to a client that is gone kills only it)
	(printf 'POST /sms/twilio HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Twilio-Signature: %s\r\nContent-Length: %s\r\n\r\n%s' \
	    "$name:$fport" application/x-www-form-urlencoded \
	    "$(printf '%s' "$slow" | sign "$public/twilio")" "${#slow}" \
	    "$(printf '%s' "$slow" | cut -c1-50)" >&3)
	t0=$(date +%s)
	check "$front: a client stopped halfway: cut off" \
	    "poll '! kill -0 $spid 2>/dev/null'"
	t=$(($(date +%s) - t0))
	exec 3>&-
	kill "$spid" 2>/dev/null
	wait "$spid"
	check "$front: ... after its deadline (${t}s), not before" "test $t -ge 4"
	check "$front: ... not stored" "! stored $sid"
	check "$front: ... and not told it was (no 2xx)" \
	    "! grep -a '^HTTP/1.1 2' '$tmp/slow.out'"
	if [ "$front" = nginx ]; then
		is "$front: ... the listener never heard of it" \
		    "$(wc -l <"$tmp/L.err")" "$lines"
		check "$front: ... logged 408" \
		    "grep -q '\"POST /sms/twilio HTTP/1.1\" 408 ' '$d/access.log'"
	fi

	# 32 connections at once from one address, and no more (nginx:
	# limit_conn; Caddy holds none, the firewall does): 32 clients that
	# trickle a body, a byte every 2 s, hold their places, never reaching
	# the listener; the 33rd is refused (429) while they do, and once
	# they are gone a webhook goes through again.
	if [ "$front" = nginx ]; then
		lines=$(wc -l <"$tmp/L.err")
		writers= readers=
		i=0
		while [ $i -lt 32 ]; do
			i=$((i + 1))
			mkfifo "$tmp/trickle$i"
			openssl s_client -quiet -connect "127.0.0.1:$fport" \
			    -servername "$name" -CAfile "$tmp/ssl/cert.pem" \
			    <"$tmp/trickle$i" >/dev/null 2>&1 &
			readers="$readers $!"
			{
				printf 'POST /sms/twilio HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n' "$name:$fport"
				while printf a; do sleep 2; done
			} >"$tmp/trickle$i" 2>/dev/null &
			writers="$writers $!"
		done
		pids="$pids $readers $writers"
		body r
		check "$front: the 33rd connection from 127.0.0.1: 429" \
		    "poll 'test \$(fpost /sms/twilio https://wrong.example/ \"\$b\") = 429'"
		kill $writers $readers 2>/dev/null
		wait $writers $readers 2>/dev/null
		# (the 33rd's tries before the 429 get 403 there)
		is "$front: the 32 never reached the listener" \
		    "$(grep -v ' POST /twilio 403 ' "$tmp/L.err")" \
		    "$(head -n "$lines" "$tmp/L.err" | grep -v ' POST /twilio 403 ')"
		body r
		is "$front: once they are gone, a webhook goes through" \
		    "$(fpost /sms/twilio "$public/twilio" "$b")" 200
	else
		skip "$front: 32 connections from one address" \
		    'Caddy holds no such limit (its firewall rule: smsdesk(7))'
	fi

	# Anything but the webhooks: not proxied.
	is "$front: another path: 404" \
	    "$(fpost /metrics "$public/twilio" "$b")" 404

	kill "$fpid" "$lpid" 2>/dev/null
	wait "$fpid" "$lpid"
done

done_testing
