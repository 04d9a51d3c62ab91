#!/usr/bin/env python3
"""Installs GRUB's BIOS stages into a GPT disk image file, as grub-bios-setup does for a
disk, without a loop device: boot.img into the MBR's code area (the protective MBR's
partition table is kept), core.img into the BIOS boot partition, and the two sector
pointers patched (boot.img -> first sector of core.img; core.img's first-sector
blocklist -> the rest of core.img).

usage: grub_bios_install.py DISK_IMAGE BOOT_IMG CORE_IMG PART_START_LBA PART_SECTORS
"""
import struct
import sys

SECTOR = 512
KERNEL_SECTOR_OFFSET = 0x5C      # boot.S: kernel_sector (LBA of core.img, 8 bytes LE)
DRIVE_CHECK_OFFSET = 0x66        # boot.S: boot_drive_check (jmp replaced by 2 NOPs on disks)
MBR_CODE_END = 0x1B8             # bytes 440..511: disk signature and partition table, kept
BLOCKLIST_OFFSET = SECTOR - 12   # diskboot.S: first blocklist entry {u64 start, u16 len, u16 segment}
CORE_SEGMENT = 0x820             # GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20


def main() -> None:
    disk, boot_path, core_path, start_s, count_s = sys.argv[1:6]
    start, count = int(start_s), int(count_s)
    boot = bytearray(open(boot_path, "rb").read())
    core = bytearray(open(core_path, "rb").read())
    if len(boot) != SECTOR:
        sys.exit(f"{boot_path}: {len(boot)} bytes, expected {SECTOR}")
    if len(core) % SECTOR:
        core += bytes(SECTOR - len(core) % SECTOR)
    sectors = len(core) // SECTOR
    if sectors > count:
        sys.exit(f"core.img needs {sectors} sectors, the BIOS boot partition has {count}")
    if sectors - 1 > 0xFFFF:
        sys.exit("core.img too large for one blocklist entry")

    struct.pack_into("<Q", boot, KERNEL_SECTOR_OFFSET, start)
    boot[DRIVE_CHECK_OFFSET:DRIVE_CHECK_OFFSET + 2] = b"\x90\x90"
    struct.pack_into("<QHH", core, BLOCKLIST_OFFSET, start + 1, sectors - 1, CORE_SEGMENT)

    with open(disk, "r+b") as f:
        mbr = bytearray(f.read(SECTOR))
        if mbr[510:512] != b"\x55\xaa":
            sys.exit(f"{disk}: no protective MBR (write the partition table first)")
        mbr[:MBR_CODE_END] = boot[:MBR_CODE_END]
        f.seek(0)
        f.write(mbr)
        f.seek(start * SECTOR)
        f.write(core)
    print(f"GRUB BIOS stages: boot.img in the MBR, core.img ({sectors} sectors) at LBA {start}")


if __name__ == "__main__":
    main()
