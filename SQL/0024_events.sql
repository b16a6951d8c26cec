-- 0024 — Live events for staff (issue 20, events.subscribe). Each change a watcher cares about writes one row here in
-- the change's own transaction, by a trigger on the table that changed, so no path can forget it (a payment recorded by
-- hand, imported, matched from a bank statement or applied from a cheque is the same INSERT INTO payments). A
-- statement-level trigger then NOTIFYs 'ashrai_events' (one notification per transaction: PostgreSQL folds identical
-- ones), which every daemon LISTENs to and answers by reading, for each subscriber, what is new under that subscriber's
-- row-level security.
--
-- The cursor is (xid, id), not id alone: ids are taken in insert order but become visible in commit order, so a reader
-- that had seen id 105 could later miss 104. `xid` is the writing transaction's id; a reader only takes events whose
-- xid is below its snapshot's xmin — every transaction below it has ended, so nothing can still appear there — and
-- resumes after the last (xid, id) it delivered. A long writing transaction delays the events after it; it loses none.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    topic       text NOT NULL CHECK (topic IN ('payment.recorded', 'invoice.created', 'hold.placed', 'hold.lifted', 'letter.created',
                                               'message.failed', 'promise.broken', 'assignment.changed', 'dispute.opened')),
    customer_id bigint NOT NULL REFERENCES customers (id),
    -- The agency, for assignment events (an agency hears about its own assignments).
    agency_id   bigint REFERENCES agencies (id),
    invoice_ids bigint[] NOT NULL DEFAULT '{}',
    -- The row the event is about: the payment, invoice, hold, letter, message, promise, assignment or dispute.
    subject_id  bigint NOT NULL,
    -- Who made the change (NULL: the daemon's own jobs).
    user_id     bigint,
    data        jsonb NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_cursor_idx ON events (xid, id);
CREATE INDEX events_at_idx ON events (at);
GRANT SELECT, INSERT, DELETE ON events TO ashrai_application;

-- What was pruned (MaintenanceService keeps 30 days): a cursor older than this has missed events.
CREATE TABLE events_pruned (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    through_xid  xid8 NOT NULL,
    through_id   bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON events_pruned TO ashrai_application;

-- Staff and the daemon see all; an agency hears about its own assignments (once the customer was told), and the
-- invoices and letters its active assignments cover — what its own reads show it; nobody set hears nothing. Which
-- topics each role hears at all is the server's rule (EventTopic, from the role matrix); this is the second guard.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON events FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY agency_read ON events FOR SELECT USING ((SELECT ashrai_viewer() LIKE 'agency:%') AND (
    (topic = 'assignment.changed' AND agency_id = (SELECT ashrai_viewer_agency()) AND data->>'status' <> 'pending')
    OR (topic = 'invoice.created' AND invoice_ids && (SELECT ashrai_agency_invoices()))
    OR (topic = 'letter.created' AND subject_id = ANY ((SELECT ashrai_agency_letters())::bigint[]))));
ALTER TABLE events_pruned ENABLE ROW LEVEL SECURITY;
ALTER TABLE events_pruned FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone ON events_pruned FOR SELECT USING ((SELECT ashrai_viewer() <> 'none'));
CREATE POLICY system_write ON events_pruned FOR ALL USING ((SELECT ashrai_viewer() = 'system'))
    WITH CHECK ((SELECT ashrai_viewer() = 'system'));

-- The user the transaction acts for (ashrai.user_id), or NULL for the daemon.
CREATE FUNCTION ashrai_event_user() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting('ashrai.user_id', true) ~ '^[0-9]{1,18}$' THEN current_setting('ashrai.user_id', true)::bigint END
$$;

CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ashrai_events', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- One statement-level trigger per change, reading the statement's transition table: an import of 10,000 payments
-- writes its 10,000 events in one INSERT … SELECT.
CREATE FUNCTION events_payment_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, subject_id, user_id, data)
    SELECT 'payment.recorded', n.customer_id, n.id, ashrai_event_user(),
           jsonb_build_object('payment_id', n.id, 'amount', n.amount::text, 'currency', n.currency, 'method', n.method,
                              'received_on', n.received_on, 'reference', n.reference)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_payment_recorded AFTER INSERT ON payments REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_payment_recorded();

