import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// Writing to a customer, whatever the letter (AshraiCore.LetterKind): the data every template
/// reads, rendering, storing the letter with its interaction, and queueing one message per
/// channel (AshraiCore.ChannelPlan) — and, when a message fails for good, its fallback.
enum LetterStore {
    /// Who a letter is written to, and how they can be reached.
    struct Recipient: Sendable {
        var name: String
        var code: String?
        var language: String
        /// Nil when the customer has none, or the mail server refused it.
        var email: String?
        /// Nil when the customer has none, or a gateway refused it.
        var phone: String?
        /// The postal address, as the envelope's window shows it (under the name).
        var address: String?

        var postalAddress: String { [name, address ?? ""].filter { !$0.isEmpty }.joined(separator: "\n") }

        /// Where a message on `channel` goes.
        func destination(_ channel: MessageChannel) -> String? {
            switch channel {
            case .email: return email
            case .sms, .whatsapp: return phone
            case .post: return postalAddress
            }
        }

        /// The channels this customer can be reached on with what the business has configured.
        func usable(_ delivery: DeliverySettings) -> Set<MessageChannel> {
            var channels: Set<MessageChannel> = [.post]
            if email != nil, delivery.smtp != nil { channels.insert(.email) }
            if phone != nil, delivery.sms != nil { channels.insert(.sms) }
            if phone != nil, delivery.whatsapp != nil { channels.insert(.whatsapp) }
            return channels
        }
    }

    /// Name, code, language and usable addresses of customers, in one read.
    static func recipients(_ ids: some Collection<Int64>, on tx: PostgresConnection) async throws -> [Int64: Recipient] {
        guard !ids.isEmpty else { return [:] }
        var people: [Int64: Recipient] = [:]
        for row in try await tx.query("""
            SELECT id, name, code, language, CASE WHEN email_refused_at IS NULL THEN nullif(btrim(email), '') END AS email,
                   CASE WHEN phone_refused_at IS NULL THEN nullif(btrim(phone), '') END AS phone, address
            FROM customers WHERE id = ANY(\(PostgresArray(ids.map { String($0) }))::bigint[])
            """) {
            people[try row.decode(Int64.self, column: "id")] = Recipient(
                name: try row.decode(String.self, column: "name"), code: try row.decode(String?.self, column: "code"),
                language: try row.decode(String?.self, column: "language") ?? "he", email: try row.decode(String?.self, column: "email"),
                phone: try row.decode(String?.self, column: "phone"), address: try row.decode(String?.self, column: "address"))
        }
        return people
    }

    static func recipient(_ id: Int64, on tx: PostgresConnection) async throws -> Recipient {
        guard let recipient = try await recipients([id], on: tx)[id] else { throw RPCFailure.notFound("customer") }
        return recipient
    }

    /// The letter's language: the customer's when the template exists in it, else English.
    static func language(template: String, preferred: String, assets: CollectionAssets) -> String {
        assets.templates.has(template, language: preferred) ? preferred : "en"
    }

    /// How a letter writes money and days, in its language.
    struct Format {
        var language: String
        var currency: Currency
        func money(_ value: Decimal) -> JSONValue { .string(LetterFormat.amount(value, currency: currency, language: language)) }
        func day(_ date: PostgresDate) -> JSONValue {
            .string(LetterFormat.date(year: date.year, month: date.month, day: date.day, language: language))
        }
    }

    /// What every template reads: the business, the customer, the letter's day.
    static func baseData(services: Services, customerID: Int64, recipient: Recipient, format: Format, day: PostgresDate) -> JSONObject {
        let business = services.settings.collections.business
        var businessJSON: JSONObject = [:]
        for (key, value) in [("name", business.name), ("phone", business.phone), ("email", business.email), ("address", business.address),
                             ("contact_name", business.contactName), ("bank_transfer", business.bankTransfer),
                             ("card_payment", business.cardPayment), ("digital_payment", business.digitalPayment)] where !value.isEmpty {
            businessJSON[key] = .string(value)
        }
        return [
            "business": .object(businessJSON),
            "customer": ["id": .id(customerID), "name": .string(recipient.name),
                         "reference": .string(Dunning.customerReference(code: recipient.code, id: customerID, language: format.language))],
            "letter_date": format.day(day),
        ]
    }

    /// A letter ready to be stored.
    struct Draft {
        var kind: LetterKind
        var customerID: Int64
        var template: String
        var language: String
        var asOf: PostgresDate
        var data: JSONObject
        var total: Decimal
        var fee: Decimal = 0
        var level: Dunning.Level? = nil
        var lastDateToPay: PostgresDate? = nil
        var runID: Int64? = nil
        var invoiceIDs: [Int64] = []
        /// The interaction's summary.
        var summary: String
        var channels: [MessageChannel] = [.email]
    }

