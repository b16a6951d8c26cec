import AshraiCore

extension Schema {
    public static let bankTransaction = object([
        "id": id, "statement_id": id, "account": string, "booking_date": date, "value_date": nullable(date), "amount": money,
        "currency": string, "counterparty_name": nullable(string), "counterparty_account": nullable(string),
        "remittance": nullable(string), "bank_reference": nullable(string), "location": string,
        "status": oneOf(BankTransactionStatus.self), "payment_id": nullable(id), "created_at": instant,
    ], required: ["id", "statement_id", "account", "booking_date", "amount", "currency", "location", "status"])
}

extension MethodCatalog {
    static let bankMethods: [MethodSpec] = [
        MethodSpec(name: "bank.statements.import",
                   summary: "Import a bank statement: camt.053 (ISO 20022, .001.02–.001.08), MT940, or a bank's CSV export read through a profile in Config/bank-profiles (then account names the business's account). Each booked line becomes a bank transaction once: a line already imported (by the bank's reference with its day and amount, else all its fields) adds nothing. A file that does not read is refused naming the line or element, and nothing is written. dry_run reads and counts without writing.",
                   access: managers,
                   params: [.required("format", Schema.oneOf(BankStatementFormat.self)), .required("content", Schema.string),
                            .optional("profile", Schema.string(maxLength: 64)), .optional("account", Schema.string(maxLength: 64)),
                            .optional("dry_run", Schema.bool)],
                   result: Schema.object([
                       "statement_id": Schema.nullable(Schema.id), "format": Schema.oneOf(BankStatementFormat.self), "dry_run": Schema.bool,
                       "lines": ["type": "integer"], "new": ["type": "integer"], "duplicates": ["type": "integer"],
                       "credits": Schema.money, "debits": Schema.money,
                       "transactions": Schema.array(Schema.bankTransaction),
                   ], required: ["format", "dry_run", "lines", "new", "duplicates", "credits", "debits", "transactions"])),
        MethodSpec(name: "bank.transactions.list",
                   summary: "Imported bank lines, oldest first: by status (unmatched — the worklist —, posted, ignored) and statement.",
                   access: staff,
                   params: [.optional("status", Schema.oneOf(BankTransactionStatus.self)), .optional("statement_id", Schema.id),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["transactions": Schema.array(Schema.bankTransaction), "next_after": Schema.nullable(Schema.id)],
                                         required: ["transactions"])),
        MethodSpec(name: "bank.profiles.list", summary: "The CSV export profiles this server knows (Config/bank-profiles).", access: staff,
                   params: [],
                   result: Schema.object(["profiles": Schema.array(Schema.object([
                       "name": Schema.string, "bank": Schema.string, "export": Schema.string,
                   ], required: ["name", "bank", "export"]))], required: ["profiles"])),
    ]
}
