import ArdoiseSupport
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context of the store's routes: Hummingbird's basic one plus the TCP peer's
/// address, which the per-address rate limit needs.
public struct StoreRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The HTTP routes of docs/store-api.yaml and the pages for people, on Hummingbird 2.
public struct StoreServer: Sendable {
    public let service: TraceStoreService
    public let pages = StorePages()
    public var figuresSettings: FiguresSettings
    /// Per-bench and per-address token buckets, in this process's memory.
    public let limiter: RateLimiter

    public init(service: TraceStoreService, figuresSettings: FiguresSettings = FiguresSettings(), limits: RateLimits = RateLimits()) {
        self.service = service
        self.figuresSettings = figuresSettings
        limiter = RateLimiter(limits)
    }

    public init(service: TraceStoreService, figuresSettings: FiguresSettings = FiguresSettings(), limiter: RateLimiter) {
        self.service = service
        self.figuresSettings = figuresSettings
        self.limiter = limiter
    }

    static let jsonType = "application/json"
    static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
    static let joseType = "application/jose+json"

    /// The router with every route.
    public func router() -> Router<StoreRequestContext> {
        let router = Router(context: StoreRequestContext.self)
        let server = self
        // Liveness for load balancers: never limited.
        router.get("/api/v1/health") { _, _ in
            Self.json(.ok, ["status": "ok"])
        }
        router.post("/api/v1/records") { request, context in
            await server.receiveRecord(request, client: server.clientAddress(request, context))
        }
        router.get("/api/v1/certificates/:id") { request, context -> Response in
            if let wait = server.limiter.addresses.take("read|" + server.clientAddress(request, context)) { return Self.rateLimited(wait) }
            return await server.storedRecord(id: context.parameters.get("id") ?? "", kind: .certificate)
        }
        router.get("/api/v1/inventories/:id") { request, context -> Response in
            if let wait = server.limiter.addresses.take("read|" + server.clientAddress(request, context)) { return Self.rateLimited(wait) }
            return await server.storedRecord(id: context.parameters.get("id") ?? "", kind: .inventory)
        }
        router.get("/c/:id") { request, context -> Response in
            if let response = server.limitPage(request, context) { return response }
            return await server.certificatePage(request, id: context.parameters.get("id") ?? "")
        }
        router.get("/acces") { request, context -> Response in
            if let response = server.limitPage(request, context) { return response }
            return await server.accessPage(request)
        }
        router.get("/access") { request, context -> Response in
            if let response = server.limitPage(request, context) { return response }
            return await server.accessPage(request)
        }
        router.get("/figures/:year") { request, context -> Response in
            if let response = server.limitPage(request, context) { return response }
            return await server.figuresPage(request, year: context.parameters.get("year") ?? "")
        }
        return router
    }

    // MARK: Rate limits

    func clientAddress(_ request: Request, _ context: StoreRequestContext) -> String {
        limiter.clientAddress(peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[Self.forwardedFor])
    }

    /// 429 for a page when the client's address has no token left (pages and API reads share it).
    func limitPage(_ request: Request, _ context: StoreRequestContext) -> Response? {
        guard let wait = limiter.addresses.take("read|" + clientAddress(request, context)) else { return nil }
        var response = Self.html(.tooManyRequests, pages.messagePage(
            title: LocalizedText(fr: "Trop de demandes", en: "Too many requests"),
            message: LocalizedText(fr: "Réessayez dans \(wait) s.", en: "Try again in \(wait) s."), language: Self.language(request)))
        response.headers[.retryAfter] = String(wait)
        return response
    }

    static func rateLimited(_ wait: Int) -> Response {
        error(.tooManyRequests, code: "rate_limited", message: "Too many requests; retry in \(wait) s.",
              localized: "Trop de demandes ; réessayez dans \(wait) s.", retryAfter: wait)
    }

    /// An application listening on `host:port` (port 0: any free port, reported to `onRunning`).
    public func application(host: String, port: Int, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "ardoise-store"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    // MARK: API

    /// `client`: the address unauthenticated attempts are counted under.
    func receiveRecord(_ request: Request, client: String = "unknown") async -> Response {
        // An address that spent its allowance on failed attempts is refused before any database work.
        let failures = "push|" + client
        if let wait = limiter.addresses.exhausted(failures) { return Self.rateLimited(wait) }
        do {
            let bench: EnrolledBench
            do {
                bench = try await service.authenticate(request.headers[.authorization])
            } catch let refusal as PushRefusal {
                if let wait = limiter.addresses.take(failures) { return Self.rateLimited(wait) }
                throw refusal
            }
            // Nothing is read or stored beyond the token check when the bench is over its limit.
            if let wait = limiter.benches.take(bench.id) { return Self.rateLimited(wait) }
            if let type = request.headers[.contentType],
               !type.lowercased().hasPrefix(Self.joseType), !type.lowercased().hasPrefix(Self.jsonType) {
                throw PushRefusal(.unsupportedMediaType, fr: "Type de contenu « \(type) » refusé (attendu application/jose+json).",
                                  en: "Content type '\(type)' refused (expected application/jose+json).")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: service.maximumRecordBytes)
            } catch is NIOTooManyBytesError {
                throw PushRefusal(.tooLarge, fr: "Enregistrement trop gros (maximum \(service.maximumRecordBytes) octets).",
                                  en: "Record too large (maximum \(service.maximumRecordBytes) bytes).")
            }
            let receipt = try await service.store(Data(buffer.readableBytesView), from: bench)
            return Self.json(receipt.status == .stored ? .created : .ok,
                             ["status": receipt.status.rawValue, "id": receipt.id, "kind": receipt.kind.rawValue])
        } catch let refusal as PushRefusal {
            return Self.error(HTTPResponse.Status(code: refusal.code.httpStatus), code: refusal.code.rawValue,
                              message: refusal.message.english, localized: refusal.message.french)
        } catch {
            // A database that does not answer: transient, the bench retries later.
            return Self.error(.serviceUnavailable, code: "unavailable", message: "The store's database is unavailable; retry later.",
                              localized: "La base du registre ne répond pas ; réessayez plus tard.", retryAfter: 5)
        }
    }

