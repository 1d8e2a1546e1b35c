# hnsensor — the two commands a new user runs are `make demo` and `make test`.
# Both first install the Debian packages the build needs (apt-get; root or sudo).

SWIFT    ?= swift
PACKAGES := libpcap-dev libvectorscan-dev libpcre2-dev libsqlite3-dev pkg-config tcpdump time python3-venv tcpreplay iproute2
# What the browser tests, the central store's tests (PostgreSQL: the tests start their own
# cluster) and the console's load benchmark need; a failed install only skips them, with the
# reason printed.
TEST_PACKAGES := chromium chromium-driver postgresql
BENCH_PACKAGES := wrk postgresql
RELEASE  := .build/release
DEMO_DIR := .demo

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONF  := $(DESTDIR)/etc/hnsensor

.PHONY: deps test-deps bench-deps build demo test fuzz captures bench clean install uninstall

# Installs the Debian packages of $(1) that are missing; if apt-get fails, runs $(2).
define apt_install
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; \
	  ( $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing ) \
	    || $(2); \
	fi
endef

deps:
	$(call apt_install,$(PACKAGES),exit 1)

SKIP_WARNING = echo "warning: could not install$$missing; the tests that need them print why they skip"

test-deps: deps
	$(call apt_install,$(TEST_PACKAGES),$(SKIP_WARNING))

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES),$(SKIP_WARNING))

# The OASIS STIX 2.1 validator (PyPI), used by the export tests; a failed install only
# skips that check, with a printed reason.
VENV := .build/venv
$(VENV)/bin/stix2_validator:
	@mkdir -p .build
	@python3 -m venv $(VENV) && $(VENV)/bin/pip install -q stix2-validator || echo "warning: stix2-validator not installed; the STIX export test will skip the OASIS validator"

build: deps
	$(SWIFT) build -c release --product hnsensor
	$(SWIFT) build -c release --product hncapgen

# Replays the bundled demo capture through the whole pipeline into a fresh store.
demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== hnsensor replay --config Config/hnsensor.yaml --rules Rules Captures/demo.pcap"
	@$(RELEASE)/hnsensor replay --config Config/hnsensor.yaml --rules Rules --eve $(DEMO_DIR)/eve.json \
	  --store $(DEMO_DIR)/incidents.db Captures/demo.pcap
	@echo
	@echo "== The most urgent incident (hnsensor incidents show ID --store $(DEMO_DIR)/incidents.db)"
	@id=$$($(RELEASE)/hnsensor incidents list --store $(DEMO_DIR)/incidents.db --format json | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2); \
	  $(RELEASE)/hnsensor incidents show $$id --store $(DEMO_DIR)/incidents.db | head -30
	@echo
	@echo "== EVE records by type ($(DEMO_DIR)/eve.json)"
	@grep -o '"event_type":"[a-z_]*"' $(DEMO_DIR)/eve.json | sort | uniq -c
	@echo
	@echo "== Alerts by signature"
	@grep '"event_type":"alert"' $(DEMO_DIR)/eve.json | grep -o '"signature":"[^"]*"' | sed 's/"signature"://' | sort | uniq -c | sort -rn || true
	@echo
	@echo "== Flows by end state"
	@grep -o '"state":"[a-z_]*","reason"' $(DEMO_DIR)/eve.json | sed 's/,"reason"//' | sort | uniq -c
	@echo
	@echo "Store: $(DEMO_DIR)/incidents.db  (try: $(RELEASE)/hnsensor incidents list --store $(DEMO_DIR)/incidents.db)"
	@echo
	@echo "== The analysts' console on this store"
	@echo "  $(RELEASE)/hnsensor users add analyst1 --role analyst --store $(DEMO_DIR)/incidents.db   (type a password of 12+ characters)"
	@echo "  $(RELEASE)/hnsensor serve --store $(DEMO_DIR)/incidents.db --config Config/hnsensor.yaml    then open http://127.0.0.1:9443/"

test: test-deps $(VENV)/bin/stix2_validator
	$(SWIFT) build --build-tests
	timeout 1800 $(SWIFT) test 2>&1 | tee .build/test.log
	@grep -q "Test run with .* passed" .build/test.log
	timeout 600 Tests/Browser/run.sh

