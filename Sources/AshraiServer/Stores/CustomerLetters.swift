import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The letters that are not a dunning level's, written by `LetterStore` and delivered by the
/// same outbox (e-mail, else post): the notice that an account goes to an agency, the
/// confirmation of an installment plan with its schedule, and a statement on demand.
enum CustomerLetters {
    /// The invoices a letter lists, in the letter's language, with their accrued interest, and the totals.
    static func invoiceLines(_ ids: [Int64], asOf: PostgresDate, format: LetterStore.Format,
                             on tx: PostgresConnection) async throws -> (lines: [JSONValue], open: Decimal, interest: Decimal, overdue: Decimal) {
        guard !ids.isEmpty else { return ([], 0, 0, 0) }
        let interest = try await StatementMethods.accruedInterest(invoiceIDs: ids, asOf: asOf, on: tx)
        var lines: [JSONValue] = []
        var (open, interestTotal, overdue) = (Decimal(0), Decimal(0), Decimal(0))
        for row in try await tx.query("""
            SELECT i.id, i.number, i.issue_date, i.due_date, i.terms_basis, i.net_days, invoice_open_amount(i) AS open,
                   \(asOf)::date - i.due_date AS days_overdue
            FROM invoices i WHERE i.id = ANY(\(PostgresArray(ids.map { String($0) }))::bigint[]) ORDER BY i.due_date, i.id
            """) {
            let id = try row.decode(Int64.self, column: "id")
            let amount = try row.decode(Decimal.self, column: "open")
            let days = try row.decode(Int.self, column: "days_overdue")
            let accrued = interest[id] ?? 0
            open += amount
            interestTotal += accrued
            if days > 0 { overdue += amount }
            let basis = TermsBasis(rawValue: try row.decode(String.self, column: "terms_basis")) ?? .net
            lines.append(["id": .id(id), "number": .string(try row.decode(String.self, column: "number")),
                          "issue_date": format.day(try row.decode(PostgresDate.self, column: "issue_date")),
                          "due_date": format.day(try row.decode(PostgresDate.self, column: "due_date")),
                          "open_amount": format.money(amount), "days_overdue": .int(max(0, days)), "overdue": .bool(days > 0),
                          "terms": .string(basis.describe(netDays: try row.decode(Int.self, column: "net_days"), language: format.language)),
                          "interest": format.money(accrued), "has_interest": .bool(accrued > 0)])
        }
        return (lines, open, interestTotal, overdue)
    }

    /// The invoice-table fields the templates and the layout share.
    static func totals(_ lines: [JSONValue], open: Decimal, interest: Decimal, format: LetterStore.Format) -> JSONObject {
        ["invoices": .array(lines), "invoice_table": .bool(!lines.isEmpty), "open_total": format.money(open),
         "interest_total": format.money(interest), "has_interest": .bool(interest > 0), "fee": format.money(0), "has_fee": false,
         "total": format.money(open + interest)]
    }

    /// The notice that `assignmentID`'s invoices go to an agency. The assignment waits (pending)
    /// until the notice is sent; then it is active, notified on the day it was sent (`LetterStore.afterSent`).
    static func referralNotice(assignmentID: Int64, customerID: Int64, agency: AgencyRecord, invoiceIDs: [Int64], services: Services,
                               context: CallContext, on tx: PostgresConnection) async throws -> Int64 {
        let assets = try DunningPolicyStore.assets(services)
        let template = LetterKind.agency_referral.template!
        let recipient = try await LetterStore.recipient(customerID, on: tx)
        let format = LetterStore.Format(language: LetterStore.language(template: template, preferred: recipient.language, assets: assets),
                                        currency: services.settings.currency)
        let today = services.today()
        let listed = try await invoiceLines(invoiceIDs, asOf: today, format: format, on: tx)
        var data = LetterStore.baseData(services: services, customerID: customerID, recipient: recipient, format: format, day: today)
        for (key, value) in totals(listed.lines, open: listed.open, interest: listed.interest, format: format) { data[key] = value }
        data["agency"] = ["name": .string(agency.name), "phone": .optional(agency.phone), "email": .optional(agency.email)]
        data["assignment_id"] = .id(assignmentID)
        let letterID = try await LetterStore.write(LetterStore.Draft(
            kind: .agency_referral, customerID: customerID, template: template, language: format.language, asOf: today, data: data,
            total: listed.open + listed.interest, invoiceIDs: invoiceIDs,
            summary: "Notice that invoices go to \(agency.name) for collection (assignment #\(assignmentID))"),
            recipient: recipient, services: services, context: context, on: tx)
        try await tx.query("UPDATE assignments SET notice_letter_id = \(letterID) WHERE id = \(assignmentID)")
        return letterID
    }

