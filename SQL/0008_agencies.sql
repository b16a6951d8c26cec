-- 0008 — collection agencies, assignments of overdue invoices to them, and the agency
-- partner's read-only view enforced by row-level security.

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

-- Lookups by invoice number and customer code compare a stored lower-case key column: under
-- row-level security PostgreSQL will not use an index on lower(number) for a query (lower()
-- is not leakproof), but it will use one on a plain column.
ALTER TABLE invoices ADD COLUMN number_key text GENERATED ALWAYS AS (lower(number)) STORED;
DROP INDEX invoices_number_key;
CREATE UNIQUE INDEX invoices_number_key ON invoices (number_key);
ALTER TABLE customers ADD COLUMN code_key text GENERATED ALWAYS AS (lower(code)) STORED;
DROP INDEX customers_code_key;
CREATE UNIQUE INDEX customers_code_key ON customers (code_key) WHERE code_key IS NOT NULL;

-- The invoices an agency's active assignments cover (the server's own filter; runs as the
-- caller, so row-level security applies to it as well).
CREATE FUNCTION agency_invoice_ids(agency bigint) RETURNS SETOF bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ai.invoice_id FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
    WHERE a.agency_id = agency AND a.status = 'active' AND NOT ai.released
$$;

-- Who is asking: the request's user, set per transaction by the daemon
-- (set_config('ashrai.user_id', …, true)). 'system' is the daemon's own work (the scheduler).
-- Returns 'staff', 'system', 'agency:<id>' or 'none' (nobody set: sees nothing).
CREATE FUNCTION ashrai_viewer() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT CASE
        WHEN coalesce(current_setting('ashrai.user_id', true), '') = '' THEN 'none'
        WHEN current_setting('ashrai.user_id', true) = 'system' THEN 'system'
        ELSE coalesce((SELECT CASE WHEN u.agency_id IS NULL THEN 'staff' ELSE 'agency:' || u.agency_id END
                       FROM users u
                       WHERE u.id::text = current_setting('ashrai.user_id', true) AND u.disabled_at IS NULL), 'none')
    END
$$;

-- The agency of the user asking (NULL for anyone else).
CREATE FUNCTION ashrai_viewer_agency() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT CASE WHEN ashrai_viewer() LIKE 'agency:%' THEN substr(ashrai_viewer(), 8)::bigint END
$$;

-- What the asking agency's active assignments cover, as arrays (each reads only tables whose
-- policies do not call it back, so an owner under FORCE ROW LEVEL SECURITY cannot recurse): each policy compares a
-- column with one of them, computed once per statement (an initplan), never per row, and
-- without sub-plans, so staff queries keep their parallel plans.
CREATE FUNCTION ashrai_agency_assignments() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(array_agg(a.id), '{}') FROM assignments a WHERE a.agency_id = ashrai_viewer_agency() AND a.status = 'active'
$$;
CREATE FUNCTION ashrai_agency_invoices() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(array_agg(ai.invoice_id), '{}') FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
    WHERE a.agency_id = ashrai_viewer_agency() AND a.status = 'active' AND NOT ai.released
$$;
CREATE FUNCTION ashrai_agency_customers() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(array_agg(DISTINCT a.customer_id), '{}') FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
    WHERE a.agency_id = ashrai_viewer_agency() AND a.status = 'active' AND NOT ai.released
$$;
CREATE FUNCTION ashrai_agency_letters() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(array_agg(DISTINCT s.letter_id) FILTER (WHERE s.letter_id IS NOT NULL), '{}') FROM dunning_steps s
    WHERE s.invoice_id = ANY (ashrai_agency_invoices())
$$;
REVOKE ALL ON FUNCTION ashrai_viewer(), ashrai_viewer_agency(), ashrai_agency_assignments(), ashrai_agency_invoices(), ashrai_agency_customers(), ashrai_agency_letters() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ashrai_viewer(), ashrai_viewer_agency(), ashrai_agency_assignments(), ashrai_agency_invoices(), ashrai_agency_customers(), ashrai_agency_letters()
    TO ashrai_application;

-- Each condition on who asks is a whole sub-select, so PostgreSQL evaluates it once per
-- statement and per row only reads a boolean: staff reads cost almost nothing.
-- Staff and the daemon see and write everything (the server's role checks govern them);
-- an agency sees only rows its active assignments cover and writes nothing; nobody set
-- sees nothing.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON customers FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON customers FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND id = ANY ((SELECT ashrai_agency_customers())::bigint[]));

ALTER TABLE customer_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON customer_contacts FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON customer_contacts FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND customer_id = ANY ((SELECT ashrai_agency_customers())::bigint[]));

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON invoices FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON invoices FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND id = ANY ((SELECT ashrai_agency_invoices())::bigint[]));

ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON interactions FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON interactions FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND invoice_ids && (SELECT ashrai_agency_invoices()));

ALTER TABLE letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE letters FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON letters FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON letters FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND id = ANY ((SELECT ashrai_agency_letters())::bigint[]));

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON assignments FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON assignments FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND status = 'active' AND agency_id = (SELECT ashrai_viewer_agency()));

ALTER TABLE assignment_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON assignment_invoices FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON assignment_invoices FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND NOT released AND assignment_id = ANY ((SELECT ashrai_agency_assignments())::bigint[]));

ALTER TABLE agencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE agencies FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON agencies FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON agencies FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND id = (SELECT ashrai_viewer_agency()));
