import AshraiCore
import Foundation

/// `delivery.*`: how the outbox reaches customers. Off unless an SMTP URL is configured.
public struct DeliverySettings: Sendable {
    /// Nil: no e-mail is sent; letters stay in the outbox as before (the daemon logs it at start).
    public var smtp: SMTPSettings?
    /// Nil: no SMS (or WhatsApp) is sent; a level that names the channel falls back (post).
    public var sms: GatewaySettings?
    public var whatsapp: GatewaySettings?
    /// The sender: address and display name (`From`), and where replies go.
    public var fromAddress = ""
    public var fromName = ""
    public var replyTo: String?
    /// Extra headers on every e-mail (`delivery.headers`: one `Name: value` a line), e.g. `X-Account-Ref`.
    public var headers: [(name: String, value: String)] = []
    /// When messages may go out, in the business's time zone.
    public var hours = DeliveryHours()
    public var retry = RetryPolicy()
    /// How often a worker looks for due messages, and how many it takes at once.
    public var pollInterval: Duration = .seconds(30)
    public var batchSize = 50
    /// Hand-offs a worker makes at once (each its own SMTP connection or HTTP request).
    public var concurrency = 4
    /// A message still `sending` after this long was interrupted (a crash): it becomes `unknown`.
    public var sendingStaleAfter: Duration = .seconds(15 * 60)
    /// Attach the letter as a PDF (when WeasyPrint is installed).
    public var attachPDF = true

    public init() {}
}

extension AshraiConfiguration {
    /// Headers the message format writes itself, which configuration may not set.
    static let reservedHeaders: Set<String> = ["from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
                                               "content-type", "content-transfer-encoding", "sender", "return-path"]

