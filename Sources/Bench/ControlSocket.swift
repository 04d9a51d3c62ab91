import ArdoiseSupport
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the control socket failed.
public struct ControlSocketError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let errno: Int32

    public var description: String {
        let reason = String(cString: strerror(errno))
        return LocalizedText(
            fr: "socket de contrôle \(path) : échec de \(operation) (\(reason)). Le démon tourne-t-il ? (systemctl status ardoise)",
            en: "control socket \(path): \(operation) failed (\(reason)). Is the daemon running? (systemctl status ardoise)")
            .text(in: CurrentLanguage.value)
    }
}

/// The daemon's Unix socket: root only (mode 0600), one JSON request per line, one JSON
/// response per line. Each connection is served on its own thread; the handler is async
/// and runs on the concurrency pool while the connection thread waits for it.
public final class ControlServer: @unchecked Sendable {  // `listener` is owned by the accept thread after start()
    public typealias Handler = @Sendable (ControlRequest) async -> ControlResponse
    /// The responses a `watch` request streams (nil: `watch` answers once, like `status`).
    public typealias Watcher = @Sendable () -> AsyncStream<ControlResponse>

    public let path: String
    private let listener: Int32
    private let handler: Handler
    private let watcher: Watcher?

    public init(path: String, handler: @escaping Handler, watcher: Watcher? = nil) throws(ControlSocketError) {
        self.path = path
        self.handler = handler
        self.watcher = watcher
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(path: path, operation: "socket", errno: errno) }
        // Create the socket with mode 0600 from the start: no window where others can connect.
        let previousMask = umask(0o177)
        defer { umask(previousMask) }
        var address = try Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw ControlSocketError(path: path, operation: "bind/listen", errno: code)
        }
        chmod(path, 0o600)
        listener = fd
    }

    /// Accepts connections on a dedicated thread until `stop()`.
    public func start() {
        NamedThread.start("ardoise-control") { [self] in acceptLoop() }
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            NamedThread.start("ardoise-client") { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        let handle = FileHandle(fileDescriptor: connection, closeOnDealloc: false)
        var buffer = Data()
        while true {
            guard let chunk = readSome(connection), !chunk.isEmpty else { return }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                let response: ControlResponse
                if let request = try? ControlCoding.decoder().decode(ControlRequest.self, from: line) {
                    if request.command == .watch, let watcher {
                        stream(watcher(), to: connection)
                        return
                    }
                    response = wait(for: request)
                } else {
                    response = ControlResponse(ok: false, error: "malformed request: expected one JSON object per line")
                }
                var data = (try? ControlCoding.encoder().encode(response)) ?? Data("{\"ok\":false}".utf8)
                data.append(UInt8(ascii: "\n"))
                do { try handle.write(contentsOf: data) } catch { return }
            }
        }
    }

    /// Writes each response of `responses` as one line until the stream ends or the client
    /// goes away. The writes happen on this connection thread (never on a pool thread); a task
    /// only encodes the responses and hands over the latest one.
    private func stream(_ responses: AsyncStream<ControlResponse>, to connection: Int32) {
        // A client that stops reading must not hold a write for ever.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let mailbox = LatestLine()
        let encoder = Task {
            for await response in responses {
                var data = (try? ControlCoding.encoder().encode(response)) ?? Data("{\"ok\":false}".utf8)
                data.append(UInt8(ascii: "\n"))
                mailbox.put(data)
            }
            mailbox.finish()
        }
        // A closed client is seen at the next write; the end of the stream (shutdown) ends it too.
        while let line = mailbox.take(), Self.writeAll(line, to: connection) {}
        encoder.cancel()
    }

    static func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
    }

    /// Runs the async handler and blocks this connection thread (not a pool thread) until done.
    private func wait(for request: ControlRequest) -> ControlResponse {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        let handler = self.handler
        Task {
            box.value = await handler(request)
            semaphore.signal()
        }
        semaphore.wait()
        return box.value ?? ControlResponse(ok: false, error: "no response")
    }

    static func address(_ path: String) throws(ControlSocketError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw ControlSocketError(path: path, operation: "path too long", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}

/// One line handed from a task to a connection thread: the newest replaces an unsent one.
private final class LatestLine: Sendable {
    private let state = Mutex<(line: Data?, finished: Bool)>((nil, false))
    private let ready = DispatchSemaphore(value: 0)

    func put(_ line: Data) {
        state.withLock { $0.line = line }
        ready.signal()
    }

    func finish() {
        state.withLock { $0.finished = true }
        ready.signal()
    }

    /// Waits for a line; nil once finished and nothing is left.
    func take() -> Data? {
        while true {
            ready.wait()
            let (line, finished) = state.withLock { state -> (Data?, Bool) in
                defer { state.line = nil }
                return (state.line, state.finished)
            }
            if let line { return line }
            if finished { return nil }
        }
    }
}

private final class ResponseBox: @unchecked Sendable {  // written once by the handler task before the semaphore signals
    var value: ControlResponse?
}

/// The client side, used by `ardoise status`, `start`, `cancel` and the dashboard.
public enum ControlClient {
    /// Sends one request and returns the response. Blocks (call from a thread that may block).
    public static func send(_ request: ControlRequest, to path: String, timeoutSeconds: Int = 10) throws(ControlSocketError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(path: path, operation: "socket", errno: errno) }
        defer { close(fd) }
        // A daemon that stops answering must not freeze the dashboard or a script.
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = try ControlServer.address(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw ControlSocketError(path: path, operation: "connect", errno: errno) }
        var data = (try? ControlCoding.encoder().encode(request)) ?? Data()
        data.append(UInt8(ascii: "\n"))
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        do { try handle.write(contentsOf: data) } catch {
            throw ControlSocketError(path: path, operation: "write", errno: EPIPE)
        }
        var received = Data()
        while !received.contains(UInt8(ascii: "\n")) {
            guard let chunk = readSome(fd), !chunk.isEmpty else { break }
            received.append(chunk)
        }
        guard let response = try? ControlCoding.decoder().decode(ControlResponse.self, from: received) else {
            throw ControlSocketError(path: path, operation: "read response", errno: EPROTO)
        }
        return response
    }
}

/// What one `read(2)` returns (nil on error, empty at end of stream). `FileHandle.read(upToCount:)`
/// would wait for the full count or the end of the stream, which never comes on a live socket.
func readSome(_ fd: Int32, maximum: Int = 64 << 10) -> Data? {
    var buffer = [UInt8](repeating: 0, count: maximum)
    while true {
        let count = read(fd, &buffer, maximum)
        if count < 0 {
            if errno == EINTR { continue }
            return nil
        }
        return Data(buffer[0..<count])
    }
}
