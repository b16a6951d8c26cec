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

-- The invoices an agency's active assignments cover (the server's own filter; runs as the
-- caller, so row-level security applies to it as well).
CREATE FUNCTION agency_invoice_ids(agency bigint) RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT ai.invoice_id FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
    WHERE a.agency_id = agency AND a.status = 'active' AND NOT ai.released
$$;

-- Who is asking: the request's user, set per transaction by the daemon
-- (set_config('ashrai.user_id', …, true)). 'system' is the daemon's own work (the scheduler).
-- Returns 'staff', 'system', 'agency:<id>' or 'none' (nobody set: sees nothing).
CREATE FUNCTION ashrai_viewer() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT CASE
        WHEN coalesce(current_setting('ashrai.user_id', true), '') = '' THEN 'none'
        WHEN current_setting('ashrai.user_id', true) = 'system' THEN 'system'
        ELSE coalesce((SELECT CASE WHEN u.agency_id IS NULL THEN 'staff' ELSE 'agency:' || u.agency_id END
                       FROM users u
                       WHERE u.id::text = current_setting('ashrai.user_id', true) AND u.disabled_at IS NULL), 'none')
    END
$$;
REVOKE ALL ON FUNCTION ashrai_viewer() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ashrai_viewer() TO ashrai_application;

-- The invoices an agency may see: those in its active assignments, not released.
CREATE FUNCTION ashrai_agency_invoices() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT ai.invoice_id FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
    WHERE a.status = 'active' AND NOT ai.released AND 'agency:' || a.agency_id = ashrai_viewer()
$$;
REVOKE ALL ON FUNCTION ashrai_agency_invoices() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ashrai_agency_invoices() TO ashrai_application;

-- Staff and the daemon see and write everything (the server's role checks govern them);
-- an agency sees only rows its active assignments cover and writes nothing; nobody set
-- sees nothing.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON customers FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON customers FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%'
    AND id IN (SELECT i.customer_id FROM invoices i WHERE i.id IN (SELECT ashrai_agency_invoices())));

ALTER TABLE customer_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON customer_contacts FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON customer_contacts FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%'
    AND customer_id IN (SELECT i.customer_id FROM invoices i WHERE i.id IN (SELECT ashrai_agency_invoices())));

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON invoices FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON invoices FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%' AND id IN (SELECT ashrai_agency_invoices()));

ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON interactions FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON interactions FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%'
    AND invoice_ids && ARRAY(SELECT ashrai_agency_invoices()));

ALTER TABLE letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE letters FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON letters FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON letters FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%'
    AND id IN (SELECT s.letter_id FROM dunning_steps s WHERE s.invoice_id IN (SELECT ashrai_agency_invoices())));

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON assignments FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON assignments FOR SELECT USING (
    status = 'active' AND 'agency:' || agency_id = (SELECT ashrai_viewer()));

ALTER TABLE assignment_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON assignment_invoices FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON assignment_invoices FOR SELECT USING (
    (SELECT ashrai_viewer()) LIKE 'agency:%' AND NOT released AND invoice_id IN (SELECT ashrai_agency_invoices()));

ALTER TABLE agencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE agencies FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON agencies FOR ALL USING ((SELECT ashrai_viewer()) IN ('staff', 'system'))
    WITH CHECK ((SELECT ashrai_viewer()) IN ('staff', 'system'));
CREATE POLICY agency_read ON agencies FOR SELECT USING ('agency:' || id = (SELECT ashrai_viewer()));