    /// The confirmation of an agreed plan, with its schedule.
    static func planConfirmation(_ plan: PlanMethods.Plan, principal: Decimal, interest: Decimal, services: Services, context: CallContext,
                                 on tx: PostgresConnection) async throws -> Int64 {
        let assets = try DunningPolicyStore.assets(services)
        let template = LetterKind.plan_confirmation.template!
        let recipient = try await LetterStore.recipient(plan.customerID, on: tx)
        let format = LetterStore.Format(language: LetterStore.language(template: template, preferred: recipient.language, assets: assets),
                                        currency: services.settings.currency)
        let today = services.today()
        let numbers = try await tx.query("""
            SELECT string_agg(number, ', ' ORDER BY id) FROM invoices WHERE id = ANY(\(PostgresArray(plan.invoiceIDs.map { String($0) }))::bigint[])
            """).one().decode(String?.self, at: 0) ?? ""
        var data = LetterStore.baseData(services: services, customerID: plan.customerID, recipient: recipient, format: format, day: today)
        data["plan"] = ["id": .id(plan.id), "agreed_on": plan.agreedOn.map(format.day) ?? .null, "invoice_numbers": .string(numbers),
                        "principal": format.money(principal), "interest": format.money(interest), "has_interest": .bool(interest > 0),
                        "total": format.money(plan.total), "grace_days": .int(plan.graceDays)]
        data["has_schedule"] = true
        data["schedule"] = .array(plan.installments.map { installment in
            ["number": .int(installment.seq), "due_date": format.day(PostgresDate(daysSinceEpoch: installment.dueDay)),
             "amount": format.money(installment.amount), "down_payment": .bool(installment.seq == 0)]
        })
        let letterID = try await LetterStore.write(LetterStore.Draft(
            kind: .plan_confirmation, customerID: plan.customerID, template: template, language: format.language, asOf: today, data: data,
            total: plan.total, invoiceIDs: plan.invoiceIDs, summary: "Confirmation of installment plan #\(plan.id) with its schedule"),
            recipient: recipient, services: services, context: context, on: tx)
        try await tx.query("UPDATE plans SET confirmation_letter_id = \(letterID) WHERE id = \(plan.id)")
        return letterID
    }

    /// A statement of the customer's open invoices as of a day, sent to the customer.
    static func statement(customerID: Int64, asOf: PostgresDate, services: Services, context: CallContext,
                          on tx: PostgresConnection) async throws -> Int64 {
        let assets = try DunningPolicyStore.assets(services)
        let template = LetterKind.statement.template!
        let recipient = try await LetterStore.recipient(customerID, on: tx)
        let format = LetterStore.Format(language: LetterStore.language(template: template, preferred: recipient.language, assets: assets),
                                        currency: services.settings.currency)
        let ids = try await tx.query("""
            SELECT id FROM invoices WHERE customer_id = \(customerID) AND status IN (\(unescaped: InvoiceStatus.owingSQL)) AND issue_date <= \(asOf)
            ORDER BY due_date, id LIMIT 500
            """).map { try $0.decode(Int64.self, at: 0) }
        let listed = try await invoiceLines(ids, asOf: asOf, format: format, on: tx)
        var data = LetterStore.baseData(services: services, customerID: customerID, recipient: recipient, format: format, day: services.today())
        for (key, value) in totals(listed.lines, open: listed.open, interest: listed.interest, format: format) { data[key] = value }
        data["overdue_total"] = format.money(listed.overdue)
        data["statement"] = ["as_of": format.day(asOf)]
        return try await LetterStore.write(LetterStore.Draft(
            kind: .statement, customerID: customerID, template: template, language: format.language, asOf: asOf, data: data,
            total: listed.open + listed.interest, invoiceIDs: ids,
            summary: "Statement of account as of \(asOf), open \(Money(listed.open, services.settings.currency).text)"),
            recipient: recipient, services: services, context: context, on: tx)
    }
}
