import ArdoiseSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// One way to post a signed record to the store. The real one is `HTTPStoreTransport`.
public protocol StoreTransport: Sendable {
    /// Posts `record` (the exact signed bytes) with the bearer `token`. Throws only when no
    /// answer came (network, TLS, timeout); any HTTP status is returned.
    func post(record: String, token: String) async throws -> StoreReply
    /// Releases connections (the sender calls it after each round); a later `post` opens new ones.
    func shutdown() async
}

/// `POST {url}/api/v1/records` through async-http-client: HTTP/1.1 or 2, TLS with the
/// system's certificate authorities or only those of the configured CA file, redirects not
/// followed, connect and whole-request timeouts from the settings.
///
/// The HTTP client lives for one round only (created at the first post, shut down by
/// `shutdown()`), so no client is left running between rounds or at exit.
public final class HTTPStoreTransport: StoreTransport {
    private let configuration: HTTPClient.Configuration
    private let client = Mutex<HTTPClient?>(nil)
    private let recordsURL: String
    private let requestTimeout: TimeAmount
    /// The most of an answer body that is read (the contract's answers are a few hundred bytes).
    static let maximumAnswerBytes = 64 * 1024

    /// - Throws: `StoreClientError` `.invalidURL`, or `.caFileInvalid` when the CA file
    ///   cannot be read as PEM certificates.
    public init(settings: StoreSettings) throws(StoreClientError) {
        if let problem = StoreSettings.problem(withURL: settings.url) {
            throw StoreClientError(.invalidURL, problem, path: settings.url)
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = settings.caFile {
            tls.trustRoots = .certificates(try StoreSettings.trustedCertificates(caFile: caFile))
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(Int64(settings.connectTimeoutSeconds)),
                           read: .seconds(Int64(settings.requestTimeoutSeconds))))
        // A refused or failed connection is reported at once: the sender has its own backoff
        // (persisted per record), so the pool must not keep retrying until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
        recordsURL = settings.recordsURL
        requestTimeout = .seconds(Int64(settings.requestTimeoutSeconds))
    }

    public func post(record: String, token: String) async throws -> StoreReply {
        var request = HTTPClientRequest(url: recordsURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/jose+json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ardoise/\(ArdoiseVersion.string)")
        request.body = .bytes(ByteBuffer(string: record))
        let configuration = self.configuration
        let client = self.client.withLock { client in
            if let client { return client }
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = created
            return created
        }
        let response = try await client.execute(request, timeout: requestTimeout)
        var body = try await response.body.collect(upTo: Self.maximumAnswerBytes)
        return StoreReply(httpStatus: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
                          body: body.readBytes(length: body.readableBytes) ?? [])
    }

    public func shutdown() async {
        let client = self.client.withLock { client -> HTTPClient? in
            defer { client = nil }
            return client
        }
        try? await client?.shutdown()
    }

    /// A stable code and a readable message for a failure that got no HTTP answer.
    public static func describe(_ error: any Error) -> (code: String, message: LocalizedText) {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return (DeliveryOutcome.LocalCode.timeout, LocalizedText(
                    fr: "le serveur n'a pas répondu à temps (\(error))", en: "the store did not answer in time (\(error))"))
            default:
                break
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return (DeliveryOutcome.LocalCode.tls, LocalizedText(
                fr: "échec TLS (certificat du serveur non reconnu ?) : \(error)",
                en: "TLS failure (server certificate not trusted?): \(error)"))
        }
        return (DeliveryOutcome.LocalCode.unreachable, LocalizedText(
            fr: "serveur injoignable : \(error)", en: "store unreachable: \(error)"))
    }
}
