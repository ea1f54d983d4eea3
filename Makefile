# smsdesk: one GNU Makefile, no autotools, no recursion into directories.
# `make check` installs missing packages (deps), builds, and runs every test;
# `make asan` runs the same suite under AddressSanitizer + UBSan.

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
# The example configurations of etc/ (nginx and Caddy in front of the
# listener: smsdesk(7), TLS in front; systemd/smsdesk.env, the settings of
# the units).
EXAMPLEDIR ?= $(PREFIX)/share/doc/smsdesk/examples
# systemd's units (etc/systemd/, smsdesk(7) Running as a service) and the
# user they run as (sysusers.d).
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BUILD ?= build

# Debian 12 package names; `make deps` installs whichever are missing.
DEBS = gcc libc6-dev make pkg-config perl jq groff-base zsh curl \
	libcurl4-openssl-dev libjansson-dev libsodium-dev libmicrohttpd-dev \
	libutf8proc-dev libssl-dev zlib1g-dev tzdata time stress-ng \
	openssl nginx caddy systemd procps util-linux man-db strace
# Installed for their programs only (tests/0963 runs each as a process of
# its own, unprivileged, on 127.0.0.1): when deps installs one, its
# service is neither started (a policy-rc.d that says no, for the length
# of the install, unless the system has one) nor enabled at boot.
NOSERVICE = nginx caddy
# What `make fuzz` needs besides (clang, LLVM and libFuzzer), which
# it installs through deps when missing, so `make check` does not.
FUZZ_DEBS = clang libclang-rt-14-dev
PKGS = jansson libutf8proc libcrypto libsodium libmicrohttpd libcurl zlib

CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Werror \
	-Ilib -DSMSDESK_VERSION='"$(VERSION)"' \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# --as-needed: a program records only the libraries it uses (inbox-ls
# does not load libcrypto, libsodium or libmicrohttpd at every start).
LDLIBS += -Wl,--as-needed $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Relative relocations packed (DT_RELR): the loader reads 1 KB of them, not
# 60 KB, at every start of every program.
override LDFLAGS += -Wl,-z,pack-relative-relocs

ifdef FUZZER
override CFLAGS += -O1 -fno-omit-frame-pointer -Wno-error \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

ifdef SAN
override CFLAGS += -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

PROGS = segment sms-recv inbox-ls inbox-mark sms-sim sms-send assign \
	csat-survey inbox-contacts inbox-export inbox-check
