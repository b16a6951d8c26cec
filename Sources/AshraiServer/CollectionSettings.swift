import AshraiCore
import AshraiProtocol
import Foundation

/// `dunning.*` and `business.*`: where letters' templates and the default policy live, the
/// daily run, and what a letter tells the customer about the business.
public struct CollectionSettings: Sendable {
    /// Directory of `TEMPLATE.LANG.txt.mustache` and `layout.LANG.html.mustache`.
    public var templatesDirectory = "Config/templates"
    /// The policy used until an admin sets one (`dunning.policy.set`).
    public var defaultPolicyFile = "Config/dunning-policy.json"
    /// Run `dunning.run` every day at this UTC time (`HH:MM`); nil = off (the default).
    public var scheduleMinuteOfDay: Int?
    /// The scheduled run waits for today's bank statement until this local time (`HH:MM`), then
    /// runs anyway; nil = it does not wait (the default).
    public var requireStatementByMinute: Int?
    /// The business as letters name it.
    public var business = Business()

    public init() {}

    /// What a letter says about who is writing and how to pay.
    public struct Business: Sendable {
        public var name = "Our business"
        public var phone = ""
        public var email = ""
        public var address = ""
        public var contactName = ""
        public var bankTransfer = ""
        public var cardPayment = ""
        public var digitalPayment = ""
        public init() {}
    }
}

/// `training.gates`: method → the course code or topic a caller must have current (off by default).
public struct TrainingSettings: Sendable {
    public var gates: [String: String] = [:]
    public init() {}
}

/// What collections read from disk at startup.
public struct CollectionAssets: Sendable {
    public var templates: LetterTemplates
    public var defaultPolicy: [Dunning.Level]

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func load(_ settings: CollectionSettings) throws(LoadError) -> CollectionAssets {
        let templates: LetterTemplates
        do { templates = try LetterTemplates.load(directory: settings.templatesDirectory) } catch {
            throw LoadError(description: "\(error)")
        }
        guard let data = FileManager.default.contents(atPath: settings.defaultPolicyFile),
              let json = try? JSONValue.parse(Array(data)) else {
            throw LoadError(description: "cannot read the default dunning policy \(settings.defaultPolicyFile)")
        }
        let levels: [Dunning.Level]
        do { levels = try DunningPolicy.levels(from: json["levels"] ?? .null) } catch {
            throw LoadError(description: "the default dunning policy \(settings.defaultPolicyFile): \(error.message)")
        }
        for level in levels where level.action.writesLetter {
            for language in ["he", "en"] where !templates.has(level.template, language: language) {
                throw LoadError(description: "the default dunning policy names template \(level.template), but \(level.template).\(language).txt.mustache is missing")
            }
        }
        return CollectionAssets(templates: templates, defaultPolicy: levels)
    }
}
