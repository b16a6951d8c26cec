-- 0016 — money in from the bank: imported statements and their lines. A line is imported once
-- (the unique duplicate key per account, AshraiCore.BankLine.duplicateKeys); matching and posting
-- work on `bank_transactions`.
CREATE TABLE bank_statements (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format        text NOT NULL CHECK (format IN ('camt053', 'mt940', 'csv')),
    profile       text,
    file_sha256   text NOT NULL,
    line_count    integer NOT NULL,
    new_count     integer NOT NULL,
    imported_by   bigint REFERENCES users (id),
    imported_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bank_transactions (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    statement_id          bigint NOT NULL REFERENCES bank_statements (id),
    account               text NOT NULL,
    booking_date          date NOT NULL,
    value_date            date,
    amount                numeric(18,2) NOT NULL CHECK (amount <> 0),
    currency              text NOT NULL,
    counterparty_name     text,
    counterparty_account  text,
    remittance            text,
    bank_reference        text,
    location              text NOT NULL,
    duplicate_key         text NOT NULL,
    status                text NOT NULL DEFAULT 'unmatched' CHECK (status IN ('unmatched', 'posted', 'ignored')),
    payment_id            bigint REFERENCES payments (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account, duplicate_key)
);
CREATE INDEX bank_transactions_status_idx ON bank_transactions (status, booking_date, id);
CREATE INDEX bank_transactions_statement_idx ON bank_transactions (statement_id, id);

GRANT SELECT, INSERT ON bank_statements TO ashrai_application;
GRANT SELECT, INSERT, UPDATE ON bank_transactions TO ashrai_application;

ALTER TABLE bank_statements ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_statements FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON bank_statements FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
ALTER TABLE bank_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON bank_transactions FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));

-- Counterparty accounts a confirmed match linked to a customer (matching rule 3), and why lines were ignored.
CREATE TABLE customer_bank_accounts (
    customer_id  bigint NOT NULL REFERENCES customers (id),
    account      text NOT NULL,
    linked_from  bigint REFERENCES bank_transactions (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, account)
);
CREATE INDEX customer_bank_accounts_account_idx ON customer_bank_accounts (account);
GRANT SELECT, INSERT ON customer_bank_accounts TO ashrai_application;
ALTER TABLE customer_bank_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_bank_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON customer_bank_accounts FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
ALTER TABLE bank_transactions ADD COLUMN ignore_reason text;
ALTER TABLE bank_transactions ADD COLUMN match_reasons jsonb;
