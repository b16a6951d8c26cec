-- 0007 — collections: the interaction log, promises to pay, disputes and credit notes,
-- the dunning policy and its runs, letters, installment plans.

-- A credit note is its own ledger entry (a dispute resolved in the customer's favour):
-- it reduces what is open like a write-off does, but it is not bad debt.
ALTER TABLE invoices ADD COLUMN credited_amount numeric(18,2) NOT NULL DEFAULT 0 CHECK (credited_amount >= 0);
ALTER TABLE invoices DROP CONSTRAINT invoices_not_over_settled;
ALTER TABLE invoices ADD CONSTRAINT invoices_not_over_settled
    CHECK (paid_amount + discount_amount + written_off_amount + credited_amount <= amount);
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
    CHECK (status IN ('open', 'partially_paid', 'paid', 'written_off', 'credited', 'void'));

-- What is still owed on an invoice: one definition for exposure, plans, dunning and imports.
CREATE FUNCTION invoice_open_amount(i invoices) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT i.amount - i.paid_amount - i.discount_amount - i.written_off_amount - i.credited_amount
$$;

-- An invoice's status from its settlement columns (one rule for payments, write-offs,
-- credit notes and reversals). Void is set apart and never passes through here.
CREATE FUNCTION invoice_settlement_status(amount numeric, paid numeric, discount numeric, written_off numeric, credited numeric)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN paid + discount + written_off + credited >= amount THEN
            CASE WHEN written_off > 0 THEN 'written_off' WHEN paid + discount > 0 THEN 'paid' ELSE 'credited' END
        WHEN paid + discount + written_off + credited > 0 THEN 'partially_paid'
        ELSE 'open' END
$$;

