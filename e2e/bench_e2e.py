#!/usr/bin/env python3
"""End-to-end test of the Ardoise bench stick on emulated hardware (QEMU, TCG).

    e2e/bench_e2e.py --image-dir build/image --ardoise .build/release/ardoise [--artifacts DIR]

Boot 1 (direct kernel boot of the stick's own kernel, initramfs and root partition, to save
CI time): hot-plugs drives of every transport through QMP — NVMe, USB mass storage
(usb-storage on qemu-xhci), SCSI (virtio-scsi), virtio-blk — each an image file this script
created and filled with a known pattern, with distinct serials, plus a read-only drive the
bench must protect. The daemon (auto policy, profiles below) erases and certifies each; one
USB drive is pulled mid-erasure and a different one plugged into the same port. After an
ACPI power-off, the host checks every image byte by byte and reads the certificates from the
stick's data partition (ARDOISE-DATA), verifying each with the host's `ardoise cert verify`.

Boot 2: the unmodified stick image through its own boot loader under OVMF (UEFI): GRUB,
kernel, initramfs, data partition, daemon and dashboard, checked on the serial console and
on the data partition after power-off.

Every file and process is this script's own: a temporary directory under /var/tmp holds the
images, QEMU processes are stopped by PID. No host block device is ever given to QEMU.
Steps for the inventory (-smbios) and the store (guestfwd) are listed in STEPS_NOT_YET.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024

# What the issue asks that needs work not on this branch yet (reported, never faked).
STEPS_NOT_YET = [
    "inventory: -smbios type=1/3/17 values checked against the guest's `ardoise inventory` (no inventory command yet)",
    "store: guestfwd to a store on the host's 127.0.0.1, every certificate arrived and verifies (no store yet)",
]

# The bench configuration written on the test stick's data partition.
E2E_CONFIG = """\
# Written by e2e/bench_e2e.py on the test copy of the stick.
[bench]
id = "e2e-bench"
name = "Banc e2e"
language = "fr"

[organisation]
name = "Ardoise CI"

[session]
technician = "CI"
lot = "e2e"

[policy]
mode = "auto"
grace-seconds = 2
on-replug = "restart"
max-concurrent-jobs = 8

[profiles]
ssd = "nist-800-88-purge"
hdd = "zero"
usb = "zero"
default = "zero"

