-- 0008 — collection agencies and the assignment of overdue invoices to them.

CREATE TABLE agencies (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    registration_no  text,
    contact_name     text,
    email            text,
    phone            text,
    commission_rate  numeric(7,4) NOT NULL CHECK (commission_rate >= 0 AND commission_rate <= 100),
    fee_terms        text,
    licensed         boolean NOT NULL DEFAULT false,
    rating           integer CHECK (rating BETWEEN 1 AND 5),
    notes            text,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1
);
ALTER TABLE users ADD CONSTRAINT users_agency_fk FOREIGN KEY (agency_id) REFERENCES agencies (id);

CREATE TABLE assignments (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id                   bigint NOT NULL REFERENCES agencies (id),
    customer_id                 bigint NOT NULL REFERENCES customers (id),
    status                      text NOT NULL CHECK (status IN ('pending', 'active', 'recalled', 'settled')),
    customer_notified_on        date,
    notification_interaction_id bigint REFERENCES interactions (id),
    commission_rate             numeric(7,4) NOT NULL,
    assigned_amount             numeric(18,2) NOT NULL CHECK (assigned_amount > 0),
    notes                       text,
    created_by                  bigint REFERENCES users (id),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    activated_on                date,
    ended_on                    date,
    end_reason                  text,
    CHECK (status = 'pending' OR customer_notified_on IS NOT NULL)
);
CREATE INDEX assignments_agency_idx ON assignments (agency_id, status);
CREATE INDEX assignments_customer_idx ON assignments (customer_id, status);

CREATE TABLE assignment_invoices (
    assignment_id    bigint NOT NULL REFERENCES assignments (id),
    invoice_id       bigint NOT NULL REFERENCES invoices (id),
    assigned_amount  numeric(18,2) NOT NULL CHECK (assigned_amount > 0),
    released         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (assignment_id, invoice_id)
);
-- An invoice is in one pending or active assignment at a time.
CREATE UNIQUE INDEX assignment_invoices_one_open ON assignment_invoices (invoice_id) WHERE NOT released;

ALTER TABLE payments ADD COLUMN via_assignment_id bigint REFERENCES assignments (id);
CREATE INDEX payments_assignment_idx ON payments (via_assignment_id) WHERE via_assignment_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON agencies, assignments TO ashrai_application;
GRANT SELECT, INSERT, UPDATE (released) ON assignment_invoices TO ashrai_application;