CREATE FUNCTION events_invoice_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, invoice_ids, subject_id, user_id, data)
    SELECT 'invoice.created', n.customer_id, ARRAY[n.id], n.id, ashrai_event_user(),
           jsonb_build_object('invoice_id', n.id, 'number', n.number, 'amount', n.amount::text, 'currency', n.currency,
                              'issue_date', n.issue_date, 'due_date', n.due_date)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_invoice_created AFTER INSERT ON invoices REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_invoice_created();

CREATE FUNCTION events_hold_placed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, subject_id, user_id, data)
    SELECT 'hold.placed', n.customer_id, n.id, ashrai_event_user(), jsonb_build_object('hold_id', n.id, 'reason', n.reason)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_hold_placed AFTER INSERT ON holds REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_hold_placed();

CREATE FUNCTION events_hold_lifted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, subject_id, user_id, data)
    SELECT 'hold.lifted', n.customer_id, n.id, ashrai_event_user(), jsonb_build_object('hold_id', n.id, 'reason', n.release_reason)
    FROM inserted n JOIN removed o ON o.id = n.id
    WHERE o.released_at IS NULL AND n.released_at IS NOT NULL ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_hold_lifted AFTER UPDATE ON holds REFERENCING OLD TABLE AS removed NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_hold_lifted();

CREATE FUNCTION events_letter_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, subject_id, user_id, data)
    SELECT 'letter.created', n.customer_id, n.id, ashrai_event_user(),
           jsonb_build_object('letter_id', n.id, 'kind', n.kind, 'level', n.level, 'action', n.action, 'total', n.total::text,
                              'last_date_to_pay', n.last_date_to_pay, 'language', n.language)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_letter_created AFTER INSERT ON letters REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_letter_created();

CREATE FUNCTION events_message_failed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, subject_id, user_id, data)
    SELECT 'message.failed', n.customer_id, n.id, ashrai_event_user(),
           jsonb_build_object('message_id', n.id, 'letter_id', n.letter_id, 'channel', n.channel, 'error', left(n.last_error, 500))
    FROM inserted n JOIN removed o ON o.id = n.id
    WHERE n.state = 'failed' AND o.state <> 'failed' ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_message_failed AFTER UPDATE ON messages REFERENCING OLD TABLE AS removed NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_message_failed();

-- A promise is broken when the day after its date comes unpaid (PromiseStatus, a rule of dates, not a write): the
-- daemon notices it when its rules make the follow-up task ('promise:<id>', once), and that is when it is told.
CREATE FUNCTION events_promise_broken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, invoice_ids, subject_id, user_id, data)
    SELECT 'promise.broken', p.customer_id, p.invoice_ids, p.id, ashrai_event_user(),
           jsonb_build_object('promise_id', p.id, 'amount', p.amount::text, 'due_on', p.due_on, 'task_id', n.id)
    FROM inserted n JOIN promises p ON p.id = substr(n.source_key, 9)::bigint
    WHERE n.kind = 'follow_up_promise' AND n.source_key ~ '^promise:[0-9]{1,18}$' ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_promise_broken AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_promise_broken();

CREATE FUNCTION events_assignment_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, agency_id, subject_id, user_id, data)
    SELECT 'assignment.changed', n.customer_id, n.agency_id, n.id, ashrai_event_user(),
           jsonb_build_object('assignment_id', n.id, 'agency_id', n.agency_id, 'status', n.status, 'previous_status', NULL,
                              'assigned_amount', n.assigned_amount::text)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_assignment_created AFTER INSERT ON assignments REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_assignment_created();

CREATE FUNCTION events_assignment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, agency_id, subject_id, user_id, data)
    SELECT 'assignment.changed', n.customer_id, n.agency_id, n.id, ashrai_event_user(),
           jsonb_build_object('assignment_id', n.id, 'agency_id', n.agency_id, 'status', n.status, 'previous_status', o.status,
                              'assigned_amount', n.assigned_amount::text)
    FROM inserted n JOIN removed o ON o.id = n.id
    WHERE n.status <> o.status ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_assignment_changed AFTER UPDATE ON assignments REFERENCING OLD TABLE AS removed NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_assignment_changed();

CREATE FUNCTION events_dispute_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (topic, customer_id, invoice_ids, subject_id, user_id, data)
    SELECT 'dispute.opened', n.customer_id, ARRAY[n.invoice_id], n.id, ashrai_event_user(),
           jsonb_build_object('dispute_id', n.id, 'invoice_id', n.invoice_id, 'reason', n.reason, 'amount', n.amount::text)
    FROM inserted n ORDER BY n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_dispute_opened AFTER INSERT ON disputes REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_dispute_opened();