# Fuzzing: every target for FUZZ_SECONDS (default 60) with libFuzzer and AddressSanitizer;
# fails on any crash, leak or timeout (reproducers in .build/fuzz-artifacts/).
fuzz: deps
	Tests/Fuzz/run.sh

# Whole-process benchmarks against the read floor (see BENCHMARKS.md).
bench: build bench-deps
	$(SWIFT) build -c release --product hncapgen
	Benchmarks/run.sh

# Regenerates the labelled captures in Captures/ (commit the result).
captures:
	$(SWIFT) build --product hncapgen
	.build/debug/hncapgen --out Captures

# Installs the binary, the default configuration (kept if present), the rules, the systemd
# unit, sysusers.d, tmpfiles.d and logrotate files. Then: systemd-sysusers, systemd-tmpfiles
# --create, edit /etc/hnsensor/hnsensor.yaml, systemctl enable --now hnsensor.
install: build
	install -D -m 0755 $(RELEASE)/hnsensor $(DESTDIR)$(PREFIX)/bin/hnsensor
	install -d -m 0755 $(SYSCONF)
	@if [ -f $(SYSCONF)/hnsensor.yaml ]; then echo "keeping $(SYSCONF)/hnsensor.yaml"; \
	  else install -m 0644 Config/hnsensor.yaml $(SYSCONF)/hnsensor.yaml; fi
	rm -rf $(SYSCONF)/rules.new && mkdir -p $(SYSCONF)/rules.new && cp -R Rules/. $(SYSCONF)/rules.new/
	rm -rf $(SYSCONF)/rules.old && if [ -d $(SYSCONF)/rules ]; then mv $(SYSCONF)/rules $(SYSCONF)/rules.old; fi
	mv $(SYSCONF)/rules.new $(SYSCONF)/rules
	install -D -m 0644 Systemd/hnsensor.service $(DESTDIR)/etc/systemd/system/hnsensor.service
	sed -i 's#/usr/local/bin/hnsensor#$(PREFIX)/bin/hnsensor#' $(DESTDIR)/etc/systemd/system/hnsensor.service
	install -D -m 0644 Systemd/hnsensor-serve.service $(DESTDIR)/etc/systemd/system/hnsensor-serve.service
	sed -i 's#/usr/local/bin/hnsensor#$(PREFIX)/bin/hnsensor#' $(DESTDIR)/etc/systemd/system/hnsensor-serve.service
	install -D -m 0644 Systemd/hnsensor-correlate.service $(DESTDIR)/etc/systemd/system/hnsensor-correlate.service
	sed -i 's#/usr/local/bin/hnsensor#$(PREFIX)/bin/hnsensor#' $(DESTDIR)/etc/systemd/system/hnsensor-correlate.service
	install -D -m 0644 Systemd/hnsensor.sysusers $(DESTDIR)/usr/lib/sysusers.d/hnsensor.conf
	install -D -m 0644 Systemd/hnsensor.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/hnsensor.conf
	install -D -m 0644 Systemd/hnsensor.logrotate $(DESTDIR)/etc/logrotate.d/hnsensor
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/hnsensor/README.md
	@echo "installed; next: systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload && systemctl enable --now hnsensor"
	@echo "the console: sudo -u hnsensor $(PREFIX)/bin/hnsensor users add NAME --role admin --config /etc/hnsensor/hnsensor.yaml; systemctl enable --now hnsensor-serve"

# Removes what install put in place; the configuration, the store and the logs stay.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hnsensor $(DESTDIR)/etc/systemd/system/hnsensor.service $(DESTDIR)/etc/systemd/system/hnsensor-serve.service \
	  $(DESTDIR)/etc/systemd/system/hnsensor-correlate.service \
	  $(DESTDIR)/usr/lib/sysusers.d/hnsensor.conf $(DESTDIR)/usr/lib/tmpfiles.d/hnsensor.conf $(DESTDIR)/etc/logrotate.d/hnsensor
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/hnsensor $(SYSCONF)/rules $(SYSCONF)/rules.old
	@echo "kept: $(SYSCONF)/hnsensor.yaml, /var/lib/hnsensor, /var/log/hnsensor"

clean:
	rm -rf .build $(DEMO_DIR)