    /// Renders, stores and logs a letter, and queues its messages; its id.
    static func write(_ draft: Draft, recipient: Recipient, services: Services, context: CallContext, on tx: PostgresConnection) async throws -> Int64 {
        let assets = try DunningPolicyStore.assets(services)
        let data = JSONValue.object(draft.data)
        let rendered: (text: String, html: String)
        do { rendered = try assets.templates.render(template: draft.template, language: draft.language, data: data) } catch {
            throw RPCFailure(.internalError, "the letter template \(draft.template).\(draft.language) could not be rendered")
        }
        let id = try await tx.query("""
            INSERT INTO letters (kind, customer_id, run_id, level, action, template, language, as_of, last_date_to_pay, total, fee, data,
                                 body_text, body_html)
            VALUES (\(draft.kind.rawValue), \(draft.customerID), \(draft.runID), \(draft.level?.level), \(draft.level?.action.rawValue),
                    \(draft.template), \(draft.language), \(draft.asOf), \(draft.lastDateToPay), \(draft.total), \(draft.fee), \(data),
                    \(rendered.text), \(rendered.html))
            RETURNING id
            """).scalar(Int64.self)
        _ = try await InteractionMethods.insert(
            customerID: draft.customerID, kind: .letter, channelDetail: draft.template, occurredAt: nil, summary: "\(draft.summary): letter #\(id)",
            outcome: nil, reason: nil, invoiceIDs: draft.invoiceIDs, correctsID: nil, letterID: id, context: context, on: tx)
        let letter = Letter(id: id, customerID: draft.customerID, language: draft.language, text: rendered.text, html: rendered.html, data: data)
        for step in ChannelPlan.initial(draft.channels, usable: recipient.usable(services.settings.delivery)) {
            try await queue(letter, step: step, recipient: recipient, services: services, on: tx)
        }
        return id
    }

    /// A stored letter, as its messages are made from it.
    struct Letter {
        var id: Int64
        var customerID: Int64
        var language: String
        var text: String
        var html: String
        var data: JSONValue

        static func load(_ id: Int64, on tx: PostgresConnection) async throws -> Letter {
            let row = try await tx.query("SELECT customer_id, language, body_text, body_html, data FROM letters WHERE id = \(id)").one()
            return Letter(id: id, customerID: try row.decode(Int64.self, column: "customer_id"), language: try row.decode(String.self, column: "language"),
                          text: try row.decode(String.self, column: "body_text"), html: try row.decode(String.self, column: "body_html"),
                          data: try row.decode(JSONValue.self, column: "data"))
        }
    }

    /// Queues `letter` on one channel: the whole letter by e-mail and post, its short form
    /// (amount, pay-by date, a number to call: the `sms` template) by SMS and WhatsApp.
    static func queue(_ letter: Letter, step: ChannelPlan.Step, recipient: Recipient, services: Services, on tx: PostgresConnection) async throws {
        guard let destination = recipient.destination(step.channel) else { return }
        let subject = LetterTemplates.subject(ofText: letter.text) ?? services.settings.collections.business.name
        var text = letter.text
        var html: String? = letter.html
        if step.channel == .sms || step.channel == .whatsapp {
            text = try shortForm(letter, services: services)
            html = nil
        }
        try await OutboxStore.queue(letterID: letter.id, customerID: letter.customerID, channel: step.channel, recipient: destination,
                                    subject: subject, text: text, html: html, fallback: step.fallback,
                                    delivery: services.settings.delivery, on: tx)
    }

    /// The text of an SMS or WhatsApp message about a letter.
    static func shortForm(_ letter: Letter, services: Services) throws -> String {
        let templates = try DunningPolicyStore.assets(services).templates
        let language = templates.has("sms", language: letter.language) ? letter.language : "en"
        do { return try templates.render(template: "sms", language: language, data: letter.data).text.trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw RPCFailure(.internalError, "the sms template could not be rendered")
        }
    }

    /// What follows when a letter reaches the customer (sent by e-mail or a gateway, printed, or
    /// marked sent by hand): a referral notice activates its assignment, the customer notified on
    /// the business's day it was sent.
    static func afterSent(letterID: Int64, today: PostgresDate, context: CallContext, on tx: PostgresConnection) async throws {
        let activated = try await tx.query("""
            UPDATE assignments SET status = 'active', customer_notified_on = \(today), activated_on = \(today),
                notification_interaction_id = (SELECT min(x.id) FROM interactions x WHERE x.letter_id = \(letterID))
            WHERE notice_letter_id = \(letterID) AND status = 'pending'
            RETURNING id
            """)
        for row in activated {
            try await Audit.record(tx, context: context, method: "assignments.notify", entity: "assignment",
                                   entityID: String(try row.decode(Int64.self, at: 0)),
                                   details: ["letter_id": .id(letterID), "customer_notified_on": .date(today), "by": "the referral notice was sent"])
        }
    }

    /// After `message` failed for good: its letter goes by the next channel of its fallback that
    /// the customer can be reached on and that does not carry it already. The channel queued, or nil.
    static func fallBack(from message: MessageRecord, services: Services, on tx: PostgresConnection) async throws -> MessageChannel? {
        guard let letterID = message.letterID else { return nil }
        let recipient = try await recipient(message.customerID, on: tx)
        let used = Set(try await tx.query("SELECT channel FROM messages WHERE letter_id = \(letterID)")
            .map { MessageChannel(rawValue: try $0.decode(String.self, at: 0)) }.compactMap { $0 })
        guard let step = ChannelPlan.next(fallback: message.fallback, usable: recipient.usable(services.settings.delivery), used: used) else {
            return nil
        }
        try await queue(try await Letter.load(letterID, on: tx), step: step, recipient: recipient, services: services, on: tx)
        return step.channel
    }
}
