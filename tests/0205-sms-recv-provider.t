#!/bin/sh
# sms-recv knows no carrier by name: what it needs of one (its name, its
# webhook path, where its signing secret is kept, the default) comes from
# the provider interface, lib/provider.h. Comments included.
. "$(dirname "$0")/lib.sh"

cd "$top" || exit 1
is 'no file of sms-recv names a carrier' \
	"$(grep -n -i -e twilio -e twiml cmd/sms-recv.c cmd/sms-recv/*)" ''
check 'the files are there (the grep looks at something)' \
	'test -s cmd/sms-recv.c && test -s cmd/sms-recv/store.c'

done_testing
