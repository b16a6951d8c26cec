-- 0010 — a business's first week: the basis of its terms (net or end of month, שוטף + N),
-- opening balances brought in from the old books, and legal identifiers found by value.

-- How the days to pay are counted (AshraiCore.TermsBasis): from the invoice's date, or from
-- the last day of the month it was issued in. Snapshotted on every invoice with the rest
-- of its terms.
ALTER TABLE credit_terms ADD COLUMN terms_basis text NOT NULL DEFAULT 'net'
    CHECK (terms_basis IN ('net', 'end_of_month'));
ALTER TABLE invoices ADD COLUMN terms_basis text NOT NULL DEFAULT 'net'
    CHECK (terms_basis IN ('net', 'end_of_month'));

-- An invoice that existed before Ashrai (`invoices.import {opening: true}`): recorded as it
-- was, without a credit decision. Everything else treats it as an ordinary invoice.
ALTER TABLE invoices ADD COLUMN opening boolean NOT NULL DEFAULT false;

-- The part of an opening invoice already paid in the old books is a payment of its own
-- kind, dated on the day of the import and allocated to that invoice.
ALTER TABLE payments DROP CONSTRAINT payments_method_check;
ALTER TABLE payments ADD CONSTRAINT payments_method_check
    CHECK (method IN ('card', 'bank_transfer', 'cheque', 'cash', 'digital', 'opening_balance'));

-- Legal identifiers are stored normalised (for Israel: 9 digits), so one equality finds a
-- duplicate. Not unique: a second customer may share one with a stated, audited reason.
CREATE INDEX customers_legal_id_idx ON customers (legal_id) WHERE legal_id IS NOT NULL;
