-- make bench: 100k customers, 1M invoices (half paid, with payments and allocations).
INSERT INTO customers (code, name, email)
SELECT 'C' || g, 'Customer ' || g || (ARRAY[' בע״מ', ' Ltd', ''])[1 + g % 3], 'c' || g || '@example.com'
FROM generate_series(1, 100000) g;
INSERT INTO credit_terms (customer_id, version, credit_limit, net_days, late_interest_rate, currency, reason)
SELECT id, 1, 10000000, 30, 12, 'ILS', 'bench' FROM customers;
INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, terms_version, credit_limit, net_days,
                      late_interest_rate, status, paid_amount)
SELECT 1 + (g % 100000), 'N' || g, d, d + 30, amt, 'ILS', 1, 10000000, 30, 12,
       CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'open' END, CASE WHEN g % 2 = 0 THEN amt ELSE 0 END
FROM (SELECT g, current_date - (g % 400) AS d, (100 + (g % 5000))::numeric(18,2) AS amt FROM generate_series(1, 1000000) g) s;
INSERT INTO payments (customer_id, amount, currency, method, received_on, reference, unapplied)
SELECT customer_id, amount, 'ILS', 'bank_transfer', issue_date + 20, id::text, 0 FROM invoices WHERE status = 'paid';
INSERT INTO allocations (payment_id, invoice_id, amount, applied_on)
SELECT p.id, p.reference::bigint, p.amount, p.received_on FROM payments p;
ANALYZE;