[paths]
data-directory = "/var/lib/ardoise"
output-directory = "/var/lib/ardoise/certificates"
control-socket = "/run/ardoise/control.sock"
"""


@dataclass
class Drive:
    """One emulated drive: an image file filled with a known pattern and its QEMU device."""

    name: str                 # QEMU device id and node name suffix
    kind: str                 # nvme | usb | scsi | virtio
    serial: str
    size_mib: int
    expect: str               # erased | interrupted | protected
    accept_exceptions: bool = False   # a profile fallback may certify "erased_with_exceptions"
    final_byte: int | None = 0x00   # the profile's final pattern for erased drives
    read_only: bool = False
    extra: dict = field(default_factory=dict)
    path: Path | None = None
    original_sha256: str = ""
    certificate: dict | None = None

    def pattern_block(self) -> bytes:
        # 1 MiB of a pattern unique to the drive: its serial, then a counter.
        seed = hashlib.sha256(self.serial.encode()).digest()
        block = bytearray()
        while len(block) < MIB:
            block += seed
            seed = hashlib.sha256(seed).digest()
        return bytes(block[:MIB])


class QMP:
    """A minimal QMP client (QEMU Machine Protocol, JSON lines over a Unix socket)."""

    def __init__(self, path: Path, log, process: subprocess.Popen | None = None):
        self.log = log
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                if process is not None and process.poll() is not None:
                    raise Failure(f"QEMU exited ({process.returncode}) before its QMP socket answered")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rwb")
        self.events: list[dict] = []
        greeting = self._read()
        assert "QMP" in greeting, greeting
        self.command("qmp_capabilities")

    def _read(self) -> dict:
        line = self.file.readline()
        if not line:
            raise EOFError("QMP connection closed")
        return json.loads(line)

    def command(self, name: str, **arguments) -> dict:
        message = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self.file.write(json.dumps(message).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"QMP {name} {arguments}: {reply['error']}")
            return reply.get("return", {})

    def wait_event(self, event: str, timeout: float, match=lambda data: True) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["event"] == event and match(e.get("data", {})):
                    self.events.remove(e)
                    return e
            if time.monotonic() > deadline:
                raise TimeoutError(f"no QMP event {event} within {timeout:.0f}s")
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self.events.append(self._read())
            except socket.timeout:
                pass
            finally:
                self.sock.settimeout(None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Failure(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.image_dir = Path(args.image_dir).resolve()
        self.layout = dict(
            line.split("=", 1) for line in (self.image_dir / "layout.env").read_text().splitlines()
            if line and not line.startswith("#"))
        self.work = Path(tempfile.mkdtemp(prefix="ardoise-e2e-", dir="/var/tmp"))
        self.qemu: subprocess.Popen | None = None
        self.timings: dict[str, float] = {}
        self.checks: list[str] = []
        self.t0 = time.monotonic()

    # ---- logging -------------------------------------------------------------------------
    def log(self, message: str):
        print(f"[e2e {time.monotonic() - self.t0:7.1f}s] {message}", flush=True)

    def ok(self, message: str):
        self.checks.append(message)
        self.log("ok: " + message)

    # ---- the stick -----------------------------------------------------------------------
    def data_range(self) -> tuple[int, int]:
        return int(self.layout["DATA_START_MIB"]) * MIB, int(self.layout["DATA_MIB"]) * MIB

    def extract_data_partition(self, stick: Path, target: Path):
        start, size = self.data_range()
        with open(stick, "rb") as src, open(target, "wb") as dst:
            src.seek(start)
            remaining = size
            while remaining:
                chunk = src.read(min(remaining, 4 * MIB))
                dst.write(chunk)
                remaining -= len(chunk)

    def put_data_partition(self, source: Path, stick: Path):
        start, size = self.data_range()
        assert source.stat().st_size == size
        with open(source, "rb") as src, open(stick, "r+b") as dst:
            dst.seek(start)
            shutil.copyfileobj(src, dst, 4 * MIB)

    def prepare_stick(self, name: str, config: str | None) -> Path:
        stick = self.work / name
        subprocess.run(["cp", "--sparse=always", str(self.image_dir / "ardoise-bench.img"), str(stick)], check=True)
        if config is not None:
            part = self.work / f"{name}.data"
            self.extract_data_partition(stick, part)
            conf = self.work / "ardoise.toml"
            conf.write_text(config)
            run(["debugfs", "-w", "-R", "rm ardoise.toml", str(part)])
            run(["debugfs", "-w", "-R", f"write {conf} ardoise.toml", str(part)])
            run(["debugfs", "-w", "-R", "sif ardoise.toml mode 0100600", str(part)])
            self.put_data_partition(part, stick)
            part.unlink()
        return stick

    def read_data_partition(self, stick: Path, name: str) -> Path:
        part = self.work / f"{name}.data"
        self.extract_data_partition(stick, part)
        out = self.work / f"{name}-data"
        out.mkdir()
        run(["debugfs", "-R", f"rdump / {out}", str(part)])
        return out

    # ---- QEMU ----------------------------------------------------------------------------
    def start_qemu(self, tag: str, stick: Path, direct_kernel: bool, extra_cmdline: str = "") -> QMP:
        qmp_path = self.work / f"{tag}.qmp"
        self.serial_log = self.work / f"{tag}-serial.log"
        self.status_log = self.work / f"{tag}-status.log"
        argv = [
            "qemu-system-x86_64", "-machine", "pc,accel=tcg", "-cpu", "max", "-smp", "2", "-m", "2048",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", f"file:{self.serial_log}",
            "-qmp", f"unix:{qmp_path},server=on,wait=off",
            # The stick: an image file this script copied (never a host block device).
            "-drive", f"if=none,id=stick,format=raw,file={stick},cache=unsafe",
            "-device", "virtio-blk-pci,drive=stick,serial=ARDOISE-STICK" + ("" if direct_kernel else ",bootindex=0"),
            # Buses the test hot-plugs drives onto.
            "-device", "qemu-xhci,id=xhci",
            "-device", "virtio-scsi-pci,id=scsi0",
            # Status channel (virtio-serial) read by this script.
            "-device", "virtio-serial-pci,id=vser",
            "-chardev", f"file,id=status,path={self.status_log}",
            "-device", "virtserialport,chardev=status,name=org.ardoise.e2e",
            # Network: user mode, restricted (the guest reaches nothing on the host or beyond).
            "-netdev", "user,id=net0,restrict=on",
            "-device", "virtio-net-pci,netdev=net0",
        ]
        if direct_kernel:
            cmdline = (self.image_dir / "cmdline").read_text().strip() + " ardoise.e2e " + extra_cmdline
            argv += ["-kernel", str(self.image_dir / "vmlinuz"), "-initrd", str(self.image_dir / "initrd.img"),
                     "-append", cmdline]
        else:
            vars_copy = self.work / f"{tag}-OVMF_VARS.fd"
            shutil.copyfile("/usr/share/OVMF/OVMF_VARS_4M.fd", vars_copy)
            argv += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                     "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        self.log(f"starting QEMU ({tag}): {' '.join(argv)}")
        self.qemu_started = time.monotonic()
        self.qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(self.work / f"{tag}-qemu.out", "wb"),
                                     stderr=subprocess.STDOUT)
        return QMP(qmp_path, self.log, self.qemu)

    def stop_qemu(self, qmp: QMP | None, timeout: float = 180):
        """ACPI power-off (the guest shuts down cleanly: jobs, journal, data partition), then
        wait; a guest that does not stop is killed by PID."""
        if self.qemu is None:
            return
        if qmp is not None and self.qemu.poll() is None:
            try:
                qmp.command("system_powerdown")
            except Exception as e:  # noqa: BLE001 — the VM may already be gone
                self.log(f"system_powerdown: {e}")
        try:
            self.qemu.wait(timeout=timeout)
            self.log(f"QEMU stopped (exit {self.qemu.returncode})")
        except subprocess.TimeoutExpired:
            self.log(f"QEMU {self.qemu.pid} did not power off in {timeout:.0f}s: killing it")
            self.qemu.send_signal(signal.SIGKILL)
            self.qemu.wait()
            raise Failure("the guest did not power off on ACPI power-down")
        finally:
            if qmp:
                qmp.close()
            self.qemu = None

    def kill_qemu(self):
        if self.qemu is not None and self.qemu.poll() is None:
            self.qemu.send_signal(signal.SIGKILL)
            self.qemu.wait()
        self.qemu = None

    def serial_text(self) -> str:
        try:
            return self.serial_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_serial(self, needle: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.serial_text():
                return time.monotonic() - self.qemu_started
            if self.qemu.poll() is not None:
                raise Failure(f"QEMU exited ({self.qemu.returncode}) before '{needle}' on the serial console")
            time.sleep(1)
        raise Failure(f"'{needle}' not on the serial console within {timeout:.0f}s")

    # ---- status channel ------------------------------------------------------------------
    def status(self) -> dict | None:
        """The last complete `ardoise status --json` line the guest sent."""
        try:
            data = self.status_log.read_bytes()
        except FileNotFoundError:
            return None
        lines = data.split(b"\n")
        for line in reversed(lines[:-1]):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if "slots" in value:
                return value
        return None

    def slot(self, serial: str, status: dict | None = None) -> dict | None:
        status = status or self.status() or {"slots": []}
        for s in status["slots"]:
            if s.get("serial") == serial:
                return s
        return None

    def wait_for(self, what: str, predicate, timeout: float, interval: float = 1.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.qemu is not None and self.qemu.poll() is not None:
                raise Failure(f"QEMU exited ({self.qemu.returncode}) while waiting for {what}")
            status = self.status()
            if status is not None:
                last = status
                result = predicate(status)
                if result:
                    return result
            time.sleep(interval)
        summary = [(s.get("device"), s.get("serial"), s.get("state"), s.get("reason")) for s in (last or {}).get("slots", [])]
        raise Failure(f"timed out after {timeout:.0f}s waiting for {what}; last status: {summary}")

    # ---- drives --------------------------------------------------------------------------
    def create_drive(self, drive: Drive):
        drive.path = self.work / f"drive-{drive.name}.img"
        block = drive.pattern_block()
        digest = hashlib.sha256()
        with open(drive.path, "wb") as f:
            for i in range(drive.size_mib):
                chunk = block[:-8] + i.to_bytes(8, "little")
                f.write(chunk)
                digest.update(chunk)
        drive.original_sha256 = digest.hexdigest()

    def plug(self, qmp: QMP, drive: Drive):
        node = f"node-{drive.name}"
        qmp.command("blockdev-add", **{"driver": "raw", "node-name": node, "read-only": drive.read_only,
                                       "file": {"driver": "file", "filename": str(drive.path)}})
        device = {"id": drive.name, "drive": node, "serial": drive.serial}
        if drive.kind == "nvme":
            device["driver"] = "nvme"
        elif drive.kind == "usb":
            device.update({"driver": "usb-storage", "bus": "xhci.0"})
        elif drive.kind == "scsi":
            device.update({"driver": "scsi-hd", "bus": "scsi0.0"})
        elif drive.kind == "virtio":
            device["driver"] = "virtio-blk-pci"
        device.update(drive.extra)
        qmp.command("device_add", **device)
        self.log(f"plugged {drive.kind} {drive.serial} ({drive.size_mib} MiB) as {drive.name}")

    def unplug(self, qmp: QMP, drive: Drive):
        qmp.command("device_del", id=drive.name)
        qmp.wait_event("DEVICE_DELETED", 60, lambda d: d.get("device") == drive.name)
        qmp.command("blockdev-del", **{"node-name": f"node-{drive.name}"})
        self.log(f"pulled {drive.kind} {drive.serial}")

    def check_bytes(self, drive: Drive):
        """Every byte of an erased drive is the final pattern; an untouched drive is unchanged."""
        if drive.expect == "erased":
            expected = bytes([drive.final_byte]) * MIB
            with open(drive.path, "rb") as f:
                for i in range(drive.size_mib):
                    chunk = f.read(MIB)
                    if chunk != expected:
                        bad = next(j for j in range(len(chunk)) if chunk[j] != drive.final_byte)
                        raise Failure(f"{drive.serial}: byte {i * MIB + bad} is {chunk[bad]:#04x}, "
                                      f"expected {drive.final_byte:#04x} after erasure")
            self.ok(f"{drive.serial}: all {drive.size_mib} MiB are {drive.final_byte:#04x}")
        elif drive.expect == "protected":
            digest = hashlib.sha256(drive.path.read_bytes()).hexdigest()
            if digest != drive.original_sha256:
                raise Failure(f"{drive.serial}: a protected drive was changed")
            self.ok(f"{drive.serial}: unchanged (sha256 {digest[:16]}…)")
        elif drive.expect == "interrupted":
            block = drive.pattern_block()
            with open(drive.path, "rb") as f:
                first = f.read(MIB)
                f.seek((drive.size_mib - 1) * MIB)
                last = f.read(MIB)
            if first == block[:-8] + (0).to_bytes(8, "little"):
                raise Failure(f"{drive.serial}: pulled mid-erasure but its first MiB was never written")
            if last != block[:-8] + (drive.size_mib - 1).to_bytes(8, "little"):
                raise Failure(f"{drive.serial}: pulled mid-erasure but its last MiB was written")
            self.ok(f"{drive.serial}: partly erased (start written, end still the original pattern)")

    def check_stick_unchanged(self, stick: Path):
        """The boot stick's system partitions (boot loader, kernel, root) are never written."""
        end = int(self.layout["DATA_START_MIB"]) * MIB
        h = []
        for path in (stick, self.image_dir / "ardoise-bench.img"):
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                remaining = end
                while remaining:
                    chunk = f.read(min(remaining, 4 * MIB))
                    digest.update(chunk)
                    remaining -= len(chunk)
            h.append(digest.hexdigest())
        if h[0] != h[1]:
            raise Failure("the boot stick's boot loader, kernel or root partition changed")
        self.ok(f"boot stick: the first {end // MIB} MiB (GPT, GRUB, EFI, root) unchanged")


