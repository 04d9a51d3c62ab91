#!/usr/bin/env bash
# Builds the replayed sysfs/proc trees used by DeviceKitTests (lsblk --sysroot style).
# Constructed from real machines' attribute layouts (AHCI SATA disk, NVMe SSD, USB stick);
# values are realistic but invented. Re-run from this directory to regenerate.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf sata-hdd nvme-ssd usb-stick

attr() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; }
keepdir() { mkdir -p "$1"; touch "$1/.keep"; }
# disk ROOT NAME DEVPATH DEV SECTORS LOGICAL PHYSICAL ROTA REMOVABLE DISKSEQ
# DEVPATH ends with the disk's name (…/block/sda for SCSI disks, …/nvme0/nvme0n1 for NVMe);
# its `device` link points two levels up for SCSI disks, one for NVMe, as on real machines.
disk() {
  local root=$1 name=$2 devpath=$3 dev=$4 sectors=$5 log=$6 phy=$7 rota=$8 rm=$9 seq=${10}
  local d="$root/sys/devices/$devpath"
  mkdir -p "$root/sys/block" "$d/queue"
  ln -s "../devices/$devpath" "$root/sys/block/$name"
  case "$devpath" in */block/*) ln -s ../.. "$d/device" ;; *) ln -s .. "$d/device" ;; esac
  attr "$d/dev" "$dev"; attr "$d/size" "$sectors"; attr "$d/ro" 0; attr "$d/removable" "$rm"
  attr "$d/diskseq" "$seq"; attr "$d/queue/logical_block_size" "$log"
  attr "$d/queue/physical_block_size" "$phy"; attr "$d/queue/rotational" "$rota"
  keepdir "$d/holders"; keepdir "$d/slaves"
  echo "$d"
}
# part DISKDIR NAME NUMBER DEV START SECTORS
part() {
  local p="$1/$2"
  attr "$p/partition" "$3"; attr "$p/dev" "$4"; attr "$p/start" "$5"; attr "$p/size" "$6"; keepdir "$p/holders"
}
vpd80() { mkdir -p "$(dirname "$1")"; python3 -c "import sys; s=sys.argv[1].encode(); sys.stdout.buffer.write(bytes([0,0x80,0,len(s)])+s)" "$2" > "$1"; }

# 1. A SATA hard disk behind AHCI (libata → SAT → sd), two partitions, nothing mounted.
d=$(disk sata-hdd sda pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda 8:0 1953525168 512 4096 1 0 3)
attr "$d/../../vendor" "ATA"; attr "$d/../../model" "ST1000DM010-2EP102"; attr "$d/../../rev" "CC43"
attr "$d/../../wwid" "naa.5000c500a1b2c3d4"; vpd80 "$d/../../vpd_pg80" "Z9A1B2C3"
part "$d" sda1 1 8:1 2048 1048576; part "$d" sda2 2 8:2 1050624 1952474511
mkdir -p sata-hdd/proc/self
cat > sata-hdd/proc/self/mountinfo <<'M'
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
M
printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' > sata-hdd/proc/swaps
attr sata-hdd/proc/cmdline "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 ro quiet"

# 2. An NVMe SSD holding the running system: /, /boot/efi, swap, named by root=.
d=$(disk nvme-ssd nvme0n1 pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1 259:0 976773168 512 512 0 0 1)
attr "$d/../model" "Samsung SSD 970 EVO Plus 500GB"; attr "$d/../serial" "S4EVNX0N123456A"
attr "$d/../firmware_rev" "2B2QEXM7"; attr "$d/wwid" "eui.0025385b91b2c3d4"
part "$d" nvme0n1p1 1 259:1 2048 1048576; part "$d" nvme0n1p2 2 259:2 1050624 958396416
part "$d" nvme0n1p3 3 259:3 959447040 17326080
mkdir -p nvme-ssd/proc/self
cat > nvme-ssd/proc/self/mountinfo <<'M'
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
25 22 259:1 / /boot/efi rw,relatime shared:5 - vfat /dev/nvme0n1p1 rw,fmask=0077
26 22 0:25 / /run rw,nosuid,nodev shared:6 - tmpfs tmpfs rw,size=1617700k
M
printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/nvme0n1p3                          partition\t8663036\t\t0\t\t-2\n' > nvme-ssd/proc/swaps
attr nvme-ssd/proc/cmdline "BOOT_IMAGE=/vmlinuz-6.1.0-26-amd64 root=/dev/nvme0n1p2 ro quiet"

# 3. A USB stick (usb-storage → SCSI disk) with a mounted FAT partition.
usb=pci0000:00/0000:00:14.0/usb2/2-1
d=$(disk usb-stick sdb $usb/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb 8:16 60063744 512 512 1 1 7)
attr "$d/../../vendor" "SanDisk"; attr "$d/../../model" "Ultra Fit"; attr "$d/../../rev" "1.00"
attr "usb-stick/sys/devices/$usb/idVendor" "0781"; attr "usb-stick/sys/devices/$usb/serial" "4C530001234567891234"
part "$d" sdb1 1 8:17 2048 60061696
mkdir -p usb-stick/proc/self
cat > usb-stick/proc/self/mountinfo <<'M'
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
40 22 8:17 / /media/technicien/CLE\040USB rw,nosuid,nodev shared:200 - vfat /dev/sdb1 rw,uid=1000
M
printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' > usb-stick/proc/swaps
attr usb-stick/proc/cmdline "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 ro quiet"
