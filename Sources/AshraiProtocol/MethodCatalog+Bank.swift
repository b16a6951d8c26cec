import AshraiCore

extension Schema {
    public static let bankSuggestion = object([
        "action": ["type": "string", "enum": ["post", "reverse"], "description": "post: a payment of the customer (bank.match); reverse: money out returning payment_id (bank.reverse)"],
        "customer_id": id, "invoice_ids": array(id), "payment_id": nullable(id),
        "confidence": ["type": "integer", "minimum": 0, "maximum": 99], "reasons": array(string),
    ], required: ["action", "customer_id", "invoice_ids", "confidence", "reasons"])
    public static let bankTransaction = object([
        "id": id, "statement_id": id, "account": string, "booking_date": date, "value_date": nullable(date), "amount": money,
        "currency": string, "counterparty_name": nullable(string), "counterparty_account": nullable(string),
        "remittance": nullable(string), "bank_reference": nullable(string), "location": string,
        "status": oneOf(BankTransactionStatus.self), "payment_id": nullable(id), "created_at": instant, "ignore_reason": nullable(string),
        "suggestions": array(bankSuggestion),
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
                       "posted": ["type": "integer", "description": "credits posted as payments without a person (bank.autoPostConfidence), cheques paid in included"],
                       "cheques_cleared": ["type": "integer", "description": "credits that were cheques in hand (or applied on their value date) being paid in"],
                       "messages_cancelled": ["type": "integer", "description": "messages waiting for the customers paid whose letter no longer stands, cancelled now"],
                       "transactions": Schema.array(Schema.bankTransaction),
                   ], required: ["format", "dry_run", "lines", "new", "duplicates", "credits", "debits", "transactions"])),
        MethodSpec(name: "bank.transactions.list",
                   summary: "Imported bank lines, oldest first: by status (unmatched — the worklist —, posted, ignored) and statement.",
                   access: staff,
                   params: [.optional("status", Schema.oneOf(BankTransactionStatus.self)), .optional("statement_id", Schema.id),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["transactions": Schema.array(Schema.bankTransaction), "next_after": Schema.nullable(Schema.id)],
                                         required: ["transactions"])),
        MethodSpec(name: "bank.unmatched",
                   summary: "The worklist: bank lines not yet posted, returned or ignored, oldest first: each credit with its suggested customers and invoices, each debit with the payments it may be returning — how sure (0–99) and why.",
                   access: staff,
                   params: [.optional("limit", ["type": "integer", "minimum": 1, "maximum": 100]), .optional("after", Schema.id)],
                   result: Schema.object(["transactions": Schema.array(Schema.bankTransaction), "next_after": Schema.nullable(Schema.id)],
                                         required: ["transactions"])),
        MethodSpec(name: "bank.match",
                   summary: "Post a bank credit as the customer's payment by hand (through payments.record, allocated to allocations or oldest first); the payer's account is linked to the customer for next time.",
                   access: staff,
                   params: [.required("transaction_id", Schema.id), .required("customer_id", Schema.id),
                            .optional("allocations", Schema.array(Schema.object(["invoice_id": Schema.id, "amount": Schema.money],
                                                                                required: ["invoice_id", "amount"])))],
                   result: Schema.bankTransaction),
        MethodSpec(name: "bank.reverse",
                   summary: "Money out that brought a payment back (a bounced cheque — שיק חוזר —, a returned transfer, a charge-back): the payment is reversed through payments.reverse, its invoices are open again, its cheque (if any) is bounced, the customer's log and payment-history score show it, the bank's fee is charged as an invoice by policy, and the line is returned.",
                   access: staff,
                   params: [.required("transaction_id", Schema.id), .required("payment_id", Schema.id), .optional("reason", Schema.text),
                            .optional("fee", ["type": "string", "description": "the bank's fee to charge the customer, as an invoice of its own (default bank.returnFee; 0: none)"])],
                   result: Schema.bankTransaction),
        MethodSpec(name: "bank.ignore", summary: "Take a bank line off the worklist: not a customer payment (a fee, a salary, a transfer between accounts), with the reason.",
                   access: managers, params: [.required("transaction_id", Schema.id), .required("reason", Schema.text)],
                   result: Schema.bankTransaction),
        MethodSpec(name: "bank.profiles.list", summary: "The CSV export profiles this server knows (Config/bank-profiles).", access: staff,
                   params: [],
                   result: Schema.object(["profiles": Schema.array(Schema.object([
                       "name": Schema.string, "bank": Schema.string, "export": Schema.string,
                   ], required: ["name", "bank", "export"]))], required: ["profiles"])),
    ]
}

extension MethodCatalog {
    static let chequeMethods: [MethodSpec] = [
        MethodSpec(name: "cheques.list",
                   summary: "Cheques by value date — by default those in hand (post-dated, not money yet): the list a bookkeeper takes to the bank, with their count and total. Keyset-paginated by after (the id of the last cheque seen).",
                   access: staff,
                   params: [.optional("status", Schema.oneOf(ChequeStatus.self)), .optional("customer_id", Schema.id),
                            .optional("from", Schema.date), .optional("to", Schema.date),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["cheques": Schema.array(Schema.cheque), "next_after": Schema.nullable(Schema.id),
                                          "count": ["type": "integer"], "total": Schema.money],
                                         required: ["cheques", "next_after", "count", "total"])),
        MethodSpec(name: "cheques.get", summary: "One cheque, with the invoices it is meant for and the payment it became.", access: staff,
                   params: [.required("id", Schema.id)], result: Schema.cheque),
        MethodSpec(name: "cheques.apply",
                   summary: "Apply a cheque in hand now (the bank paid it, or it was deposited on its date): it becomes a payment through payments.record, allocated to the invoices it was meant for. The daily job applies cheques on their value date, and an imported statement that shows a cheque paid in applies it too.",
                   access: staff, params: [.required("id", Schema.id)], result: Schema.cheque),
        MethodSpec(name: "cheques.bounce",
                   summary: "A cheque the bank returned (חזר): one in hand is bounced; an applied one's payment is reversed through payments.reverse and its invoices are open again. The customer's log and payment-history score show it, and the bank's fee is charged as an invoice (fee, else bank.returnFee).",
                   access: staff,
                   params: [.required("id", Schema.id), .required("reason", Schema.text), .optional("fee", Schema.money)],
                   result: Schema.cheque),
        MethodSpec(name: "cheques.cancel", summary: "Give a cheque in hand back (replaced, or recorded by mistake), with the reason; it pauses nothing any more.",
                   access: staff, params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.cheque),
    ]
}
