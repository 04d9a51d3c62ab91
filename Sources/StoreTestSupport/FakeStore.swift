import ArdoiseTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A real HTTP server on 127.0.0.1, in the test process, standing in for the traceability
/// store. It answers through a `handler` (usually a `ContractStore`), records every request
/// with its arrival time, and can be stopped and started again on the same port to play a
/// store that goes down and comes back. It never listens on anything but 127.0.0.1.
public final class FakeStoreServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var receivedAt: Date

        public var bodyText: String { String(decoding: body, as: UTF8.self) }

        public init(method: String, path: String, headers: [String: String], body: [UInt8], receivedAt: Date = Date()) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
            self.receivedAt = receivedAt
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// No answer at all: the server closes the connection (an answer lost on the way).
        public static let noAnswer = Response(status: 0)

        /// `{"error": {"code": …, "message": …}}` with its status.
        public static func error(_ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]) -> Response {
            let json = try! JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys])
            return Response(status: status, headers: headers.merging(["Content-Type": "application/json"]) { $1 },
                            body: String(decoding: json, as: UTF8.self))
        }
    }

    public typealias Handler = @Sendable (Request) -> Response

    private let handler: Handler
    private let tls: NIOSSLContext?
    private let state = Mutex<State>(State())

    /// Every answered request, in order; tests wait on it (`waitForExchange`).
    private let exchanges = EventLog<Request>()

    private struct State {
        var channel: (any Channel)?
        var port = 0
    }

    public init(tls: NIOSSLContext? = nil, handler: @escaping Handler) {
        self.tls = tls
        self.handler = handler
    }

    /// Listens on 127.0.0.1 (`port` 0: a free port, kept for later restarts).
    public func start(port: Int? = nil) async throws {
        let wanted = port ?? state.withLock { $0.port }
        let handler = self.handler
        let tls = self.tls
        let record: @Sendable (Request) -> Void = { [weak self] request in self?.recorded(request) }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handler: handler, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: wanted).get()
        let bound = channel.localAddress?.port ?? wanted
        state.withLock { $0.channel = channel; $0.port = bound }
    }

    /// A request was answered (its handler ran): it joins `requests`, and every waiter whose
    /// condition now holds is woken.
    private func recorded(_ request: Request) {
        exchanges.append(request)
    }

    /// Waits, woken by each answered request, until `condition` holds for the requests
    /// received so far (at once if it already does), and returns them. `condition` may read
    /// the handler's state too (e.g. a `ContractStore`'s `storedOrder`): it is evaluated after
    /// the handler answered. The deadline is only there so that a broken client fails the
    /// test instead of hanging it.
    @discardableResult
    public func waitForExchange(_ what: String, timeout: Duration = .seconds(60),
                                until condition: @escaping @Sendable ([Request]) -> Bool) async throws -> [Request] {
        try await exchanges.wait(for: what, timeout: timeout, until: condition)
    }

    /// Stops listening: new connections are refused (the store is "down").
    public func stop() async {
        let channel = state.withLock { state -> (any Channel)? in
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
    }

    public var port: Int { state.withLock { $0.port } }
    /// `http://127.0.0.1:PORT` (or https with TLS).
    public var url: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)" }
    public var requests: [Request] { exchanges.elements }
}

/// One HTTP/1.1 exchange per connection (`Connection: close`), enough for a test store.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // Owned by its channel's event loop; never touched elsewhere.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: FakeStoreServer.Handler
    private let record: @Sendable (FakeStoreServer.Request) -> Void
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(handler: @escaping FakeStoreServer.Handler, record: @escaping @Sendable (FakeStoreServer.Request) -> Void) {
        self.handler = handler
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = FakeStoreServer.Request(method: head.method.rawValue, path: head.uri, headers: headers, body: body,
                                                  receivedAt: Date())
            let response = handler(request)
            // Recorded once answered by the handler, so a waiter sees the handler's state too.
            record(request)
            guard response.status != FakeStoreServer.Response.noAnswer.status else {
                // The answer is lost: the connection closes without a byte.
                context.close(promise: nil)
                self.head = nil
                return
            }
            var responseHeaders = HTTPHeaders()
            for (name, value) in response.headers { responseHeaders.add(name: name, value: value) }
            responseHeaders.replaceOrAdd(name: "Content-Length", value: String(response.body.utf8.count))
            responseHeaders.replaceOrAdd(name: "Connection", value: "close")
            let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status),
                                                headers: responseHeaders)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
            self.head = nil
        }
    }
}

/// The store contract (see COMMON's "Store API" and docs/store-client.md) in memory: bearer
/// tokens, records by id with their exact bytes, `201 stored` / `200 already_stored` /
/// `409 conflicting_record` / `422 malformed_record` / `401 unauthorized`. Signatures are not
/// checked here (that is the real store's work); `script` forces the next answers (503, 429
/// with Retry-After, 422 …) to play a store in trouble.
public final class ContractStore: Sendable {
    public struct Stored: Sendable, Equatable {
        public var kind: String
        public var bytes: [UInt8]
    }

    private let state = Mutex<(tokens: Set<String>, records: [String: Stored], order: [String],
                               script: [FakeStoreServer.Response], refusals: [String: FakeStoreServer.Response],
                               answersToLose: Int)>(([], [:], [], [], [:], 0))

    public init(tokens: Set<String>) {
        state.withLock { $0.tokens = tokens }
    }

