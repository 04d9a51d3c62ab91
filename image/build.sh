#!/usr/bin/env bash
# Builds the Ardoise bench stick: a raw GPT disk image, written to a USB stick with dd, that
# boots on BIOS and UEFI PCs into the bench (daemon + dashboard on tty1).
#
#   image/build.sh ARDOISE_BINARY [OUTPUT_DIR]      (as root; `make image` calls it)
#
# Layout of ardoise-bench.img (docs/bench-image.md):
#   1  BIOS boot    1 MiB    GRUB core.img for BIOS PCs (boot.img in the MBR points at it)
#   2  ARDOISE-EFI  FAT32    EFI/BOOT/BOOTX64.EFI, boot/grub/grub.cfg, live/vmlinuz, live/initrd.img
#   3  ARDOISE-ROOT squashfs the Debian 12 system (read-only; a RAM overlay on top)
#   4  ARDOISE-DATA ext4     bench key, journal, certificates, ardoise.toml (persistent)
#
# Everything comes from Debian 12 packages (mmdebstrap) plus the ardoise binary given.
# Reproducible: SOURCE_DATE_EPOCH (default: the last commit's date) fixes every timestamp;
# partition and filesystem ids are derived from the commit; set DEBIAN_MIRROR to a
# snapshot.debian.org URL to pin the package versions.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
binary=${1:?usage: image/build.sh ARDOISE_BINARY [OUTPUT_DIR]}
out=${2:-$repo/build/image}
binary=$(readlink -f "$binary")

[ "$(id -u)" = 0 ] || { echo "image/build.sh: must run as root (mmdebstrap --mode=root, chroot)" >&2; exit 1; }
[ -x "$binary" ] || { echo "image/build.sh: no executable at $binary" >&2; exit 1; }

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm
DATA_MIB=${ARDOISE_DATA_MIB:-128}
MAX_IMAGE_MIB=700

commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 1700000000)}
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export LC_ALL=C.UTF-8 TZ=UTC

# Stable ids per commit (a stick of another release does not share them).
uid() { python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "https://ardoise.example/image/" + sys.argv[1] + "/" + sys.argv[2]))' "$commit" "$1"; }
DISK_GUID=$(uid disk); BIOS_PARTUUID=$(uid bios); ESP_PARTUUID=$(uid esp)
ROOT_PARTUUID=$(uid root); DATA_PARTUUID=$(uid data); DATA_FSUUID=$(uid data-fs)

step_t0=$(date +%s)
step() { local now; now=$(date +%s); echo "== [$((now - step_t0))s] $*"; }