def run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def boot_and_erase(bench: Bench) -> None:
    args = bench.args
    drives = [
        Drive("nvme1", "nvme", "E2E-NVME-1", 64, "erased"),                        # purge: Format NVM
        Drive("usb1", "usb", "E2E-USB-1", 32, "erased", extra={"port": "1"}),
        Drive("scsi1", "scsi", "E2E-SCSI-1", 64, "erased",                          # purge: no SCSI sanitize -> zero pass
              extra={"scsi-id": 1, "lun": 0, "rotation_rate": 1}, accept_exceptions=True),
        Drive("vblk1", "virtio", "E2E-VBLK-1", 48, "erased"),
        Drive("ro1", "virtio", "E2E-RO-1", 16, "protected", read_only=True),
    ]
    pulled = Drive("usbpull", "usb", "E2E-USB-PULL", args.pull_mib, "interrupted", extra={"port": "2"})
    replacement = Drive("usb2", "usb", "E2E-USB-2", 32, "erased", extra={"port": "2"})
    everything = drives + [pulled, replacement]
    for d in everything:
        bench.create_drive(d)
    bench.log(f"created {len(everything)} drive images with known patterns in {bench.work}")

    stick = bench.prepare_stick("stick-direct.img", E2E_CONFIG)
    qmp = bench.start_qemu("direct", stick, direct_kernel=True, extra_cmdline="systemd.show_status=1")
    try:
        bench.wait_for("the daemon's first status", lambda s: True, args.boot_timeout)
        bench.timings["boot to daemon status (direct kernel boot)"] = time.monotonic() - bench.qemu_started
        bench.log(f"daemon up after {bench.timings['boot to daemon status (direct kernel boot)']:.0f}s")
        try:
            t = bench.wait_serial("Ardoise bench screen on tty1", 60)
            bench.timings["boot to dashboard started (direct kernel boot)"] = t
        except Failure as e:
            raise Failure(f"dashboard: {e}")

        stick_slot = bench.wait_for("the boot stick's slot", lambda s: bench.slot("ARDOISE-STICK", s), 120)
        if stick_slot["state"] != "protected":
            raise Failure(f"the boot stick is not protected: {stick_slot}")
        bench.ok(f"boot stick {stick_slot['device']} protected ({stick_slot.get('reason')})")

        erase_start = time.monotonic()
        for d in drives:
            bench.plug(qmp, d)
        bench.plug(qmp, pulled)

        # Pull the large USB drive once its erasure is under way.
        def pulled_erasing(status):
            s = bench.slot(pulled.serial, status)
            return s and s["state"] in ("erasing", "verifying") and (s.get("fraction") or 0) > 0.02
        bench.wait_for(f"{pulled.serial} erasing", pulled_erasing, args.job_timeout, 0.5)
        bench.unplug(qmp, pulled)
        # The slot shows "interrupted" once the job stops, then "removed" (the drive is gone),
        # keeping the interruption as its reason; the certificate is checked after power-off.
        gone = bench.wait_for(f"{pulled.serial} interrupted",
                              lambda s: (x := bench.slot(pulled.serial, s)) and x["state"] in ("interrupted", "removed")
                              and x, 120)
        bench.ok(f"{pulled.serial} pulled mid-erasure: {gone['state']} ({gone.get('reason')})")
        bench.plug(qmp, replacement)

        def all_final(status):
            states = {}
            for d in drives + [replacement]:
                s = bench.slot(d.serial, status)
                if not s or s["state"] not in ("done", "done-with-exceptions", "failed", "interrupted", "protected", "removed"):
                    return None
                states[d.serial] = s
            return states
        states = bench.wait_for("every drive finished", all_final, args.job_timeout, 2)
        bench.timings["hot-plug to all drives finished"] = time.monotonic() - erase_start
        for d in drives + [replacement]:
            s = states[d.serial]
            want = {"erased": "done", "protected": "protected"}[d.expect]
            if s["state"] != want and not (d.accept_exceptions and s["state"] == "done-with-exceptions"):
                raise Failure(f"{d.serial} ({d.kind}): state {s['state']} ({s.get('reason')}), expected {want}")
            bench.ok(f"{d.serial} ({d.kind}, {s['device']}, profile {s.get('profile')}): {s['state']}"
                     + (f" — {s.get('reason')}" if s.get("reason") else ""))
    except BaseException:
        bench.kill_qemu()
        raise
    bench.stop_qemu(qmp)

    # ---- host-side checks after power-off ------------------------------------------------
    for d in everything:
        bench.check_bytes(d)
    bench.check_stick_unchanged(stick)
    data = bench.read_data_partition(stick, "direct")
    certificates = sorted((data / "certificates").glob("*.json"))
    if not certificates:
        raise Failure("no certificate on the data partition")
    by_serial: dict[str, list[dict]] = {}
    for path in certificates:
        payload = decode_payload(path)
        verdict = json.loads(subprocess.run([args.ardoise, "cert", "verify", str(path), "--json", "--data-dir", str(data)],
                                            capture_output=True, text=True).stdout or "{}")
        if verdict.get("verdict") != "valid":
            raise Failure(f"{path.name}: verification says {verdict}")
        by_serial.setdefault(payload["media"]["serial"], []).append(payload)
    bench.ok(f"{len(certificates)} certificates on ARDOISE-DATA, all verify against the bench key")
    for d in drives + [replacement, pulled]:
        found = by_serial.get(d.serial, [])
        if d.expect == "protected":
            if found:
                raise Failure(f"{d.serial}: a protected drive has a certificate")
            continue
        if len(found) != 1:
            raise Failure(f"{d.serial}: {len(found)} certificates, expected 1")
        payload = found[0]
        status = payload["result"]["status"]
        want = "erased" if d.expect == "erased" else "not_erased"
        if status != want and not (d.accept_exceptions and status == "erased_with_exceptions"):
            raise Failure(f"{d.serial}: certificate status {status}, expected {want}")
        detail = f"{payload['sanitization']['method']}/{payload['sanitization']['category']}"
        ops = payload["sanitization"].get("firmwareOperations") or []
        if d.kind == "nvme":
            if payload["sanitization"]["method"] not in ("firmware", "firmware_and_overwrite") or \
                    not any(op.get("succeeded") and "format" in op.get("command", "").lower() for op in ops):
                raise Failure(f"{d.serial}: expected a successful NVMe Format NVM on the certificate, got {detail} {ops}")
            detail += " — " + ", ".join(op["command"] for op in ops)
        category = payload["sanitization"]["category"]
        if d.kind == "nvme" and category != "purge":
            raise Failure(f"{d.serial}: a firmware Format NVM should certify a purge, got {category}")
        if d.kind == "scsi" and category != "clear":
            raise Failure(f"{d.serial}: the overwrite fallback must be certified as clear, not {category}")
        if d.kind == "scsi":
            exceptions = payload["result"].get("exceptions") or []
            detail += f" (no SCSI SANITIZE in QEMU: the profile's overwrite fallback ran; exceptions: " \
                      f"{[e.get('kind') for e in exceptions]})"
        bench.ok(f"{d.serial}: certificate {payload['id']} says {status} ({detail})")


