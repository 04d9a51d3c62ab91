# Ardoise — the two commands a newcomer runs (as root, on Debian 12):
#   make demo   install what is needed, build, and run the bench demo on loop devices
#   make test   install what is needed and run the whole test suite
SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr/local
BUILD_FLAGS ?=

# Debian packages: C libraries Ardoise links against, and the tools the tests and the demo use.
DEBIAN_PACKAGES := pkg-config libblkid-dev libudev-dev libsmartcols-dev libsqlite3-dev \
	libhpdf-dev libqrencode-dev zlib1g-dev util-linux mount fdisk e2fsprogs udev tmux \
	poppler-utils zbar-tools python3 python3-pip smartmontools dmidecode edid-decode openssl \
	postgresql chromium curl
# Only for `make bench`: the peers Ardoise is measured against, and what measures start-up (strace), peak RSS and CPU
# (time), and the profiles at the end of the run (perf).
BENCH_PACKAGES := fio nwipe python3-cryptography strace time linux-perf
# Only for `make image` and `make e2e`: the stick builder and the emulated bench.
IMAGE_PACKAGES := mmdebstrap squashfs-tools grub-pc-bin grub-efi-amd64-bin mtools dosfstools \
	fdisk e2fsprogs binutils util-linux qemu-system-x86 ovmf python3
IMAGE_DIR ?= build/image
# The bench binary: release, Swift runtime linked in (the stick has no Swift toolchain).
STATIC_FLAGS := -c release --static-swift-stdlib
# The stick's binary for `make image` / `make e2e`: release (the default, what a workshop
# writes) or debug (CI: `make test` has compiled it already). Swift runtime linked in either way.
E2E_CONFIGURATION ?= release
IMAGE_SWIFT_FLAGS = -c $(E2E_CONFIGURATION) --static-swift-stdlib
# In debug, `make test` has already compiled every module against the shared runtime's Foundation,
# whose objects do not pull in Foundation's static dependencies: name them for the static link.
ifeq ($(E2E_CONFIGURATION),debug)
IMAGE_SWIFT_FLAGS += -Xlinker --start-group -Xlinker -lFoundation -Xlinker -lFoundationInternationalization \
	-Xlinker -lFoundationEssentials -Xlinker -lCoreFoundation -Xlinker -l_FoundationICU -Xlinker -l_FoundationCShims \
	-Xlinker -l_FoundationCollections -Xlinker -lBlocksRuntime -Xlinker -ldispatch -Xlinker -lswiftSynchronization \
	-Xlinker --end-group
endif

.PHONY: all deps bench-deps image-deps build release static image-binary demo test bench bench-store image e2e install clean

all: build

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@scripts/python-deps.sh

