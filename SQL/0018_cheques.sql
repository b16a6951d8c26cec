-- 0018 — post-dated cheques (שיקים דחויים) and returned payments.
-- A cheque with a value date still to come is held here, not in `payments`: it is not money yet,
-- so no balance, aging, KPI or statement can count it. On its value date (or when a statement shows
-- it cleared) it is applied: `payments.record`'s code makes the payment and `payment_id` points at it.
-- The invoices it is meant for (`cheque_invoices`) are not dunned while it is in hand.
CREATE TABLE cheques (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id),
    number              text NOT NULL CHECK (number ~ '^[0-9]{1,10}$'),
    bank_code           text NOT NULL CHECK (bank_code ~ '^[0-9]{1,3}$'),
    branch              text NOT NULL CHECK (branch ~ '^[0-9]{1,4}$'),
    account             text NOT NULL CHECK (account ~ '^[0-9]{1,20}$'),
    amount              numeric(18,2) NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL,
    received_on         date NOT NULL,
    value_date          date NOT NULL,
    reference           text,
    status              text NOT NULL DEFAULT 'in_hand' CHECK (status IN ('in_hand', 'applied', 'bounced', 'cancelled')),
    payment_id          bigint REFERENCES payments (id),
    applied_on          date,
    bank_transaction_id bigint REFERENCES bank_transactions (id),
    bounce_reason       text,
    bounced_on          date,
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'applied' OR payment_id IS NOT NULL),
    CHECK (status <> 'in_hand' OR payment_id IS NULL)
);
-- The same cheque (bank, branch, account, number) is in the books once.
CREATE UNIQUE INDEX cheques_identity_key ON cheques (bank_code, branch, account, number) WHERE status <> 'cancelled';
CREATE INDEX cheques_in_hand_idx ON cheques (value_date, id) WHERE status = 'in_hand';
CREATE INDEX cheques_customer_idx ON cheques (customer_id, value_date);
CREATE UNIQUE INDEX cheques_payment_key ON cheques (payment_id) WHERE payment_id IS NOT NULL;

CREATE TABLE cheque_invoices (
    cheque_id   bigint NOT NULL REFERENCES cheques (id),
    invoice_id  bigint NOT NULL REFERENCES invoices (id),
    amount      numeric(18,2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (cheque_id, invoice_id)
);
CREATE INDEX cheque_invoices_invoice_idx ON cheque_invoices (invoice_id);

GRANT SELECT, INSERT, UPDATE ON cheques TO ashrai_application;
GRANT SELECT, INSERT ON cheque_invoices TO ashrai_application;

ALTER TABLE cheques ENABLE ROW LEVEL SECURITY;
ALTER TABLE cheques FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON cheques FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON cheques FOR SELECT
    USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND customer_id = ANY ((SELECT ashrai_agency_customers())::bigint[]));
ALTER TABLE cheque_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE cheque_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON cheque_invoices FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON cheque_invoices FOR SELECT
    USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND invoice_id = ANY ((SELECT ashrai_agency_invoices())::bigint[]));

-- A payment the bank brought back (a bounced cheque, a returned transfer, a charge-back), as
-- opposed to one reversed because it was typed in by mistake: the payment-history score counts them.
ALTER TABLE payments ADD COLUMN returned_on date;
