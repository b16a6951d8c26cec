import AshraiCore
import AshraiServer
import AshraiTestSupport
import Foundation
import Testing

@Suite("configuration layers")
struct ConfigurationTests {
    static func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ashraid-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let yaml = """
        listen: "0.0.0.0:9000"
        database:
          url: "postgresql://from_file@db.example:5432/ashrai"
          poolSize: 12
        migration:
          database:
            url: "postgresql://owner@db.example:5432/ashrai"
        log:
          level: debug
        """

    @Test("the file is read")
    func fileValues() async throws {
        let config = try await AshraiConfiguration.load(configFile: Self.file(Self.yaml), environment: [:])
        #expect(config.listenHost == "0.0.0.0" && config.listenPort == 9000)
        #expect(config.databaseURL == "postgresql://from_file@db.example:5432/ashrai")
        #expect(config.migrationDatabaseURL == "postgresql://owner@db.example:5432/ashrai")
        #expect(config.poolSize == 12)
        #expect(config.logLevel == .debug)
    }

    @Test("ASHRAI_* environment variables override the file, and --listen overrides both")
    func layering() async throws {
        let env = [
            "ASHRAI_DATABASE_URL": "postgresql://from_env@h/ashrai",
            "ASHRAI_MIGRATION_DATABASE_URL": "postgresql://owner_env@h/ashrai",
            "ASHRAI_LISTEN": "127.0.0.1:7001",
            "ASHRAI_DATABASE_POOL_SIZE": "3",
        ]
        let config = try await AshraiConfiguration.load(configFile: Self.file(Self.yaml), environment: env)
        #expect(config.databaseURL == "postgresql://from_env@h/ashrai")
        #expect(config.migrationDatabaseURL == "postgresql://owner_env@h/ashrai")
        #expect(config.listenPort == 7001)
        #expect(config.poolSize == 3)
        let flagged = try await AshraiConfiguration.load(configFile: Self.file(Self.yaml), environment: env, listen: "[::1]:7002")
        #expect(flagged.listenHost == "::1" && flagged.listenPort == 7002)
    }

    @Test("without a file the built-in defaults apply: 127.0.0.1:7420, no migration URL")
    func defaults() async throws {
        let config = try await AshraiConfiguration.load(configFile: nil, environment: [:])
        #expect(config.listenPort == 7420 && config.listenHost == "127.0.0.1")
        _ = config  // Config/ashraid.yaml may be present when run from the repository; both agree on these.
    }

    @Test("bad values are reported by key, not silently replaced")
    func badValues() async throws {
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: Self.file(Self.yaml), environment: ["ASHRAI_DATABASE_POOL_SIZE": "many"])
        }
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_LISTEN": "7420"])
        }
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: "/nonexistent/ashraid.yaml", environment: [:])
        }
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_LOG_LEVEL": "loud"])
        }
    }

    @Test("an SMS gateway: off by default; its token from the environment, never the file; a body template that does not make JSON is refused")
    func gateway() async throws {
        #expect(try await AshraiConfiguration.load(configFile: nil, environment: [:]).server.delivery.sms == nil)
        let yaml = """
            delivery:
              sms:
                url: "https://sms.example.com/send"
                header: "X-Api-Key"
                idField: "data.message_id"
                token: "from-the-file"
            """
        let config = try await AshraiConfiguration.load(configFile: Self.file(yaml), environment: ["ASHRAI_SMS_TOKEN": "from-the-environment"])
        let sms = try #require(config.server.delivery.sms)
        #expect(sms.url == "https://sms.example.com/send" && sms.authHeader == "X-Api-Key" && sms.token == "from-the-environment")
        #expect(sms.requestBody(to: "+972501234567", text: "שלום \"לקוח\"\nשורה", reference: "m@x") != nil)
        #expect(sms.providerID(in: ["data": ["message_id": "abc"]]) == "abc")
        let noToken = try await AshraiConfiguration.load(configFile: Self.file(yaml), environment: [:])
        #expect(noToken.server.delivery.sms?.token == nil)
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_DELIVERY_SMS_URL": "https://x.example", "ASHRAI_DELIVERY_SMS_BODY": "{\"to\": {{to}}}"])
        }
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_DELIVERY_SMS_URL": "ftp://x.example"])
        }
        // Business headers on every e-mail; the ones the format writes itself cannot be set.
        let headers = try AshraiConfiguration.parseHeaders("X-Account-Ref: 17\nOrganization: מאפיית השכונה\n")
        #expect(headers.map(\.name) == ["X-Account-Ref", "Organization"] && headers.last?.value == "מאפיית השכונה")
        #expect(throws: AshraiConfiguration.Problem.self) { try AshraiConfiguration.parseHeaders("Bcc: spy@example.com") }
        #expect(throws: AshraiConfiguration.Problem.self) { try AshraiConfiguration.parseHeaders("no colon here") }
    }
}

