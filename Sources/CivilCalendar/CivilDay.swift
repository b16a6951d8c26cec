/// The proleptic Gregorian calendar as day numbers, shared by AshraiCore (every rule counts days)
/// and Postgres (`PostgresDate`): no dependencies, so both can use it.

/// Calendar days counted from 1970-01-01 (the unit every AshraiCore rule uses for a day),
/// converted to and from the proleptic Gregorian year, month and day.
public enum CivilDay {
    /// The day number of `year-month-day`.
    public static func day(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The year, month and day of a day number.
    public static func components(_ days: Int) -> (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days in a month (February 29 in leap years).
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The last day of the month that `days` falls in.
    public static func endOfMonth(_ days: Int) -> Int {
        let (year, month, _) = components(days)
        return day(year: year, month: month, day: daysIn(month: month, year: year))
    }
}