def decode_payload(path: Path) -> dict:
    import base64
    jws = json.loads(path.read_text())
    raw = jws["payload"]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def boot_through_loader(bench: Bench) -> None:
    """The real stick, unmodified, through OVMF and GRUB."""
    args = bench.args
    stick = bench.prepare_stick("stick-uefi.img", None)
    qmp = bench.start_qemu("uefi", stick, direct_kernel=False)
    try:
        bench.wait_serial("Ardoise: chargement du noyau", args.boot_timeout)
        t = bench.wait_serial("Ardoise bench screen on tty1", args.boot_timeout)
        bench.timings["boot to dashboard started (UEFI, GRUB, real image)"] = t
        bench.ok(f"UEFI boot through GRUB reached the dashboard in {t:.0f}s")
        time.sleep(5)
    except BaseException:
        bench.kill_qemu()
        raise
    bench.stop_qemu(qmp)
    data = bench.read_data_partition(stick, "uefi")
    for name in ("bench-key.jwk", "bench-public.jwk", "journal.sqlite", "ardoise.toml"):
        if not (data / name).exists():
            raise Failure(f"UEFI boot: {name} missing on ARDOISE-DATA after the daemon ran: {sorted(os.listdir(data))}")
    bench.ok("UEFI boot: the bench key (first boot) and the daemon's journal are on ARDOISE-DATA")
    bench.check_stick_unchanged(stick)