    /// `Name: value` lines: a name of letters, digits and `-`, not one the format writes; a value without line breaks.
    public static func parseHeaders(_ text: String) throws -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw Problem(description: "delivery.headers (ASHRAI_DELIVERY_HEADERS): each line is Name: value; \(line) is not")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.utf8.count <= 64,
                  name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }),
                  !reservedHeaders.contains(name.lowercased()), value.utf8.count <= 500 else {
                throw Problem(description: "delivery.headers (ASHRAI_DELIVERY_HEADERS): \(name) cannot be set (a header name of letters, digits and -, not one Ashrai writes itself)")
            }
            headers.append((name, value))
        }
        return headers
    }

    /// `delivery.<channel>.*`: a gateway, or nil when its URL is not set. The credential only from
    /// the environment (`tokenVariable`) or the file `delivery.<channel>.tokenFile` names.
    static func loadGateway(_ channel: String, tokenVariable: String, reader: (String) -> String?,
                            environment: [String: String]) throws -> GatewaySettings? {
        let prefix = "delivery.\(channel)."
        guard let url = reader(prefix + "url")?.trimmingCharacters(in: .whitespaces), !url.isEmpty else { return nil }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), URL(string: url)?.host != nil else {
            throw Problem(description: "\(prefix)url must be an http:// or https:// URL")
        }
        var gateway = GatewaySettings(url: url)
        if let header = reader(prefix + "header"), !header.isEmpty {
            guard header.utf8.count <= 64, header.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }) else {
                throw Problem(description: "\(prefix)header must be a header name (letters, digits and -)")
            }
            gateway.authHeader = header
        }
        if let token = environment[tokenVariable], !token.isEmpty {
            gateway.token = token
        } else if let file = reader(prefix + "tokenFile"), !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw Problem(description: "\(prefix)tokenFile: cannot read \(file)") }
            gateway.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let body = reader(prefix + "body"), !body.isEmpty { gateway.body = body }
        guard gateway.requestBody(to: "+972500000000", text: "שלום \"quoted\"\n", reference: "x@y") != nil else {
            throw Problem(description: "\(prefix)body must be a JSON template; put {{to}}, {{text}}, {{sender}} and {{reference}} inside JSON strings")
        }
        if let field = reader(prefix + "idField"), !field.isEmpty { gateway.idField = field }
        if let sender = reader(prefix + "sender") { gateway.sender = sender }
        gateway.caFile = reader(prefix + "caFile").flatMap { $0.isEmpty ? nil : $0 }
        return gateway
    }

    /// `delivery.*` from the configuration; the SMTP password only from `ASHRAI_SMTP_PASSWORD` or
    /// the file `delivery.smtp.passwordFile` names, never from the YAML itself.
    static func loadDelivery(reader: (String) -> String?, environment: [String: String], into settings: inout DeliverySettings) throws {
        if let url = reader("delivery.smtp.url")?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw Problem(description: "delivery.smtp.url (ASHRAI_DELIVERY_SMTP_URL) must be smtp://host:port (STARTTLS) or smtps://host:port")
            }
            var smtp = SMTPSettings(url: url)
            smtp.username = reader("delivery.smtp.username").flatMap { $0.isEmpty ? nil : $0 }
            if let password = environment["ASHRAI_SMTP_PASSWORD"], !password.isEmpty {
                smtp.password = password
            } else if let file = reader("delivery.smtp.passwordFile"), !file.isEmpty {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw Problem(description: "delivery.smtp.passwordFile: cannot read \(file)")
                }
                smtp.password = text.trimmingCharacters(in: .newlines)
            }
            if let tls = reader("delivery.smtp.requireTLS")?.lowercased() { smtp.requireTLS = !["false", "no", "off"].contains(tls) }
            smtp.caFile = reader("delivery.smtp.caFile").flatMap { $0.isEmpty ? nil : $0 }
            settings.smtp = smtp
            guard let from = reader("delivery.from"), from.contains("@") else {
                throw Problem(description: "delivery.from (ASHRAI_DELIVERY_FROM) must be the sender's e-mail address when delivery.smtp.url is set")
            }
            settings.fromAddress = from
        }
        settings.sms = try loadGateway("sms", tokenVariable: "ASHRAI_SMS_TOKEN", reader: reader, environment: environment)
        settings.whatsapp = try loadGateway("whatsapp", tokenVariable: "ASHRAI_WHATSAPP_TOKEN", reader: reader, environment: environment)
        if let name = reader("delivery.fromName") { settings.fromName = name }
        if let text = reader("delivery.headers"), !text.isEmpty { settings.headers = try parseHeaders(text) }
        if let replyTo = reader("delivery.replyTo"), !replyTo.isEmpty { settings.replyTo = replyTo }
        if let text = reader("delivery.hours") {
            guard let window = DeliveryHours.window(text) else {
                throw Problem(description: "delivery.hours (ASHRAI_DELIVERY_HOURS) must be HH:MM-HH:MM, e.g. 08:00-19:00")
            }
            (settings.hours.openMinute, settings.hours.closeMinute) = window
        }
        if let text = reader("delivery.days") {
            guard let days = DeliveryHours.weekdays(text) else {
                throw Problem(description: "delivery.days (ASHRAI_DELIVERY_DAYS) lists weekdays, e.g. sun,mon,tue,wed,thu")
            }
            settings.hours.weekdays = days
        }
        if let text = reader("delivery.daysOff"), !text.isEmpty {
            var days = Set<Int>()
            for part in text.split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                let bits = trimmed.split(separator: "-").compactMap { Int($0) }
                guard bits.count == 3, (1...12).contains(bits[1]), (1...CivilDay.daysIn(month: bits[1], year: bits[0])).contains(bits[2]) else {
                    throw Problem(description: "delivery.daysOff (ASHRAI_DELIVERY_DAYS_OFF) lists dates YYYY-MM-DD separated by commas; \(trimmed) is not one")
                }
                days.insert(CivilDay.day(year: bits[0], month: bits[1], day: bits[2]))
            }
            settings.hours.daysOff = days
        }
        if let text = reader("delivery.attachPdf")?.lowercased() { settings.attachPDF = !["false", "no", "off"].contains(text) }
        if let text = reader("delivery.pollSeconds") {
            guard let value = Int(text), (1...3600).contains(value) else {
                throw Problem(description: "delivery.pollSeconds (ASHRAI_DELIVERY_POLL_SECONDS) must be an integer 1…3600")
            }
            settings.pollInterval = .seconds(value)
        }
        if let text = reader("delivery.concurrency") {
            guard let value = Int(text), (1...32).contains(value) else {
                throw Problem(description: "delivery.concurrency (ASHRAI_DELIVERY_CONCURRENCY) must be an integer 1…32")
            }
            settings.concurrency = value
        }
        if let text = reader("delivery.maxAttempts") {
            guard let value = Int(text), (1...50).contains(value) else {
                throw Problem(description: "delivery.maxAttempts (ASHRAI_DELIVERY_MAX_ATTEMPTS) must be an integer 1…50")
            }
            settings.retry.maxAttempts = value
        }
    }
}
