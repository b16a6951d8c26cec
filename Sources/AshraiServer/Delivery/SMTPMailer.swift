import AshraiCore
import CCurl
import Foundation
import NIOPosix

/// Where and how to hand e-mail over (from `delivery.smtp.*`; the password from the environment
/// or a file, never from the YAML).
public struct SMTPSettings: Sendable, Equatable {
    /// `smtp://host:port` (STARTTLS when `requireTLS`) or `smtps://host:port` (implicit TLS).
    public var url: String
    public var username: String?
    public var password: String?
    /// Refuse to send without TLS (STARTTLS on an `smtp://` URL).
    public var requireTLS = true
    /// A CA bundle to verify the server with (tests use their own CA); nil: the system's.
    public var caFile: String?
    public var timeoutSeconds = 60

    public init(url: String, username: String? = nil, password: String? = nil, requireTLS: Bool = true, caFile: String? = nil,
                timeoutSeconds: Int = 60) {
        self.url = url
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.caFile = caFile
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Sends e-mail through libcurl's SMTP (EHLO, STARTTLS or implicit TLS, AUTH, MAIL/RCPT/DATA):
/// the protocol is libcurl's, the bytes are `MailFormat`'s. Each send is a blocking call on the
/// mailer's own threads, never on an event loop or the cooperative pool.
final class SMTPMailer: Sendable {
    let settings: SMTPSettings
    let threads: NIOThreadPool

    static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    init(settings: SMTPSettings, threads: Int = 2) {
        self.settings = settings
        self.threads = NIOThreadPool(numberOfThreads: threads)
        self.threads.start()
        _ = Self.globalInit
    }

    func shutdown() async { try? await threads.shutdownGracefully() }

    /// Hands `mail` to the server as the bytes `raw` (`MailFormat.message(mail)`, kept by the
    /// caller as what was sent); what happened, classified (`DeliveryOutcome.smtp`).
    func send(_ mail: OutgoingMail, raw: [UInt8]) async -> DeliveryOutcome {
        let settings = self.settings
        do {
            return try await threads.runIfActive { Self.sendBlocking(mail, raw: raw, settings: settings) }
        } catch {
            return .temporary("the mailer is shutting down")
        }
    }

    /// The message bytes handed to libcurl's read callback.
    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    static func sendBlocking(_ mail: OutgoingMail, raw: [UInt8], settings: SMTPSettings) -> DeliveryOutcome {
        guard let handle = curl_easy_init() else { return .temporary("libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        let upload = Upload(raw)
        let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(mail.to)>")
        defer { curl_slist_free_all(recipients) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let outcome: DeliveryOutcome = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            ashrai_curl_setopt_string(handle, CURLOPT_URL, settings.url)
            ashrai_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.fromAddress)>")
            ashrai_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients))
            ashrai_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            ashrai_curl_setopt_read(handle) { buffer, size, count, userdata in
                guard let buffer, let userdata else { return 0 }
                let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
                let room = size * count
                let length = min(room, upload.bytes.count - upload.offset)
                guard length > 0 else { return 0 }
                upload.bytes.withUnsafeBufferPointer { source in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: length)
                }
                upload.offset += length
                return length
            }
            ashrai_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
            ashrai_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(settings.requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
            if let caFile = settings.caFile { ashrai_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
            if let username = settings.username { ashrai_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
            if let password = settings.password { ashrai_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            ashrai_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
            ashrai_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(settings.timeoutSeconds, 20))
            ashrai_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            ashrai_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorPointer.baseAddress!))
            let result = curl_easy_perform(handle)
            var code = 0
            ashrai_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            if result == CURLE_OK { return .sent(providerID: nil) }
            let detail = String(cString: errorPointer.baseAddress!)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            return DeliveryOutcome.smtp(code: code, error: message, atRecipient: message.contains("RCPT"))
        }
        withExtendedLifetime(upload) {}
        return outcome
    }
}