LIBSRC = $(wildcard lib/*.c lib/*/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o) $(BUILD)/gen/rules-data.o
UNITSRC = $(wildcard tests/unit/*.c)
UNITS = $(UNITSRC:tests/unit/%.c=$(BUILD)/unit/%)
BINS = $(PROGS:%=$(BUILD)/bin/%)
# systemd's units, installed with the programs' directory, BINDIR,
# written in for @BINDIR@.
SYSTEMD = $(wildcard etc/systemd/*.service etc/systemd/*.timer)
TOOLSRC = $(wildcard tests/tools/*.c)
TOOLS = $(TOOLSRC:tests/tools/%.c=$(BUILD)/tools/%)
SHIMSRC = $(wildcard tests/shim/*.c)
SHIMS = $(SHIMSRC:tests/shim/%.c=$(BUILD)/tools/%.so)
# Fuzz harnesses, tests/fuzz/NAME.c: in `make check` each is linked with
# tests/fuzz/driver.c as $(BUILD)/tools/fuzz-NAME and run over its corpus,
# tests/fuzz/corpus/NAME/ (tests/0900-fuzz-corpus.t); `make fuzz` links
# them with libFuzzer instead.
FUZZSRC = $(filter-out tests/fuzz/driver.c,$(wildcard tests/fuzz/*.c))
FUZZ = $(FUZZSRC:tests/fuzz/%.c=%)
FUZZTOOLS = $(FUZZ:%=$(BUILD)/tools/fuzz-%)
FUZZ_TIME ?= 60
FUZZ_DIR = build/fuzz

# Quiet by default: one line a step ("CC lib/gsm.c", "LD build/bin/segment");
# V=1 shows every command in full. A compiler's errors and warnings show
# either way, after the line of the file they are in.
ifeq ($(V),1)
Q =
say = @:
else
Q = @
say = @printf '  %-6s %s\n'
endif

.DELETE_ON_ERROR:
.PHONY: all check test asan soak deps repeat install uninstall clean \
	bench bench-assign bench-due bench-inbox bench-providers bench-report \
	bench-send \
	bench-slow \
	demo fuzz fuzz-build fuzz-merge

all: $(BINS)

$(BUILD)/lib/%.o: lib/%.c lib/*.h lib/*/*.h
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The rule table and where numbers are (smsdesk-rules(5)): data/*.tsv,
# compiled into the library, so no program reads a file of them.
$(BUILD)/gen/rules-data.c: data/rules.tsv data/areas.tsv data/gen.awk
	@mkdir -p $(@D)
	$(say) GEN $@
	$(Q)awk -f data/gen.awk data/rules.tsv data/areas.tsv >$@

$(BUILD)/gen/rules-data.o: $(BUILD)/gen/rules-data.c lib/rules.h
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsmsdesk.a: $(LIBOBJ)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# A program is cmd/PROG.c, and the modules of its own, if it has any, in
# cmd/PROG/ (*.c, and *.h included as "PROG/name.h").
.SECONDEXPANSION:
$(BUILD)/bin/%: cmd/%.c $$(wildcard cmd/$$*/*.c cmd/$$*/*.h) \
		$(BUILD)/libsmsdesk.a lib/*.h
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -Icmd $(LDFLAGS) -o $@ $(filter %.c,$^) \
		$(BUILD)/libsmsdesk.a $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/*.h $(BUILD)/libsmsdesk.a lib/*.h
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libsmsdesk.a $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsmsdesk.a lib/*.h \
		tests/tools/*.h
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsmsdesk.a $(LDLIBS)

$(BUILD)/tools/fuzz-%: tests/fuzz/%.c tests/fuzz/driver.c tests/fuzz/*.h \
		tests/unit/*.h $(BUILD)/libsmsdesk.a lib/*.h
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) -o $@ $< tests/fuzz/driver.c \
		$(BUILD)/libsmsdesk.a $(LDLIBS)

# The same harnesses linked with libFuzzer (clang, under `make fuzz`).
$(BUILD)/fuzzers/%: tests/fuzz/%.c tests/fuzz/*.h tests/unit/*.h \
		$(BUILD)/libsmsdesk.a lib/*.h
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(BUILD)/libsmsdesk.a $(LDLIBS)

# LD_PRELOAD shims, preloaded into the programs under test: never built
# with the sanitizers, whose runtime must come first in a process.
$(BUILD)/tools/%.so: tests/shim/%.c
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# Tests find the programs through SMSDESK_BIN and their fixtures through
# SMSDESK_TESTDATA, so the same suite runs against either build.
# TESTS: what prove runs (every test unless set).
TESTS = $(UNITS) tests/*.t
test: $(BINS) $(UNITS) $(TOOLS) $(SHIMS) $(FUZZTOOLS)
	$(say) PROVE '$(words $(TESTS)) files'
	$(Q)SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin SMSDESK_TESTDATA=$(CURDIR)/tests/data \
	SMSDESK_TOOLS=$(CURDIR)/$(BUILD)/tools \
	PATH=$(CURDIR)/$(BUILD)/bin:$$PATH \
	prove $(PROVEFLAGS) $(TESTS)

check: deps
	$(Q)$(MAKE) --no-print-directory test

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 test

# Long runs of the suites that repeat random or racing cases, the counts
# raised through the environment (tests/lib.sh lists them); not in check.
SOAK_SECONDS = 600
SOAK_ROUNDS = 2000
SOAK_TESTS = $(BUILD)/unit/inbox-race tests/0210-sms-recv-crash.t \
	tests/0220-inbox-race.t tests/0310-inbox-mark.t \
	tests/0510-sms-send-crash.t tests/0700-assign.t
soak: deps
	$(Q)SMSDESK_CRASH_SECONDS=$(SOAK_SECONDS) \
	SMSDESK_CRASH_ROUNDS=$(SOAK_ROUNDS) \
	SMSDESK_RACE_ROUNDS=$(SOAK_ROUNDS) \
	SMSDESK_CLAIM_ROUNDS=$(SOAK_ROUNDS) \
	$(MAKE) --no-print-directory TESTS='$(SOAK_TESTS)' test

deps:
	@missing=; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
		policy=/usr/sbin/policy-rc.d; \
		if [ -e $$policy ]; then policy=; else \
			trap '$$sudo rm -f /usr/sbin/policy-rc.d' EXIT; \
			printf '#!/bin/sh\nexit 101\n' | \
			$$sudo tee $$policy >/dev/null && \
			$$sudo chmod 755 $$policy; fi; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
			--no-install-recommends $$missing; rc=$$?; \
		for s in $(NOSERVICE); do \
			case " $$missing " in *" $$s "*) \
			command -v systemctl >/dev/null && \
			$$sudo systemctl disable -q $$s.service 2>/dev/null;; \
			esac; \
		done; \
		exit $$rc; \
	fi

# Fuzzing with libFuzzer (clang): every harness of tests/fuzz/ for
# FUZZ_TIME seconds, one after the other, over a scratch copy of its corpus
# in build/fuzz/corpus/ (the committed corpus is never written); a line of
# figures per target, and a crash's input in build/fuzz/crashes/.
# FUZZ=NAME... runs only those. `make fuzz-merge` adds to tests/fuzz/corpus/
# the inputs of the last run that reach code the corpus does not.
fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ)

fuzz-build: deps
	@$(MAKE) --no-print-directory deps DEBS="$(FUZZ_DEBS)"
	$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=clang FUZZER=1 \
		$(FUZZ:%=$(FUZZ_DIR)/fuzzers/%)

fuzz-merge: fuzz-build
	tests/fuzz/run.sh -m $(FUZZ_DIR) $(FUZZ)

# The main job: the whole loop on the carrier simulator. See tests/demo.sh.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(say) DEMO tests/demo.sh
	$(Q)SMSDESK_BIN=$(BUILD)/bin tests/demo.sh

# Benchmarks, one after the other so they do not disturb each other.
bench: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin tests/bench/segment.sh
	$(MAKE) --no-print-directory bench-inbox
	$(MAKE) --no-print-directory bench-send
	$(MAKE) --no-print-directory bench-slow
	$(MAKE) --no-print-directory bench-assign
	$(MAKE) --no-print-directory bench-report
	$(MAKE) --no-print-directory bench-due

# Deliveries per second through sms-recv --listen against the disk's plain
# fsync rate, and inbox-ls on an inbox of 100,000 conversations.
bench-inbox: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/inbox.sh

# The listener for each provider (Twilio, Telnyx, Plivo), side by side:
# tests/bench/inbox.sh part (c).
bench-providers: $(BINS)
	SMSDESK_BENCH_PART=c SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/inbox.sh

# Messages per second and peak memory of sms-send against sms-sim, next to
# the official twilio library for Node and a curl loop; --rate held; then
# against a carrier answering after 200 ms, 256 requests in flight; and
# sms-send to sms-sim playing each provider, side by side (part p).
# send.sh's scratch directory is removed after send-latency.sh, not before
# it (tests/bench/lib.sh, drop_scratch).
bench-send: $(BINS)
	@rm -f $(BUILD)/bench-left
	SMSDESK_BENCH_LEAVE=$(CURDIR)/$(BUILD)/bench-left \
	    SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin tests/bench/send.sh; \
	    a=$$?; SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	    tests/bench/send-latency.sh; l=$$?; \
	    [ -f $(BUILD)/bench-left ] && xargs rm -rf <$(BUILD)/bench-left; \
	    rm -f $(BUILD)/bench-left; [ $$a = 0 ] && [ $$l = 0 ]

# assign --auto over 10,000 waiting conversations of 100,000 and 50 agents
# (wall time, peak memory), and assign --next at that backlog.
bench-assign: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/assign.sh

# csat-survey report over 90 days of history of 100,000 conversations and
# 1,000,000 messages (wall time, peak memory), next to jq, and again with
# the history twice as long.
bench-report: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/report.sh

# sms-send --due over 100,000 scheduled messages: the 1,000 due found and
# sent, and a run with nothing due, next to grep reading every message.
bench-due: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/due.sh

# Latency of valid webhooks while 1,000 slow or idle connections hold on,
# from one address and from many (SMSDESK_OLD_BIN: a build to compare).
bench-slow: $(BINS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin \
	SMSDESK_LIB=$(CURDIR)/$(BUILD)/libsmsdesk.a tests/bench/slow.sh

# The tests that depend on timing or on counts of calls, round after round
# under a CPU, pipe and disk load (see tests/repeat.sh): none may ever fail
# because the machine is busy. ROUNDS, JOBS and LOAD as tests/repeat.sh's
# -n, -j and -l; REPEAT: the files.
ROUNDS = 20
JOBS = 6
REPEAT = tests/0200-sms-recv.t tests/0210-sms-recv-crash.t \
	tests/0220-inbox-race.t tests/0230-sms-recv-hours.t \
	tests/0240-sms-recv-faults.t tests/0255-sms-recv-limits.t \
	tests/0320-inbox-mark-faults.t tests/0400-sms-sim.t tests/0500-sms-send.t \
	tests/0510-sms-send-crash.t tests/0540-sms-send-faults.t \
	tests/0550-loop.t tests/0430-sms-sim-schedule.t \
	tests/0660-sms-send-schedule.t tests/0665-sms-send-due-crash.t \
	tests/0680-idle-woke.t tests/0285-sms-recv-poll.t \
	tests/0292-media-kill.t tests/0299-vonage-recv.t \
	tests/0596-whatsapp-loop.t $(BUILD)/unit/httpd $(BUILD)/unit/inbox-race \
	$(BUILD)/unit/inbox-journal
repeat: deps $(BINS) $(UNITS) $(TOOLS) $(SHIMS)
	SMSDESK_BIN=$(CURDIR)/$(BUILD)/bin SMSDESK_TESTDATA=$(CURDIR)/tests/data \
	SMSDESK_TOOLS=$(CURDIR)/$(BUILD)/tools \
	PATH=$(CURDIR)/$(BUILD)/bin:$$PATH \
	tests/repeat.sh -n $(ROUNDS) -j $(JOBS) $(if $(LOAD),-l '$(LOAD)') \
		$(REPEAT)

install: $(BINS)
	$(say) INSTALL '$(DESTDIR)$(PREFIX)'
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(Q)install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	$(Q)install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	$(Q)install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	$(Q)install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7
	$(Q)install -d $(DESTDIR)$(EXAMPLEDIR)/nginx $(DESTDIR)$(EXAMPLEDIR)/caddy \
		$(DESTDIR)$(EXAMPLEDIR)/systemd
	$(Q)install -m 644 etc/nginx/smsdesk.conf $(DESTDIR)$(EXAMPLEDIR)/nginx
	$(Q)install -m 644 etc/caddy/Caddyfile $(DESTDIR)$(EXAMPLEDIR)/caddy
	$(Q)for p in $(PROGS); do \
		install -m 644 completions/bash/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p; \
		install -m 644 completions/zsh/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done
	$(Q)for u in $(SYSTEMD); do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	$(Q)install -m 644 etc/systemd/smsdesk.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/smsdesk.conf
	$(Q)install -m 644 etc/systemd/smsdesk.env $(DESTDIR)$(EXAMPLEDIR)/systemd

uninstall:
	$(say) RM '$(DESTDIR)$(PREFIX)'
	$(Q)for p in $(PROGS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
		$(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done
	$(Q)rm -f $(DESTDIR)$(MANDIR)/man5/sms-record.5 \
		$(DESTDIR)$(MANDIR)/man5/smsdesk-config.5 \
		$(DESTDIR)$(MANDIR)/man5/smsdesk-inbox.5 \
		$(DESTDIR)$(MANDIR)/man5/smsdesk-smstools.5 \
		$(DESTDIR)$(MANDIR)/man5/smsdesk-rules.5 \
		$(DESTDIR)$(MANDIR)/man7/smsdesk.7
	$(Q)rm -f $(SYSTEMD:etc/systemd/%=$(DESTDIR)$(UNITDIR)/%) \
		$(DESTDIR)$(SYSUSERSDIR)/smsdesk.conf
	$(Q)rm -f $(DESTDIR)$(EXAMPLEDIR)/nginx/smsdesk.conf \
		$(DESTDIR)$(EXAMPLEDIR)/caddy/Caddyfile \
		$(DESTDIR)$(EXAMPLEDIR)/systemd/smsdesk.env
	$(Q)rmdir $(DESTDIR)$(EXAMPLEDIR)/nginx $(DESTDIR)$(EXAMPLEDIR)/caddy \
		$(DESTDIR)$(EXAMPLEDIR)/systemd $(DESTDIR)$(EXAMPLEDIR) \
		2>/dev/null || :

clean:
	$(say) RM build
	$(Q)rm -rf build
