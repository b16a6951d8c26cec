-- 0004 — invoices (with the terms in force snapshotted) and idempotency keys for writes
-- that move money.

CREATE TABLE invoices (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id),
    number              text NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
    issue_date          date NOT NULL,
    due_date            date NOT NULL CHECK (due_date >= issue_date),
    amount              numeric(18,2) NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL,
    description         text,
    status              text NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'partially_paid', 'paid', 'written_off', 'void')),
    paid_amount         numeric(18,2) NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    written_off_amount  numeric(18,2) NOT NULL DEFAULT 0 CHECK (written_off_amount >= 0),
    -- The terms in force when the invoice was issued.
    terms_version       integer NOT NULL,
    credit_limit        numeric(18,2) NOT NULL,
    net_days            integer NOT NULL,
    late_interest_rate  numeric(7,4) NOT NULL,
    early_discount_rate numeric(7,4),
    early_discount_days integer,
    override_reason     text,                 -- set when a manager exceeded the limit
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    void_reason         text,
    voided_by           bigint REFERENCES users (id),
    voided_at           timestamptz,
    CHECK (paid_amount + written_off_amount <= amount)
);
CREATE UNIQUE INDEX invoices_number_key ON invoices (lower(number));
CREATE INDEX invoices_customer_idx ON invoices (customer_id, id);
CREATE INDEX invoices_open_idx ON invoices (customer_id, due_date) WHERE status IN ('open', 'partially_paid');
CREATE INDEX invoices_due_idx ON invoices (due_date, id) WHERE status IN ('open', 'partially_paid');

-- Stripe's model: a key is claimed in the same transaction as the write it guards; a replay
-- with the same request returns the stored response; the same key with another request is 409.
CREATE TABLE idempotency_keys (
    method       text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    response     jsonb,
    user_id      bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

GRANT SELECT, INSERT, UPDATE ON invoices TO ashrai_application;
GRANT SELECT, INSERT, UPDATE ON idempotency_keys TO ashrai_application;