    func storedRecord(id: String, kind: RecordKind) async -> Response {
        do {
            guard UUID(uuidString: id) != nil, let record = try await service.storage.record(id: id.lowercased()), record.kind == kind else {
                return Self.error(.notFound, code: "not_found", message: "No \(kind.rawValue) with this id.",
                                  localized: "Aucun enregistrement de ce type avec cet identifiant.")
            }
            var headers = HTTPFields()
            headers[.contentType] = Self.joseType
            headers[.eTag] = "\"\(record.sha256)\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: record.body)))
        } catch {
            return Self.error(.serviceUnavailable, code: "unavailable", message: "The store's database is unavailable; retry later.",
                              localized: "La base du registre ne répond pas ; réessayez plus tard.", retryAfter: 5)
        }
    }

    // MARK: Pages

    static func language(_ request: Request) -> Language {
        if let code = request.uri.queryParameters.get("lang"), let language = Language(code: code) { return language }
        if let accept = request.headers[.acceptLanguage], let first = accept.split(separator: ",").first,
           let language = Language(code: first.trimmingCharacters(in: .whitespaces)) {
            return language
        }
        return .french
    }

    func certificatePage(_ request: Request, id: String) async -> Response {
        let language = Self.language(request)
        do {
            let expected = request.uri.queryParameters.get("h") ?? request.uri.queryParameters.get("sha256")
            let check = try await StorePages.check(id: id, storage: service.storage, expectedSHA256: expected)
            let status: HTTPResponse.Status = check.state == .unknown ? .notFound : .ok
            return Self.html(status, pages.certificatePage(check, id: id, language: language))
        } catch {
            return Self.html(.serviceUnavailable, pages.messagePage(
                title: LocalizedText(fr: "Registre indisponible", en: "Store unavailable"),
                message: LocalizedText(fr: "La base du registre ne répond pas ; réessayez dans quelques minutes.",
                                       en: "The store's database does not answer; try again in a few minutes."), language: language))
        }
    }

    func accessPage(_ request: Request) async -> Response {
        let language = Self.language(request)
        let code = request.uri.queryParameters.get("code").flatMap { $0.isEmpty ? nil : $0 }
        do {
            guard let code else { return Self.html(.ok, pages.accessPage(code: nil, grant: nil, records: [], language: language)) }
            guard let hash = AccessCode.hash(code), let grant = try await service.storage.accessGrant(codeSHA256: hash) else {
                return Self.html(.notFound, pages.accessPage(code: code, grant: nil, records: [], language: language))
            }
            let records = grant.scope == .lot ? try await service.storage.records(lot: grant.value)
                                              : try await service.storage.records(donor: grant.value)
            return Self.html(.ok, pages.accessPage(code: code, grant: grant, records: records, language: language))
        } catch {
            return Self.html(.serviceUnavailable, pages.messagePage(
                title: LocalizedText(fr: "Registre indisponible", en: "Store unavailable"),
                message: LocalizedText(fr: "La base du registre ne répond pas.", en: "The store's database does not answer."), language: language))
        }
    }

    func figuresPage(_ request: Request, year text: String) async -> Response {
        let language = Self.language(request)
        let wantsCSV = text.hasSuffix(".csv")
        guard let year = Int(wantsCSV ? String(text.dropLast(4)) : text), (2000...2999).contains(year) else {
            return Self.html(.notFound, pages.messagePage(title: LocalizedText(fr: "Année invalide", en: "Invalid year"),
                                                          message: LocalizedText(fr: "Exemple : /figures/2026", en: "Example: /figures/2026"),
                                                          language: language))
        }
        do {
            let figures = YearFigures(year: year, counts: try await service.storage.yearCounts(year: year), settings: figuresSettings)
            if wantsCSV {
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"ardoise-figures-\(year).csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: figures.csv())))
            }
            return Self.html(.ok, pages.figuresPage(figures, language: language))
        } catch {
            return Self.html(.serviceUnavailable, pages.messagePage(
                title: LocalizedText(fr: "Registre indisponible", en: "Store unavailable"),
                message: LocalizedText(fr: "La base du registre ne répond pas.", en: "The store's database does not answer."), language: language))
        }
    }

    // MARK: Responses

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = jsonType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, code: String, message: String, localized: String, retryAfter: Int? = nil) -> Response {
        var response = json(status, ["error": ["code": code, "message": message, "messageFr": localized]])
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // No script at all: the pages work without JavaScript, and forbid it.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
