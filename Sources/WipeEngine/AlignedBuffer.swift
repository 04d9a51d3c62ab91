/// A page-aligned heap buffer suitable for `O_DIRECT`, freed when the owner goes away.
///
/// Sendable by hand: a buffer is handed between the generator thread and the I/O thread
/// through a locked queue, and only the thread holding it touches the bytes.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int, alignment: Int) {
        precondition(count > 0 && alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: max(alignment, 16))
    }

    deinit { pointer.deallocate() }

    var mutableBytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: pointer, count: count) }

    func bytes(count: Int, offset: Int = 0) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer + offset, count: count)
    }

    func mutableBytes(count: Int, offset: Int = 0) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: pointer + offset, count: count)
    }
}