    /// The next requests (whatever they carry) get these answers, in order.
    public func script(_ responses: [FakeStoreServer.Response]) { state.withLock { $0.script += responses } }
    /// Records with this id are always refused with this answer (a forged or conflicting record).
    public func refuse(recordID: String, with response: FakeStoreServer.Response) {
        state.withLock { $0.refusals[recordID.lowercased()] = response }
    }
    /// The next `count` records are stored but their answers are lost (the connection closes).
    public func loseAnswers(_ count: Int) { state.withLock { $0.answersToLose += count } }
    /// Stops refusing this id (the cause was fixed on the store's side).
    public func allow(recordID: String) { _ = state.withLock { $0.refusals.removeValue(forKey: recordID.lowercased()) } }
    public func revoke(token: String) { _ = state.withLock { $0.tokens.remove(token) } }

    /// Ids in the order they were first stored.
    public var storedOrder: [String] { state.withLock { $0.order } }
    public var stored: [String: Stored] { state.withLock { $0.records } }

    public var handler: FakeStoreServer.Handler { { [self] request in self.answer(request) } }

    public func answer(_ request: FakeStoreServer.Request) -> FakeStoreServer.Response {
        state.withLock { state in
            if !state.script.isEmpty { return state.script.removeFirst() }
            if request.method == "GET", request.path == "/api/v1/health" {
                return FakeStoreServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: #"{"status":"ok"}"#)
            }
            guard request.method == "POST", request.path == "/api/v1/records" else {
                return .error(404, "not_found", "no such route")
            }
            let authorization = request.headers["authorization"] ?? ""
            guard authorization.hasPrefix("Bearer "), state.tokens.contains(String(authorization.dropFirst(7))) else {
                return .error(401, "unauthorized", "missing, unknown or revoked token")
            }
            guard request.headers["content-type"] == "application/jose+json" else {
                return .error(422, "malformed_record", "expected application/jose+json")
            }
            guard let (id, kind) = Self.identify(request.body) else {
                return .error(422, "malformed_record", "not a JWS JSON record with id and schema")
            }
            if let refusal = state.refusals[id] { return refusal }
            if let existing = state.records[id] {
                guard existing.bytes == request.body else {
                    return .error(409, "conflicting_record", "a record with this id and other bytes is stored")
                }
                return Self.success(200, "already_stored", id, kind)
            }
            state.records[id] = Stored(kind: kind, bytes: request.body)
            state.order.append(id)
            if state.answersToLose > 0 {
                state.answersToLose -= 1
                return .noAnswer
            }
            return Self.success(201, "stored", id, kind)
        }
    }

    static func success(_ status: Int, _ word: String, _ id: String, _ kind: String) -> FakeStoreServer.Response {
        FakeStoreServer.Response(status: status, headers: ["Content-Type": "application/json"],
                                 body: #"{"id":"\#(id)","kind":"\#(kind)","status":"\#(word)"}"#)
    }

    /// The payload's `id` and kind (from `schema`) of a JWS in JSON serialization.
    static func identify(_ body: [UInt8]) -> (String, String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let encoded = object["payload"] as? String else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
              let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let id = payload["id"] as? String, let schema = payload["schema"] as? String else { return nil }
        let kind = schema.contains("/inventory/") ? "inventory" : schema.contains("/certificate/") ? "certificate" : nil
        guard let kind else { return nil }
        return (id.lowercased(), kind)
    }
}

/// The one place tests learn where a store is. With `ARDOISE_TEST_STORE_URL`,
/// `ARDOISE_TEST_STORE_TOKEN_FILE` and `ARDOISE_TEST_STORE_BENCH_DATA` (a data directory
/// holding the bench key enrolled with that token) the contract tests run against a real
/// `ardoise-store`; otherwise they start a `FakeStoreServer` with a `ContractStore`.
public enum TestStoreEndpoint {
    public struct External: Sendable {
        public var url: String
        public var tokenFile: String
        /// Where the enrolled bench key lives (`BenchKey.loadOrCreate(dataDirectory:)`).
        public var benchDataDirectory: String
    }

    public static var external: External? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["ARDOISE_TEST_STORE_URL"], !url.isEmpty,
              let tokenFile = environment["ARDOISE_TEST_STORE_TOKEN_FILE"], !tokenFile.isEmpty,
              let data = environment["ARDOISE_TEST_STORE_BENCH_DATA"], !data.isEmpty else { return nil }
        return External(url: url, tokenFile: tokenFile, benchDataDirectory: data)
    }
}

extension FakeStoreServer {
    /// A server speaking TLS with the PEM certificate chain and key in these files.
    public convenience init(certificateFile: String, keyFile: String, handler: @escaping Handler) throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
        self.init(tls: try NIOSSLContext(configuration: configuration), handler: handler)
    }
}

/// A private certificate authority and a server certificate for 127.0.0.1, made with the
/// `openssl` command in a directory the test owns (the test removes it).
public struct TestCertificateAuthority: Sendable {
    public let caFile: String
    public let certificateFile: String
    public let keyFile: String

    public init(in directory: String) throws {
        caFile = directory + "/ca.pem"
        certificateFile = directory + "/server.pem"
        keyFile = directory + "/server.key"
        let caKey = directory + "/ca.key"
        let request = directory + "/server.csr"
        let extensions = directory + "/server.ext"
        try "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=Ardoise test CA"])
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", keyFile, "-out", request, "-subj", "/CN=127.0.0.1"])
        try Self.openssl(["x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial",
                          "-out", certificateFile, "-days", "2", "-extfile", extensions])
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "openssl", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed"])
        }
    }
}
