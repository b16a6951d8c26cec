-- 0006 — write-offs of what will not be collected (bad debt).

CREATE TABLE writeoffs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    customer_id     bigint NOT NULL REFERENCES customers (id),
    amount          numeric(18,2) NOT NULL CHECK (amount > 0),
    reason          text NOT NULL,
    written_off_on  date NOT NULL,
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX writeoffs_invoice_idx ON writeoffs (invoice_id);
CREATE INDEX writeoffs_date_idx ON writeoffs (written_off_on, id);

GRANT SELECT, INSERT ON writeoffs TO ashrai_application;
