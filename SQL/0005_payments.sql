-- 0005 — payments and their allocations to invoices; early-payment discounts as their own lines.

ALTER TABLE invoices ADD COLUMN discount_amount numeric(18,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
ALTER TABLE invoices ADD CONSTRAINT invoices_not_over_settled
    CHECK (paid_amount + discount_amount + written_off_amount <= amount);

CREATE TABLE payments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    amount         numeric(18,2) NOT NULL CHECK (amount > 0),
    currency       char(3) NOT NULL,
    method         text NOT NULL CHECK (method IN ('card', 'bank_transfer', 'cheque', 'cash', 'digital')),
    received_on    date NOT NULL,
    reference      text,
    unapplied      numeric(18,2) NOT NULL CHECK (unapplied >= 0 AND unapplied <= amount),
    status         text NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'reversed')),
    reverse_reason text,
    reversed_by    bigint REFERENCES users (id),
    reversed_at    timestamptz,
    created_by     bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_customer_idx ON payments (customer_id, received_on, id);

CREATE TABLE allocations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id  bigint NOT NULL REFERENCES payments (id),
    invoice_id  bigint NOT NULL REFERENCES invoices (id),
    amount      numeric(18,2) NOT NULL CHECK (amount >= 0),
    discount    numeric(18,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    applied_on  date NOT NULL,
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    reversed_at timestamptz,
    CHECK (amount + discount > 0)
);
CREATE INDEX allocations_payment_idx ON allocations (payment_id);
CREATE INDEX allocations_invoice_idx ON allocations (invoice_id) WHERE reversed_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON payments, allocations TO ashrai_application;
