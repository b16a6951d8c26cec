import Foundation

/// An installment plan's arithmetic: the schedule, its interest, and where a customer stands
/// on it. Days are counted from 1970-01-01 (as `LateInterest` counts them).
public enum InstallmentPlan {
    public enum Frequency: String, Sendable, CaseIterable {
        case weekly, biweekly, monthly
    }

    public struct Installment: Sendable, Equatable {
        /// 0 is the down payment; 1… the installments.
        public var seq: Int
        public var dueDay: Int
        public var amount: Decimal
        public init(seq: Int, dueDay: Int, amount: Decimal) {
            self.seq = seq
            self.dueDay = dueDay
            self.amount = amount
        }
    }

    /// The due day of installment `index` (0-based): every 7 or 14 days, or the same day of
    /// each following month — the month's last day when it is shorter (Jan 31 → Feb 28).
    public static func dueDay(first: Int, index: Int, frequency: Frequency) -> Int {
        switch frequency {
        case .weekly: return first + 7 * index
        case .biweekly: return first + 14 * index
        case .monthly:
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let start = Date(timeIntervalSince1970: TimeInterval(first) * 86_400)
            let date = calendar.date(byAdding: .month, value: index, to: start)!
            return Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        }
    }

    /// Simple interest on what the plan finances (total less the down payment), at an
    /// annual rate in percent, from the agreement day to the last installment's day, daily
    /// rate = annual / 365, rounded half-even to the cent once.
    public static func interest(financed: Decimal, annualRatePercent: Decimal, fromDay: Int, toDay: Int) -> Decimal {
        guard annualRatePercent > 0, financed > 0, toDay > fromDay else { return 0 }
        return Money.round(financed * annualRatePercent * Decimal(toDay - fromDay) / 36_500, scale: 2)
    }

    /// The schedule: the down payment (if any) as installment 0 on `downPaymentDay`, then
    /// `count` installments splitting the rest evenly to the cent, the remainder on the last,
    /// so the installments always sum exactly to `total` (1000.00 / 3 → 333.33, 333.33, 333.34).
    public static func schedule(total: Decimal, downPayment: Decimal, count: Int, frequency: Frequency,
                                firstDueDay: Int, downPaymentDay: Int, scale: Int = 2) -> [Installment] {
        precondition(count >= 1 && downPayment >= 0 && downPayment <= total)
        var result: [Installment] = []
        if downPayment > 0 { result.append(Installment(seq: 0, dueDay: downPaymentDay, amount: downPayment)) }
        let rest = total - downPayment
        let each = roundDown(rest / Decimal(count), scale: scale)
        for index in 0..<count {
            let amount = index == count - 1 ? rest - each * Decimal(count - 1) : each
            result.append(Installment(seq: index + 1, dueDay: dueDay(first: firstDueDay, index: index, frequency: frequency), amount: amount))
        }
        return result
    }

    static func roundDown(_ value: Decimal, scale: Int) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, scale, .down)
        return result
    }

    /// Where the customer stands: payments (their sum since the plan was agreed) are applied
    /// to the installments in order.
    public struct Standing: Sendable, Equatable {
        /// Paid towards each installment, in schedule order.
        public var paid: [Decimal]
        /// The first installment still unpaid `graceDays` after its day, if any: the plan is in default.
        public var defaultedSeq: Int?
        /// Everything paid.
        public var completed: Bool
        /// What is still due on the plan.
        public var remaining: Decimal
    }

    public static func standing(_ installments: [Installment], paidTotal: Decimal, asOfDay: Int, graceDays: Int) -> Standing {
        var left = paidTotal
        var paid: [Decimal] = []
        var defaulted: Int?
        for installment in installments {
            let part = min(max(left, 0), installment.amount)
            left -= part
            paid.append(part)
            if part < installment.amount, defaulted == nil, asOfDay > installment.dueDay + graceDays {
                defaulted = installment.seq
            }
        }
        let total = installments.reduce(Decimal(0)) { $0 + $1.amount }
        let covered = paid.reduce(Decimal(0), +)
        return Standing(paid: paid, defaultedSeq: defaulted, completed: covered >= total, remaining: total - covered)
    }
}

/// A promise to pay, judged as of a day: kept when the customer's payments from the day it
/// was made up to its due day (and not after `asOf`) cover the amount; broken when its day
/// has passed without that; open otherwise.
public enum PromiseStatus: String, Sendable, CaseIterable {
    case open, kept, broken

    public static func evaluate(amount: Decimal, dueDay: Int, paidInWindow: Decimal, asOfDay: Int) -> PromiseStatus {
        if paidInWindow >= amount { return .kept }
        return asOfDay > dueDay ? .broken : .open
    }
}

extension InstallmentPlan {
    /// A plan as agreed or proposed: its interest, total, schedule and starting status.
    public struct Terms: Sendable, Equatable {
        public var interest: Decimal
        public var total: Decimal
        public var schedule: [Installment]
        /// `active` when agreed in writing at creation, else `proposed`.
        public var status: PlanStatus
    }

    /// Why a plan cannot be made.
    public enum Refusal: Error, Sendable, Equatable {
        /// The down payment is not less than what the plan covers (`principal`).
        case downPaymentTooLarge(principal: Decimal)
        /// Some installment would be under one agora (0.01).
        case installmentsTooSmall
    }

    /// The plan for `principal` (what is open on its invoices): interest on what is financed
    /// (principal less down payment) from the start day (the agreement's, else today) to the last
    /// installment's due day; the schedule of the total; each installment at least 0.01; active
    /// when agreed, else proposed.
    public static func terms(principal: Decimal, downPayment: Decimal, count: Int, frequency: Frequency, firstDueDay: Int,
                             startDay: Int, annualRatePercent: Decimal, agreed: Bool) -> Result<Terms, Refusal> {
        guard downPayment < principal else { return .failure(.downPaymentTooLarge(principal: principal)) }
        let lastDue = dueDay(first: firstDueDay, index: count - 1, frequency: frequency)
        let interest = interest(financed: principal - downPayment, annualRatePercent: annualRatePercent, fromDay: startDay, toDay: lastDue)
        let total = principal + interest
        let schedule = schedule(total: total, downPayment: downPayment, count: count, frequency: frequency,
                                firstDueDay: firstDueDay, downPaymentDay: startDay)
        guard schedule.allSatisfy({ $0.amount > 0 }) else { return .failure(.installmentsTooSmall) }
        return .success(Terms(interest: interest, total: total, schedule: schedule, status: agreed ? .active : .proposed))
    }
}