def boot_without_data(bench: Bench) -> None:
    """A stick whose data partition is not labelled ARDOISE-DATA: the bench erases nothing
    and says so (tty1 and console); a drive plugged in stays untouched."""
    args = bench.args
    stick = bench.prepare_stick("stick-nodata.img", None)
    part = bench.work / "nodata.data"
    bench.extract_data_partition(stick, part)
    run(["tune2fs", "-L", "NOT-ARDOISE", str(part)])
    bench.put_data_partition(part, stick)
    part.unlink()
    drive = Drive("vnodata", "virtio", "E2E-NODATA-1", 16, "protected")
    bench.create_drive(drive)
    qmp = bench.start_qemu("nodata", stick, direct_kernel=True, extra_cmdline="systemd.show_status=1")
    try:
        t = bench.wait_serial("data partition, erasing disabled", args.boot_timeout)
        bench.timings["boot to the no-data screen (direct kernel boot)"] = t
        bench.plug(qmp, drive)
        time.sleep(20)
        text = bench.serial_text()
        if any("Started" in line and "Ardoise disk-erasure bench daemon" in line for line in text.splitlines()):
            raise Failure("the daemon started without a data partition")
        bench.ok("no ARDOISE-DATA: ardoise.service not started, tty1 says erasing is disabled")
    except BaseException:
        bench.kill_qemu()
        raise
    bench.stop_qemu(qmp)
    bench.check_bytes(drive)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-dir", default="build/image")
    parser.add_argument("--ardoise", required=True, help="host ardoise binary (verifies the certificates)")
    parser.add_argument("--artifacts", default="build/e2e", help="serial console logs are kept here on failure")
    parser.add_argument("--boot-timeout", type=float, default=600)
    parser.add_argument("--job-timeout", type=float, default=900)
    parser.add_argument("--pull-mib", type=int, default=384)
    parser.add_argument("--skip-uefi", action="store_true", help="no boot through OVMF and GRUB")
    parser.add_argument("--skip-nodata", action="store_true", help="no boot without a data partition")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("e2e/bench_e2e.py: run as root (debugfs on the stick copy, /var/tmp images)", file=sys.stderr)
        return 2

    bench = Bench(args)
    failed = None
    try:
        boot_and_erase(bench)
        if not args.skip_nodata:
            boot_without_data(bench)
        if not args.skip_uefi:
            boot_through_loader(bench)
    except BaseException as e:  # noqa: BLE001 — reported, artifacts kept, then re-raised as an exit code
        failed = e
    finally:
        bench.kill_qemu()

    print()
    for line in bench.checks:
        print("  ✓ " + line)
    for what, seconds in bench.timings.items():
        print(f"  ⏱ {what}: {seconds:.0f}s")
    print(f"  ⏱ whole e2e: {time.monotonic() - bench.t0:.0f}s")
    for step in STEPS_NOT_YET:
        print("  … not yet: " + step)
    if failed is not None:
        artifacts = Path(args.artifacts).resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
        for log in bench.work.glob("*.log"):
            shutil.copyfile(log, artifacts / log.name)
        for out in bench.work.glob("*-qemu.out"):
            shutil.copyfile(out, artifacts / out.name)
        print(f"\nE2E FAILED: {failed}\nserial console and status logs kept in {artifacts}", file=sys.stderr)
    if args.keep or failed is not None and os.environ.get("ARDOISE_E2E_KEEP_WORK"):
        print(f"work directory kept: {bench.work}")
    else:
        shutil.rmtree(bench.work, ignore_errors=True)
    if failed is not None:
        if not isinstance(failed, (Failure, TimeoutError)):
            import traceback
            traceback.print_exception(failed)
        return 1
    print("E2E PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
