import CBlkid
import Foundation
import SystemPackage

/// What libblkid finds on a disk: its partition table and the signature of each partition.
public struct SignatureProbeResult: Sendable, Hashable {
    public var partitionTableType: String?
    public var wholeDiskSignature: String?
    /// Signature per partition number (1-based, as libblkid numbers them).
    public var partitionSignatures: [Int: String]
    /// Partition offsets in bytes, keyed like `partitionSignatures`.
    public var partitionOffsets: [Int: UInt64]
    public var partitionSizes: [Int: UInt64]
}

/// Probes signatures with libblkid, read-only, on one open file descriptor.
///
/// Partitions are probed at their offsets through the whole-disk descriptor
/// (`blkid_probe_set_device` with offset and size), so no partition node is needed — this
/// works without udev and right after `losetup -P`.
public enum SignatureProbe {
    /// Probes the device or image at `path`. Opens it `O_RDONLY`: probing never writes.
    public static func probe(path: String) throws(DeviceError) -> SignatureProbeResult {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .nonBlocking])
        } catch let errno as Errno {
            throw DeviceError(errno == .noSuchFileOrDirectory ? .notFound : .ioFailed(operation: "open"), path: path, underlying: errno)
        } catch {
            throw DeviceError(.ioFailed(operation: "open"), path: path)
        }
        defer { try? fd.close() }
        return probe(fileDescriptor: fd.rawValue)
    }

    static func probe(fileDescriptor fd: Int32) -> SignatureProbeResult {
        var result = SignatureProbeResult(partitionTableType: nil, wholeDiskSignature: nil,
                                          partitionSignatures: [:], partitionOffsets: [:], partitionSizes: [:])
        guard let probe = blkid_new_probe() else { return result }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, 0, 0) == 0 else { return result }
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE)
        blkid_probe_enable_partitions(probe, 1)
        blkid_probe_set_partitions_flags(probe, BLKID_PARTS_ENTRY_DETAILS)
        if blkid_do_safeprobe(probe) == 0 {
            result.partitionTableType = value(probe, "PTTYPE")
            result.wholeDiskSignature = value(probe, "TYPE")
        }
        guard let list = blkid_probe_get_partitions(probe) else { return result }
        let count = blkid_partlist_numof_partitions(list)
        guard count > 0 else { return result }
        for index in 0..<count {
            guard let partition = blkid_partlist_get_partition(list, index) else { continue }
            let number = Int(blkid_partition_get_partno(partition))
            let start = UInt64(blkid_partition_get_start(partition)) * 512
            let size = UInt64(blkid_partition_get_size(partition)) * 512
            result.partitionOffsets[number] = start
            result.partitionSizes[number] = size
            if let signature = probeRange(fd: fd, offset: start, size: size) {
                result.partitionSignatures[number] = signature
            }
        }
        return result
    }

    private static func probeRange(fd: Int32, offset: UInt64, size: UInt64) -> String? {
        guard size > 0, let probe = blkid_new_probe() else { return nil }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, blkid_loff_t(offset), blkid_loff_t(size)) == 0 else { return nil }
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE)
        guard blkid_do_safeprobe(probe) == 0 else { return nil }
        return value(probe, "TYPE")
    }

    /// Values are bytes, not always text (SBMAGIC): copy exactly `length` bytes, drop the NUL.
    private static func value(_ probe: blkid_probe, _ name: String) -> String? {
        var data: UnsafePointer<CChar>?
        var length = 0
        guard blkid_probe_lookup_value(probe, name, &data, &length) == 0, let data else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: length).prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `UUID=…`, `LABEL=…` → `/dev/…`, through libblkid's cache-less evaluation.
    public static func resolveTag(_ tag: String, _ value: String) -> String? {
        guard let result = blkid_evaluate_tag(tag, value, nil) else { return nil }
        defer { free(result) }
        return String(cString: result)
    }
}