-- Every contact with a customer. Append-only: a correction is a new entry that names the
-- one it corrects.
CREATE TABLE interactions (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id            bigint NOT NULL REFERENCES customers (id),
    kind                   text NOT NULL CHECK (kind IN ('call', 'email', 'letter', 'meeting', 'sms', 'social', 'note', 'agreement')),
    channel_detail         text,
    occurred_at            timestamptz NOT NULL,
    summary                text NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
    outcome                text,
    reason_for_nonpayment  text,
    invoice_ids            bigint[] NOT NULL DEFAULT '{}',
    corrects_id            bigint REFERENCES interactions (id),
    letter_id              bigint,
    created_by             bigint REFERENCES users (id),
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_customer_idx ON interactions (customer_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_staff_idx ON interactions (created_by, occurred_at);
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER interactions_append_only BEFORE UPDATE OR DELETE ON interactions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE holds ADD CONSTRAINT holds_interaction_fk FOREIGN KEY (interaction_id) REFERENCES interactions (id);

-- A promise to pay, made in an interaction. Its status (open, kept, broken) is computed as
-- of a date from the payments, never stored.
CREATE TABLE promises (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    interaction_id  bigint NOT NULL UNIQUE REFERENCES interactions (id),
    customer_id     bigint NOT NULL REFERENCES customers (id),
    amount          numeric(18,2) NOT NULL CHECK (amount > 0),
    promised_on     date NOT NULL,
    due_on          date NOT NULL CHECK (due_on >= promised_on),
    invoice_ids     bigint[] NOT NULL DEFAULT '{}',
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX promises_customer_idx ON promises (customer_id, due_on);
CREATE INDEX promises_due_idx ON promises (due_on);

CREATE TABLE disputes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    customer_id     bigint NOT NULL REFERENCES customers (id),
    reason          text NOT NULL,
    amount          numeric(18,2) CHECK (amount > 0),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    opened_on       date NOT NULL,
    opened_by       bigint REFERENCES users (id),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    resolution      text CHECK (resolution IN ('customer_right', 'business_right', 'partial')),
    resolution_note text,
    credit_amount   numeric(18,2) CHECK (credit_amount >= 0),
    resolved_on     date,
    resolved_by     bigint REFERENCES users (id),
    resolved_at     timestamptz,
    CHECK ((status = 'open') = (resolution IS NULL))
);
CREATE UNIQUE INDEX disputes_one_open_per_invoice ON disputes (invoice_id) WHERE status = 'open';
CREATE INDEX disputes_customer_idx ON disputes (customer_id, id);

CREATE TABLE credit_notes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id   bigint NOT NULL REFERENCES invoices (id),
    customer_id  bigint NOT NULL REFERENCES customers (id),
    dispute_id   bigint REFERENCES disputes (id),
    amount       numeric(18,2) NOT NULL CHECK (amount > 0),
    reason       text NOT NULL,
    issued_on    date NOT NULL,
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_id);
CREATE INDEX credit_notes_customer_idx ON credit_notes (customer_id, issued_on);

-- The dunning policy, versioned; none stored means the default shipped in Config/.
CREATE TABLE dunning_policies (
    version     integer PRIMARY KEY,
    levels      jsonb NOT NULL,
    reason      text,
    set_by      bigint REFERENCES users (id),
    set_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dunning_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of          date NOT NULL,
    policy_version integer NOT NULL,
    started_by     bigint REFERENCES users (id),
    scheduled      boolean NOT NULL DEFAULT false,
    summary        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE letters (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id       bigint NOT NULL REFERENCES customers (id),
    run_id            bigint REFERENCES dunning_runs (id),
    level             integer NOT NULL,
    action            text NOT NULL,
    template          text NOT NULL,
    language          text NOT NULL,
    as_of             date NOT NULL,
    last_date_to_pay  date NOT NULL,
    total             numeric(18,2) NOT NULL,
    fee               numeric(18,2) NOT NULL DEFAULT 0,
    data              jsonb NOT NULL,
    body_text         text NOT NULL,
    body_html         text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    sent_channel      text,
    sent_by           bigint REFERENCES users (id),
    sent_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX letters_customer_idx ON letters (customer_id, id);
CREATE INDEX letters_status_idx ON letters (status, id);
ALTER TABLE interactions ADD CONSTRAINT interactions_letter_fk FOREIGN KEY (letter_id) REFERENCES letters (id);

-- Each invoice reaches each level at most once: the primary key is what makes a run
-- idempotent and two concurrent runs unable to send twice.
CREATE TABLE dunning_steps (
    invoice_id   bigint NOT NULL REFERENCES invoices (id),
    level        integer NOT NULL,
    run_id       bigint NOT NULL REFERENCES dunning_runs (id),
    action       text NOT NULL,
    letter_id    bigint REFERENCES letters (id),
    as_of        date NOT NULL,
    PRIMARY KEY (invoice_id, level)
);
CREATE INDEX dunning_steps_letter_idx ON dunning_steps (letter_id);

CREATE TABLE plans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    status          text NOT NULL CHECK (status IN ('proposed', 'active', 'completed', 'defaulted', 'cancelled')),
    principal       numeric(18,2) NOT NULL CHECK (principal > 0),
    interest_rate   numeric(7,4) CHECK (interest_rate >= 0 AND interest_rate <= 100),
    interest_amount numeric(18,2) NOT NULL DEFAULT 0,
    total           numeric(18,2) NOT NULL,
    down_payment    numeric(18,2) NOT NULL DEFAULT 0 CHECK (down_payment >= 0),
    installments    integer NOT NULL CHECK (installments BETWEEN 1 AND 120),
    frequency       text NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    first_due_on    date NOT NULL,
    grace_days      integer NOT NULL CHECK (grace_days BETWEEN 0 AND 60),
    agreed_on       date,
    agreement_ref   text,
    signed_by       text,
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_on        date,
    end_reason      text,
    CHECK (status = 'proposed' OR (agreed_on IS NOT NULL AND signed_by IS NOT NULL AND agreement_ref IS NOT NULL))
);
CREATE INDEX plans_customer_idx ON plans (customer_id, id);

CREATE TABLE plan_invoices (
    plan_id      bigint NOT NULL REFERENCES plans (id),
    invoice_id   bigint NOT NULL REFERENCES invoices (id),
    open_amount  numeric(18,2) NOT NULL,
    PRIMARY KEY (plan_id, invoice_id)
);
CREATE INDEX plan_invoices_invoice_idx ON plan_invoices (invoice_id);

CREATE TABLE plan_installments (
    plan_id  bigint NOT NULL REFERENCES plans (id),
    seq      integer NOT NULL,
    due_on   date NOT NULL,
    amount   numeric(18,2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (plan_id, seq)
);

GRANT SELECT, INSERT ON interactions, promises, credit_notes, dunning_runs, dunning_steps, plan_invoices, plan_installments
    TO ashrai_application;
GRANT SELECT, INSERT, UPDATE ON disputes, letters, plans, dunning_policies TO ashrai_application;
GRANT UPDATE (summary) ON dunning_runs TO ashrai_application;
GRANT UPDATE (due_on) ON plan_installments TO ashrai_application;

-- Idempotency keys are kept 30 days, then pruned by the daemon (MaintenanceService).
GRANT DELETE ON idempotency_keys TO ashrai_application;
