# wholeself - plain make. See README.md and STYLE.md.
CC      ?= gcc
PKGS    := libgit2 libcmark yaml-0.1 libmicrohttpd libxxhash
TPKGS   := $(PKGS) criterion libxml-2.0
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion \
           -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
           -Wformat=2 -Wvla -Wwrite-strings -Wundef -Wpointer-arith
WS_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(WERROR) -MMD -MP -pthread
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
VERSION := 0.1.0

BUILD   ?= build
SRCS    := $(filter-out generator/main.c,$(wildcard generator/*.c))
OBJS    := $(SRCS:generator/%.c=$(BUILD)/obj/%.o)
TSRCS   := $(wildcard tests/*.c tests/fuzz/driver.c)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)
TOBJS   := $(TSRCS:%.c=$(BUILD)/%.o) $(FUZZSRC:%.c=$(BUILD)/%.o)

DEPS_CFLAGS = $(shell pkg-config --cflags $(TPKGS) 2>/dev/null)
LIBS        = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
TLIBS       = $(shell pkg-config --libs $(TPKGS)) -lpthread -lm

.PHONY: all run test browser-test check asan fuzz bench bench-compare clean format deps install uninstall demo

all: $(BUILD)/wholeself

$(BUILD)/obj/%.o: generator/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WS_CFLAGS) -DWS_VERSION='"$(VERSION)"' -DWS_PREFIX='"$(PREFIX)"' $(CFLAGS) $(DEPS_CFLAGS) -c $< -o $@

$(BUILD)/libws.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/wholeself: $(BUILD)/obj/main.o $(BUILD)/libws.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WS_CFLAGS) -Wno-missing-prototypes -Igenerator -Itests $(CFLAGS) $(DEPS_CFLAGS) -c $< -o $@

$(BUILD)/tests/run: $(TOBJS) $(BUILD)/libws.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(TLIBS)

# Install the -dev packages a fresh Debian machine lacks (through sudo when not root).
deps:
	@./.ci/deps

run: deps
	$(MAKE) all
	$(MAKE) demo

demo: $(BUILD)/wholeself
	@./.ci/demo $(BUILD)/wholeself

test: $(BUILD)/tests/run $(BUILD)/wholeself
	WS_BIN=$(CURDIR)/$(BUILD)/wholeself WS_ROOT=$(CURDIR) $(BUILD)/tests/run $(TESTFLAGS)
	@if [ -x /usr/bin/chromium ] && command -v node >/dev/null 2>&1 && [ -d tests/browser/node_modules ]; then \
	  $(MAKE) --no-print-directory browser-test; \
	else echo 'browser test: skipped (needs /usr/bin/chromium, node, and `npm ci` in tests/browser)'; fi

# The demo site in headless Chromium: axe-core, the filter, no outside requests.
browser-test: $(BUILD)/wholeself
	WS_BIN=$(CURDIR)/$(BUILD)/wholeself WS_ROOT=$(CURDIR) node tests/browser/run.js

check:
	$(MAKE) WERROR=-Werror test

# The suite, the demo build and `check` under ASan+UBSan (.ci/run; no browser
# test). Every sanitizer report goes to build/asan/reports/, also those of
# the binaries the tests start (the tests capture their stderr), and any
# report fails the target. build/asan/wholeself has no ../themes next to
# it, so the themes come from WHOLESELF_THEMES (docs/themes.md).
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_REPORTS = $(CURDIR)/build/asan/reports
# -j1: with more workers Criterion 2.4's runner leaks 48 bytes (LeakSanitizer).
ASAN_JOBS ?= 1
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$(ASAN_REPORTS)/asan \
  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_REPORTS)/ubsan \
  WHOLESELF_THEMES=$(CURDIR)/themes WS_BIN=$(CURDIR)/build/asan/wholeself WS_ROOT=$(CURDIR)
asan:
	@mkdir -p build/asan
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build/asan/tests/run build/asan/wholeself
	@rm -rf $(ASAN_REPORTS) build/asan/public && mkdir -p $(ASAN_REPORTS)
	@echo 'asan: test suite (log: build/asan/test.log)'
	@$(ASAN_ENV) build/asan/tests/run -j$(ASAN_JOBS) > build/asan/test.log 2>&1; \
	  rc=$$?; tail -n 3 build/asan/test.log; \
	  if [ $$rc -ne 0 ]; then grep -E '^\[FAIL\]' build/asan/test.log | head -20; fi; \
	  $(ASAN_ENV) ./.ci/demo build/asan/wholeself build/asan/public || rc=1; \
	  $(ASAN_ENV) build/asan/wholeself check --content content || rc=1; \
	  if [ -n "$$(ls $(ASAN_REPORTS))" ] || grep -qE 'Sanitizer|runtime error' build/asan/test.log; then \
	    grep -E -A20 'Sanitizer|runtime error' build/asan/test.log | head -40; \
	    for f in $(ASAN_REPORTS)/*; do [ -f "$$f" ] && { echo "== $$f"; head -n 30 "$$f"; }; done; \
	    rc=1; echo 'asan: sanitizer reports (build/asan/reports/)'; fi; \
	  if [ $$rc -ne 0 ]; then echo 'asan: FAILED'; exit 1; fi
	@echo 'asan: clean'

fuzz:
	@./tests/fuzz/run $(T) $(SECS)

bench: $(BUILD)/wholeself $(BUILD)/bench/mustache $(BUILD)/bench/history $(BUILD)/bench/match
	@BUILD=$(BUILD) ./bench/run

bench-compare: $(BUILD)/wholeself
	@./bench/compare.sh $(BUILD)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libws.a
	@mkdir -p $(dir $@)
	$(CC) $(WS_CFLAGS) -Igenerator $(CFLAGS) $(DEPS_CFLAGS) -o $@ $^ $(LIBS)

install: $(BUILD)/wholeself
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/wholeself/themes $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/wholeself $(DESTDIR)$(PREFIX)/bin/wholeself
	cp -R themes/. $(DESTDIR)$(PREFIX)/share/wholeself/themes/
	install -m 644 docs/wholeself.1 $(DESTDIR)$(PREFIX)/share/man/man1/wholeself.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/wholeself $(DESTDIR)$(PREFIX)/share/man/man1/wholeself.1
	rm -rf $(DESTDIR)$(PREFIX)/share/wholeself

format:
	clang-format -i generator/*.c generator/*.h tests/*.c tests/*.h tests/fuzz/*.c bench/*.c

clean:
	rm -rf build public

-include $(OBJS:.o=.d) $(TOBJS:.o=.d) $(BUILD)/obj/main.d