bench-deps: deps
	@missing=$$(for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

image-deps: deps
	@missing=$$(for p in $(IMAGE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product ardoise
	$(SWIFT) build $(BUILD_FLAGS) --product ardoise-store

release: deps
	$(SWIFT) build -c release --product ardoise

demo: release
	$(SWIFT) build -c release --product ardoise-store
	scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/ardoise"

# Test artifacts (the store's page screenshots) are kept here; the path is printed at the end.
TEST_ARTIFACTS ?= $(CURDIR)/out/test-artifacts

# The store's PostgreSQL tests run on a private cluster (scripts/test-postgres.sh), and the bench
# sender's contract tests against a real ardoise-store on SQLite (scripts/test-store.sh); both are
# started before the suite and removed after it, whatever the suite's outcome.
test: deps
	$(SWIFT) build --build-tests
	@mkdir -p "$(TEST_ARTIFACTS)"; \
	state=$$(mktemp /tmp/ardoise-test-pg-state.XXXXXX); \
	store_state=$$(mktemp /tmp/ardoise-test-store-state.XXXXXX); \
	trap 'scripts/test-postgres.sh stop "'"$$state"'"; scripts/test-store.sh stop "'"$$store_state"'"; echo "Test artifacts: $(TEST_ARTIFACTS)"' EXIT; \
	url=$$(scripts/test-postgres.sh start "$$state") || exit 1; \
	store_env=$$(scripts/test-store.sh start "$$store_state" "$$($(SWIFT) build --show-bin-path)") || exit 1; \
	env $$store_env ARDOISE_TEST_POSTGRES_URL="$$url" ARDOISE_TEST_REQUIRE_POSTGRES=1 ARDOISE_TEST_ARTIFACTS="$(TEST_ARTIFACTS)" \
		$(SWIFT) test --skip-build

static: deps
	$(SWIFT) build $(STATIC_FLAGS) --product ardoise

image-binary: deps
	@case "$(E2E_CONFIGURATION)" in release|debug) ;; *) echo "E2E_CONFIGURATION must be release or debug" >&2; exit 2;; esac
	$(SWIFT) build $(IMAGE_SWIFT_FLAGS) --product ardoise

# The bench stick (docs/bench-image.md): $(IMAGE_DIR)/ardoise-bench.img, to write with dd.
image: image-deps image-binary
	image/build.sh "$$($(SWIFT) build $(IMAGE_SWIFT_FLAGS) --show-bin-path)/ardoise" $(IMAGE_DIR)

# The whole bench on emulated hardware (QEMU): hot-plug, erasure, certificates, byte checks,
# inventory against the emulated SMBIOS, records sent to an ardoise-store on the host.
# The host's ardoise (bench key, verification) is the stick's; ardoise-store is built in the
# same configuration with the Swift runtime shared (its FoundationNetworking does not link
# statically: undefined CFURLSession* symbols), an extra link only after `make test`.
e2e: image
	$(SWIFT) build -c $(E2E_CONFIGURATION) --product ardoise-store
	python3 e2e/bench_e2e.py --image-dir $(IMAGE_DIR) \
		--ardoise "$$($(SWIFT) build $(IMAGE_SWIFT_FLAGS) --show-bin-path)/ardoise" \
		--ardoise-store "$$($(SWIFT) build -c $(E2E_CONFIGURATION) --show-bin-path)/ardoise-store" \
		--artifacts build/e2e

bench: bench-deps release
	bench/run.sh "$$($(SWIFT) build -c release --show-bin-path)/ardoise"

# The store's load benchmark (bench/store-load.py) on SQLite and on a private PostgreSQL cluster.
# STORE_LOAD_ARGS="--benches 2 --records 20 --output /tmp/store-smoke.md" for a quick check.
STORE_LOAD_ARGS ?=
bench-store: bench-deps
	$(SWIFT) build -c release --product ardoise-store
	@state=$$(mktemp /tmp/ardoise-test-pg-state.XXXXXX); \
	trap 'scripts/test-postgres.sh stop "'"$$state"'"' EXIT; \
	url=$$(scripts/test-postgres.sh start "$$state") || exit 1; \
	bench/store-load.py "$$($(SWIFT) build -c release --show-bin-path)/ardoise-store" --postgres "$$url" $(STORE_LOAD_ARGS)

install: release
	$(SWIFT) build -c release --product ardoise-store
	install -D -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/ardoise" $(DESTDIR)$(PREFIX)/bin/ardoise
	install -D -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/ardoise-store" $(DESTDIR)$(PREFIX)/bin/ardoise-store
	install -D -m 0644 systemd/ardoise-store.service $(DESTDIR)/etc/systemd/system/ardoise-store.service
	install -d $(DESTDIR)$(PREFIX)/share/ardoise/profiles
	install -m 0644 Profiles/*.toml $(DESTDIR)$(PREFIX)/share/ardoise/profiles/
	install -D -m 0644 Policies/health-default.toml $(DESTDIR)$(PREFIX)/share/ardoise/policies/health-default.toml
	install -D -m 0644 systemd/ardoise.service $(DESTDIR)/etc/systemd/system/ardoise.service
	install -D -m 0644 systemd/ardoise-dashboard.service $(DESTDIR)/etc/systemd/system/ardoise-dashboard.service
	install -D -m 0644 systemd/ardoise.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/ardoise.conf
	install -d -m 0755 $(DESTDIR)/etc/ardoise/profiles

clean:
	rm -rf .build
