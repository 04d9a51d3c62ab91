# Ardoise — the two commands a newcomer runs (as root, on Debian 12):
#   make demo   install what is needed, build, and run the bench demo on loop devices
#   make test   install what is needed and run the whole test suite
SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr/local
BUILD_FLAGS ?=

# Debian packages: C libraries Ardoise links against, and the tools the tests and the demo use.
DEBIAN_PACKAGES := pkg-config libblkid-dev libudev-dev libsmartcols-dev libsqlite3-dev \
	libhpdf-dev libqrencode-dev util-linux mount fdisk e2fsprogs udev tmux \
	poppler-utils zbar-tools python3 python3-pip
# Only for `make bench`: the peers Ardoise is measured against.
BENCH_PACKAGES := fio nwipe
# Only for `make image` and `make e2e`: the stick builder and the emulated bench.
IMAGE_PACKAGES := mmdebstrap squashfs-tools grub-pc-bin grub-efi-amd64-bin mtools dosfstools \
	fdisk e2fsprogs binutils util-linux qemu-system-x86 ovmf python3
IMAGE_DIR ?= build/image
# The bench binary: release, Swift runtime linked in (the stick has no Swift toolchain).
STATIC_FLAGS := -c release --static-swift-stdlib

.PHONY: all deps bench-deps image-deps build release static demo test bench image e2e install clean

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

release: deps
	$(SWIFT) build -c release --product ardoise

demo: release
	scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/ardoise"

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

static: deps
	$(SWIFT) build $(STATIC_FLAGS) --product ardoise

# The bench stick (docs/bench-image.md): $(IMAGE_DIR)/ardoise-bench.img, to write with dd.
image: image-deps static
	image/build.sh "$$($(SWIFT) build $(STATIC_FLAGS) --show-bin-path)/ardoise" $(IMAGE_DIR)

# The whole bench on emulated hardware (QEMU): hot-plug, erasure, certificates, byte checks.
e2e: image
	python3 e2e/bench_e2e.py --image-dir $(IMAGE_DIR) \
		--ardoise "$$($(SWIFT) build $(STATIC_FLAGS) --show-bin-path)/ardoise" --artifacts build/e2e

bench: bench-deps release
	bench/run.sh "$$($(SWIFT) build -c release --show-bin-path)/ardoise"

install: release
	install -D -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/ardoise" $(DESTDIR)$(PREFIX)/bin/ardoise
	install -d $(DESTDIR)$(PREFIX)/share/ardoise/profiles
	install -m 0644 Profiles/*.toml $(DESTDIR)$(PREFIX)/share/ardoise/profiles/
	install -D -m 0644 systemd/ardoise.service $(DESTDIR)/etc/systemd/system/ardoise.service
	install -D -m 0644 systemd/ardoise-dashboard.service $(DESTDIR)/etc/systemd/system/ardoise-dashboard.service
	install -D -m 0644 systemd/ardoise.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/ardoise.conf
	install -d -m 0755 $(DESTDIR)/etc/ardoise/profiles

clean:
	rm -rf .build