@Suite("credit policy configuration")
struct CreditConfigurationTests {
    @Test("the shipped Config/ashraid.yaml loads and equals the built-in defaults")
    func shippedFile() async throws {
        let path = TestDatabase.repositoryRootPath + "/Config/ashraid.yaml"
        let config = try await AshraiConfiguration.load(configFile: path, environment: [:])
        #expect(config.server.creditPolicy == CreditPolicy())
        #expect(config.server.defaultTerms == DefaultTerms())
        #expect(config.server.currency == .ils)
    }

    @Test("the business's clock and country: Asia/Jerusalem and IL by default, any IANA zone, bad ones refused by key")
    func clockAndCountry() async throws {
        let shipped = try await AshraiConfiguration.load(configFile: TestDatabase.repositoryRootPath + "/Config/ashraid.yaml", environment: [:])
        #expect(shipped.server.timeZone.identifier == "Asia/Jerusalem" && shipped.server.country == "IL")
        let builtIn = try await AshraiConfiguration.load(configFile: nil, environment: [:])
        #expect(builtIn.server.timeZone.identifier == "Asia/Jerusalem" && builtIn.server.country == "IL")
        let london = try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_BUSINESS_TIMEZONE": "Europe/London",
                                                                                       "ASHRAI_BUSINESS_COUNTRY": "gb"])
        #expect(london.server.timeZone.identifier == "Europe/London" && london.server.country == "GB")
        #expect(london.server.defaultTerms.basis == .net)
        let shotef = try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_CREDIT_DEFAULT_TERMS_TERMS_BASIS": "end_of_month"])
        #expect(shotef.server.defaultTerms.basis == .end_of_month)
        for (key, bad) in [("ASHRAI_BUSINESS_TIMEZONE", "Mars/Olympus"), ("ASHRAI_BUSINESS_TIMEZONE", "IST"), ("ASHRAI_BUSINESS_COUNTRY", "Israel"),
                           ("ASHRAI_CREDIT_DEFAULT_TERMS_TERMS_BASIS", "shotef")] {
            await #expect(throws: AshraiConfiguration.Problem.self, "\(key)=\(bad)") {
                try await AshraiConfiguration.load(configFile: nil, environment: [key: bad])
            }
        }
    }

    @Test("dunning schedule and business details: off by default, HH:MM local time, bad times refused; the shipped file's assets load")
    func collections() async throws {
        let shipped = try await AshraiConfiguration.load(configFile: TestDatabase.repositoryRootPath + "/Config/ashraid.yaml", environment: [:])
        #expect(shipped.server.collections.scheduleMinuteOfDay == nil)
        #expect(shipped.server.collections.business.bankTransfer.contains("Bank"))
        let unquoted = try await AshraiConfiguration.load(configFile: ConfigurationTests.file("dunning:\n  schedule: off\n"), environment: [:])
        #expect(unquoted.server.collections.scheduleMinuteOfDay == nil)
        let timed = try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_DUNNING_SCHEDULE": "06:30", "ASHRAI_BUSINESS_PHONE": "03-1234567"])
        #expect(timed.server.collections.scheduleMinuteOfDay == 6 * 60 + 30)
        #expect(timed.server.collections.business.phone == "03-1234567")
        for bad in ["25:00", "6.30", "daily", "06:60"] {
            await #expect(throws: AshraiConfiguration.Problem.self, "\(bad)") {
                try await AshraiConfiguration.load(configFile: nil, environment: ["ASHRAI_DUNNING_SCHEDULE": bad])
            }
        }
        var settings = shipped.server.collections
        settings.templatesDirectory = TestDatabase.repositoryRootPath + "/Config/templates"
        settings.defaultPolicyFile = TestDatabase.repositoryRootPath + "/Config/dunning-policy.json"
        let assets = try CollectionAssets.load(settings)
        #expect(assets.defaultPolicy.map(\.daysOverdue) == [1, 3, 15, 30, 45, 60])
        settings.defaultPolicyFile = "/nonexistent.json"
        #expect(throws: CollectionAssets.LoadError.self) { try CollectionAssets.load(settings) }
    }

    @Test("weights, thresholds and suggested terms come from the file; bad orders are refused")
    func overrides() async throws {
        let yaml = """
            credit:
              weights: { references: 40, altman: 15 }
              grades: { a: 90, b: 70, c: 50, d: 30 }
              suggested:
                b: { creditLimit: "30000.50", netDays: 50 }
              defaultTerms: { creditLimit: "1000", netDays: 14 }
            """
        let config = try await AshraiConfiguration.load(configFile: ConfigurationTests.file(yaml), environment: [:])
        #expect(config.server.creditPolicy.referencesWeight == 40)
        #expect(config.server.creditPolicy.gradeThresholds[.A] == 90)
        #expect(config.server.creditPolicy.suggestedTerms[.B] == SuggestedTerms(creditLimit: Decimal(string: "30000.5")!, netDays: 50))
        #expect(config.server.defaultTerms.creditLimit == 1000 && config.server.defaultTerms.netDays == 14)
        await #expect(throws: AshraiConfiguration.Problem.self) {
            try await AshraiConfiguration.load(configFile: ConfigurationTests.file("credit:\n  grades: { a: 40, b: 70 }\n"), environment: [:])
        }
    }
}
