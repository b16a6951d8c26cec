-- 0009 — staff training: courses (which roles must have them, for how long they count) and
-- who completed what.

CREATE TABLE training_courses (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,40}$'),
    code_key            text GENERATED ALWAYS AS (lower(code)) STORED,
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    topic               text NOT NULL CHECK (topic IN ('risk_assessment', 'collections', 'communication', 'legal', 'systems', 'other')),
    required_for_roles  text[] NOT NULL DEFAULT '{}' CHECK (required_for_roles <@ ARRAY['admin', 'manager', 'clerk']),
    validity_months     integer CHECK (validity_months BETWEEN 1 AND 120),
    description         text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX training_courses_code_key ON training_courses (code_key);

CREATE TABLE training_records (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id),
    course_id        bigint NOT NULL REFERENCES training_courses (id),
    completed_on     date NOT NULL,
    score            numeric(5,2) CHECK (score >= 0 AND score <= 100),
    trainer          text,
    certificate_ref  text,
    notes            text,
    recorded_by      bigint REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_records_user_idx ON training_records (user_id, course_id, completed_on DESC);

GRANT SELECT, INSERT, UPDATE ON training_courses TO ashrai_application;
GRANT SELECT, INSERT ON training_records TO ashrai_application;
