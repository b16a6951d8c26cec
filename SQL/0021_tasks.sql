-- The collector's work (issue 17): a call to make, a promise to follow up, a dispute to review, a failed
-- message, a review due, a missed installment, or a task a person wrote. A rule makes each task once:
-- source_key names the rule and what it fired on (e.g. 'promise:17'); a task written by hand has none.
CREATE TABLE tasks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    invoice_ids    bigint[] NOT NULL DEFAULT '{}',
    kind           text NOT NULL CHECK (kind IN ('call', 'follow_up_promise', 'dispute_review', 'failed_message', 'review_due',
                                                 'plan_missed', 'manual')),
    due_on         date NOT NULL,
    owner_id       bigint REFERENCES users (id),
    state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
    note           text,
    outcome        text,
    interaction_id bigint REFERENCES interactions (id),
    source_key     text UNIQUE,
    created_by     bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_by      bigint REFERENCES users (id),
    closed_at      timestamptz,
    CHECK ((state = 'open') = (closed_at IS NULL))
);
CREATE INDEX tasks_open_idx ON tasks (owner_id, due_on, id) WHERE state = 'open';
CREATE INDEX tasks_customer_idx ON tasks (customer_id, id);

GRANT SELECT, INSERT, UPDATE ON tasks TO ashrai_application;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON tasks FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
