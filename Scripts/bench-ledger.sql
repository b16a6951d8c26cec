-- make bench: 100k customers, 1M invoices over 397 days (397, not 400: a customer's ten invoices fall on different days), about 40% paid, with payments and allocations.
-- Payment pattern (what the forecast backtest learns): customers with an even id never pay; the others pay
-- each invoice at a lag after its due date set by the customer's profile (-10, -3, 0, 5, 10, 20, 35 or 60
-- days) give or take 5 days, except one invoice in ten, which is never paid. What falls after today is open.
INSERT INTO customers (code, name, email)
SELECT 'C' || g, 'Customer ' || g || (ARRAY[' בע״מ', ' Ltd', ''])[1 + g % 3], 'c' || g || '@example.com'
FROM generate_series(1, 100000) g;
INSERT INTO credit_terms (customer_id, version, credit_limit, net_days, late_interest_rate, currency, reason)
SELECT id, 1, 10000000, 30, 12, 'ILS', 'bench' FROM customers;
CREATE TEMP TABLE bench_invoices AS
SELECT g, 1 + (g % 100000) AS customer_id, d AS issue_date, d + 30 AS due_date, amt,
       CASE WHEN g % 2 = 0 AND g % 20 <> 0
            THEN d + 30 + (ARRAY[-10, -3, 0, 5, 10, 20, 35, 60])[1 + ((g % 100000) / 2) % 8] + (((g::bigint * 7919) % 11) - 5)::int END AS paid_on
FROM (SELECT g, current_date - (g % 397) AS d, (100 + (g % 5000))::numeric(18,2) AS amt FROM generate_series(1, 1000000) g) s;
UPDATE bench_invoices SET paid_on = NULL WHERE paid_on > current_date;
INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, terms_version, credit_limit, net_days,
                      late_interest_rate, status, paid_amount)
SELECT customer_id, 'N' || g, issue_date, due_date, amt, 'ILS', 1, 10000000, 30, 12,
       CASE WHEN paid_on IS NOT NULL THEN 'paid' ELSE 'open' END, CASE WHEN paid_on IS NOT NULL THEN amt ELSE 0 END
FROM bench_invoices ORDER BY g;
INSERT INTO payments (customer_id, amount, currency, method, received_on, reference, unapplied)
SELECT i.customer_id, i.amount, 'ILS', 'bank_transfer', b.paid_on, i.id::text, 0
FROM invoices i JOIN bench_invoices b ON 'N' || b.g = i.number WHERE b.paid_on IS NOT NULL;
INSERT INTO allocations (payment_id, invoice_id, amount, applied_on)
SELECT p.id, p.reference::bigint, p.amount, p.received_on FROM payments p;
DROP TABLE bench_invoices;
ANALYZE;