work="$out/work"
root="$work/root"
mkdir -p "$out"
# ARDOISE_IMAGE_REUSE_ROOT=1 (development only) keeps the Debian tree of the previous run.
if [ "${ARDOISE_IMAGE_REUSE_ROOT:-0}" = 1 ] && [ -d "$root/usr" ]; then
    reuse=1; rm -rf "$work/esp" "$work/data" "$work"/*.img "$work/root.sqfs"
else
    reuse=0; rm -rf "$work"
fi
mkdir -p "$work" "$out/debs"

# --- 1. The binary must run without the Swift toolchain -------------------------------------
step "checking $binary"
if ldd "$binary" | grep -E 'swift|not found|Foundation|icu' ; then
    echo "image/build.sh: $binary links Swift runtime libraries (build it with --static-swift-stdlib)" >&2
    exit 1
fi

# --- 2. The Debian system -------------------------------------------------------------------
packages=$(grep -v '^\s*#' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
step "mmdebstrap $SUITE ($MIRROR): $packages"
# debconf answers: French keyboard and locale; no questions.
debconf_sel="$work/debconf.sel"
cat >"$debconf_sel" <<'EOF'
keyboard-configuration keyboard-configuration/layoutcode string fr
keyboard-configuration keyboard-configuration/xkb-keymap select fr(latin9)
keyboard-configuration keyboard-configuration/variant select Français - Français (variante)
keyboard-configuration keyboard-configuration/model select PC générique 105 touches
locales locales/locales_to_be_generated multiselect fr_FR.UTF-8 UTF-8, en_GB.UTF-8 UTF-8
locales locales/default_environment_locale select fr_FR.UTF-8
console-setup console-setup/charmap47 select UTF-8
console-setup console-setup/codeset47 select Guess optimal character set
EOF

[ "$reuse" = 1 ] && echo "   (reusing $root)" || mmdebstrap --mode=root --variant=minbase --format=directory \
    --include="$packages" \
    --aptopt='Acquire::Languages "none"' \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/fr/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in '$out/debs' /var/cache/apt/archives/" \
    --essential-hook="upload '$debconf_sel' /tmp/debconf.sel" \
    --essential-hook='chroot "$1" debconf-set-selections /tmp/debconf.sel && rm "$1"/tmp/debconf.sel' \
    --essential-hook='mkdir -p "$1"/etc/initramfs-tools' \
    --essential-hook="copy-in '$here/overlay/etc/initramfs-tools/conf.d' '$here/overlay/etc/initramfs-tools/hooks' '$here/overlay/etc/initramfs-tools/scripts' /etc/initramfs-tools" \
    --customize-hook="sync-out /var/cache/apt/archives '$out/debs'" \
    --skip=download/empty \
    "$SUITE" "$root" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main"

# --- 3. Ardoise, its units and the image's defaults -----------------------------------------
step "installing ardoise and the overlay"
install -D -m 0755 "$binary" "$root/usr/local/bin/ardoise"
strip --strip-unneeded "$root/usr/local/bin/ardoise"   # the symbols stay in the build tree
install -d "$root/usr/local/share/ardoise/profiles"
install -m 0644 "$repo"/Profiles/*.toml "$root/usr/local/share/ardoise/profiles/"
# The built-in health policy (found beside the binary, ../share/ardoise/policies): without it
# the daemon refuses to start (exit 88).
install -D -m 0644 "$repo/Policies/health-default.toml" "$root/usr/local/share/ardoise/policies/health-default.toml"
install -D -m 0644 "$repo/systemd/ardoise.service" "$root/etc/systemd/system/ardoise.service"
install -D -m 0644 "$repo/systemd/ardoise-dashboard.service" "$root/etc/systemd/system/ardoise-dashboard.service"
install -D -m 0644 "$repo/systemd/ardoise.tmpfiles" "$root/usr/lib/tmpfiles.d/ardoise.conf"
install -d "$root/usr/local/share/doc/ardoise"
install -m 0644 "$repo"/docs/*.md "$root/usr/local/share/doc/ardoise/"
cp -a --no-preserve=ownership "$here/overlay/." "$root/"
install -d -m 0700 "$root/var/lib/ardoise" "$root/etc/ardoise/profiles"

# Every library the binary needs must come from a Debian package of the image.
missing=$(chroot "$root" ldd /usr/local/bin/ardoise | awk '/not found/ { print $1 }')
[ -z "$missing" ] || { echo "image/build.sh: libraries missing in the image: $missing" >&2; exit 1; }
chroot "$root" ldd /usr/local/bin/ardoise | awk '{ print $1 }' | sort >"$out/ardoise-libs.txt"
# It runs there, without the Swift toolchain (Foundation needs /proc: a private mount).
unshare -m sh -c "mount -t proc proc '$root/proc' && chroot '$root' /usr/local/bin/ardoise profiles >/dev/null"

step "systemd units: enable the bench, disable everything that touches disks"
rm -f "$root"/etc/systemd/system/*.wants/ardoise-*.service   # a reused tree's old links
chroot "$root" systemctl enable ardoise-data.service ardoise.service ardoise-dashboard.service ardoise-e2e-status.service
# The store client's network: DHCP on wired interfaces (etc/systemd/network/) and a resolver;
# nothing waits for it (network-online.target is pulled by no unit of the image).
chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
# Nothing may touch a donated disk on its own: SMART polling, TRIM, ext4 scrub, volume
# auto-assembly (not installed: lvm2, mdadm, multipath, udisks2), swap on found partitions.
chroot "$root" systemctl disable smartmontools.service >/dev/null 2>&1   # also drops its alias smartd.service
for unit in smartmontools.service fstrim.timer fstrim.service e2scrub_all.timer \
            e2scrub_reap.service e2scrub_all.service getty@tty1.service serial-getty@ttyS0.service apt-daily.timer \
            apt-daily-upgrade.timer; do
    chroot "$root" systemctl mask "$unit" >/dev/null 2>&1
done
# The GPT auto-generator would mount or swap on partitions of the boot disk by type: off
# (also systemd.gpt_auto=0 on the kernel command line).
mkdir -p "$root/etc/systemd/system-generators"
ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-gpt-auto-generator"
chroot "$root" systemctl set-default multi-user.target
# No root password, no login needed: tty1 shows the bench; other ttys ask for a login that
# does not exist (root is locked) until a workshop sets one (docs/bench-image.md).
chroot "$root" passwd -l root >/dev/null
echo ardoise >"$root/etc/hostname"
: >"$root/etc/machine-id"   # generated in RAM at every boot

step "initramfs (squashfs root + RAM overlay; built when the kernel package was installed)"
kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
mkdir -p "$work/kernel"
if [ -e "$root/boot/vmlinuz-$kver" ]; then
    contents=$(unshare -m sh -c "mount -t proc proc '$root/proc' && chroot '$root' lsinitramfs '/boot/initrd.img-$kver'")
    for f in scripts/local-bottom/ardoise-overlay scripts/local-premount/ardoise-unique-root sbin/blkid; do
        grep -q "$f\$" <<<"$contents" || {
            echo "image/build.sh: the initramfs lacks $f (Ardoise hook and scripts)" >&2; exit 1; }
    done
    mv "$root/boot/vmlinuz-$kver" "$root/boot/initrd.img-$kver" "$work/kernel/"
fi
cp "$work/kernel/vmlinuz-$kver" "$out/vmlinuz"
cp "$work/kernel/initrd.img-$kver" "$out/initrd.img"

# Trim what a RAM-run bench never uses (the kernel and initramfs live on the EFI partition).
rm -rf "$root"/boot/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/lock "$root"/var/lib/apt/lists/* \
       "$root"/var/cache/debconf/*-old "$root"/var/log/*.log "$root"/tmp/*

# --- 4. The partitions --------------------------------------------------------------------
step "squashfs root"
mksquashfs "$root" "$work/root.sqfs" -comp zstd -Xcompression-level 6 -noappend -no-progress -quiet \
    -processors "$(nproc)" >/dev/null

cmdline="root=PARTUUID=$ROOT_PARTUUID rootfstype=squashfs ro ardoise.live systemd.gpt_auto=0 fsck.mode=skip noresume nosplash loglevel=3 console=tty1 console=ttyS0,115200"
echo "$cmdline" >"$out/cmdline"

step "EFI system partition (GRUB for UEFI and BIOS, kernel, initramfs)"
esp="$work/esp"
mkdir -p "$esp/EFI/BOOT" "$esp/boot/grub" "$esp/live"
cp "$out/vmlinuz" "$esp/live/vmlinuz"
cp "$out/initrd.img" "$esp/live/initrd.img"
sed -e "s|@CMDLINE@|$cmdline|" -e "s|@COMMIT@|${commit:0:12}|" "$here/grub.cfg.in" >"$esp/boot/grub/grub.cfg"
grub_modules="part_gpt part_msdos fat normal linux configfile echo test search search_fs_uuid serial terminal gzio xzio all_video sleep"
grub-mkimage -O x86_64-efi -o "$esp/EFI/BOOT/BOOTX64.EFI" -p /boot/grub $grub_modules efi_gop efi_uga
# BIOS: prefix "(,gpt2)" = partition 2 of the disk the BIOS booted.
grub-mkimage -O i386-pc -o "$work/core.img" -p '(,gpt2)/boot/grub' biosdisk $grub_modules
find "$esp" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
esp_kib=$(( ($(du -s --block-size=1K "$esp" | cut -f1) * 11 / 10 / 1024 + 16) * 1024 ))
[ "$esp_kib" -ge $((40 * 1024)) ] || esp_kib=$((40 * 1024))   # FAT32 needs >= 65525 clusters
# --invariant: fixed volume id (1234-ABCD) and label time; nothing boots by it (GRUB uses the
# partition it was loaded from, Linux the root's PARTUUID).
mkfs.fat -F 32 -n ARDOISE-EFI --invariant -C "$work/esp.img" "$esp_kib" >/dev/null
mcopy -s -m -i "$work/esp.img" "$esp"/* ::/

step "data partition ($DATA_MIB MiB, ext4, label ARDOISE-DATA)"
data="$work/data"
install -d -m 0700 "$data" "$data/certificates"
install -m 0600 "$here/overlay/usr/local/share/ardoise/ardoise.toml.default" "$data/ardoise.toml"
find "$data" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkfs.ext4 -q -L ARDOISE-DATA -U "$DATA_FSUUID" -E "hash_seed=$DATA_FSUUID,root_owner=0:0" \
    -d "$data" "$work/data.img" "${DATA_MIB}M"
# mkfs.ext4 -d copies each file's ctime (the time of this build): set every time to
# SOURCE_DATE_EPOCH so that the partition is the same from build to build.
for p in / lost+found certificates ardoise.toml; do
    for f in atime ctime mtime crtime; do
        echo "sif $p $f @$SOURCE_DATE_EPOCH"; echo "sif $p ${f}_extra 0"
    done
done >"$work/data-times.debugfs"
debugfs -w -f "$work/data-times.debugfs" "$work/data.img" >/dev/null 2>&1

# --- 5. The disk --------------------------------------------------------------------------
step "GPT disk image"
mib=$((1024 * 1024)); sec=512
size_mib() { echo $(( ($(stat -c %s "$1") + mib - 1) / mib )); }
bios_start=1; bios_mib=1
esp_start=$((bios_start + bios_mib)); esp_mib=$(size_mib "$work/esp.img")
root_start=$((esp_start + esp_mib)); root_mib=$(size_mib "$work/root.sqfs")
data_start=$((root_start + root_mib)); data_mib=$DATA_MIB
total_mib=$((data_start + data_mib + 1))
img="$out/ardoise-bench.img.tmp"
rm -f "$img"
truncate -s "${total_mib}M" "$img"
sfdisk --quiet --no-reread --no-tell-kernel "$img" <<EOF
label: gpt
label-id: $DISK_GUID
first-lba: 2048
start=$((bios_start * mib / sec)), size=$((bios_mib * mib / sec)), type=21686148-6449-6E6F-744E-656564454649, uuid=$BIOS_PARTUUID, name="BIOS"
start=$((esp_start * mib / sec)), size=$((esp_mib * mib / sec)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="ARDOISE-EFI"
start=$((root_start * mib / sec)), size=$((root_mib * mib / sec)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$ROOT_PARTUUID, name="ARDOISE-ROOT", attrs="GUID:60"
start=$((data_start * mib / sec)), size=$((data_mib * mib / sec)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$DATA_PARTUUID, name="ARDOISE-DATA"
EOF
dd if="$work/esp.img" of="$img" bs=1M seek="$esp_start" conv=notrunc,sparse status=none
dd if="$work/root.sqfs" of="$img" bs=1M seek="$root_start" conv=notrunc,sparse status=none
dd if="$work/data.img" of="$img" bs=1M seek="$data_start" conv=notrunc,sparse status=none
python3 "$here/grub_bios_install.py" "$img" /usr/lib/grub/i386-pc/boot.img "$work/core.img" $((bios_start * mib / sec)) $((bios_mib * mib / sec))
mv "$img" "$out/ardoise-bench.img"

cat >"$out/layout.env" <<EOF
# Written by image/build.sh; read by e2e/bench_e2e.py. Offsets and sizes in MiB.
COMMIT=$commit
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
ESP_START_MIB=$esp_start
ESP_MIB=$esp_mib
ROOT_START_MIB=$root_start
ROOT_MIB=$root_mib
DATA_START_MIB=$data_start
DATA_MIB=$data_mib
ROOT_PARTUUID=$ROOT_PARTUUID
EOF

[ "${ARDOISE_IMAGE_REUSE_ROOT:-0}" = 1 ] || rm -rf "$work"
size=$(stat -c %s "$out/ardoise-bench.img")
step "done: $out/ardoise-bench.img, $((size / mib)) MiB (root squashfs $root_mib MiB, EFI $esp_mib MiB, data $data_mib MiB)"
sha256sum "$out/ardoise-bench.img" | tee "$out/ardoise-bench.img.sha256"
if [ $((size / mib)) -ge $MAX_IMAGE_MIB ]; then
    echo "image/build.sh: the image is $((size / mib)) MiB, over the $MAX_IMAGE_MIB MiB target" >&2
    exit 1
fi
