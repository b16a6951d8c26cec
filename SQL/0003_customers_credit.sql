-- 0003 — customers and their contacts, risk data and assessments, versioned credit terms,
-- holds and periodic reviews.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code              text CHECK (code <> ''),            -- the business's own customer number
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    legal_id          text,
    email             text,
    phone             text,
    address           text,
    preferred_channel text CHECK (preferred_channel IN ('email', 'phone', 'sms', 'letter', 'whatsapp', 'in_person')),
    language          text NOT NULL DEFAULT 'he' CHECK (language IN ('he', 'en')),
    notes             text,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_hold', 'closed')),
    closed_reason     text,
    grade             text CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),   -- of the latest assessment
    score             integer,
    next_review_on    date,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1,
    search_text       text GENERATED ALWAYS AS (
        lower(name || ' ' || coalesce(code, '') || ' ' || coalesce(legal_id, '') || ' ' || coalesce(email, ''))
    ) STORED
);
CREATE UNIQUE INDEX customers_code_key ON customers (lower(code)) WHERE code IS NOT NULL;
CREATE INDEX customers_search_trgm_idx ON customers USING gin (search_text gin_trgm_ops);
CREATE INDEX customers_status_idx ON customers (status, id);
CREATE INDEX customers_grade_idx ON customers (grade, id);
CREATE INDEX customers_next_review_idx ON customers (next_review_on) WHERE status <> 'closed';

CREATE TABLE customer_contacts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id       bigint NOT NULL REFERENCES customers (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role              text,
    email             text,
    phone             text,
    preferred_channel text CHECK (preferred_channel IN ('email', 'phone', 'sms', 'letter', 'whatsapp', 'in_person')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    removed_at        timestamptz
);
CREATE INDEX customer_contacts_customer_idx ON customer_contacts (customer_id) WHERE removed_at IS NULL;

CREATE TABLE financial_statements (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id),
    period_end          date NOT NULL,
    current_assets      numeric(18,2) NOT NULL,
    current_liabilities numeric(18,2) NOT NULL,
    total_assets        numeric(18,2) NOT NULL,
    total_liabilities   numeric(18,2) NOT NULL,
    retained_earnings   numeric(18,2) NOT NULL,
    ebit                numeric(18,2) NOT NULL,
    equity              numeric(18,2) NOT NULL,
    revenue             numeric(18,2) NOT NULL,
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX financial_statements_customer_idx ON financial_statements (customer_id, period_end DESC, id DESC);

CREATE TABLE credit_references (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    kind        text NOT NULL CHECK (kind IN ('bureau_report', 'trade_reference', 'bank_reference')),
    source      text NOT NULL,
    received_on date NOT NULL,
    rating      integer CHECK (rating BETWEEN 1 AND 5),      -- 1 worst … 5 best
    notes       text,
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_references_customer_idx ON credit_references (customer_id, received_on DESC);

CREATE TABLE credit_assessments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers (id),
    as_of              date NOT NULL,
    score              integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    grade              text NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),
    reasons            jsonb NOT NULL,
    z_score            numeric(12,4),
    z_zone             text,
    suggested_limit    numeric(18,2) NOT NULL,
    suggested_net_days integer NOT NULL,
    created_by         bigint REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_assessments_customer_idx ON credit_assessments (customer_id, id DESC);

CREATE TABLE credit_terms (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id),
    version             integer NOT NULL,
    credit_limit        numeric(18,2) NOT NULL CHECK (credit_limit >= 0),
    net_days            integer NOT NULL CHECK (net_days BETWEEN 0 AND 365),
    late_interest_rate  numeric(7,4) NOT NULL CHECK (late_interest_rate BETWEEN 0 AND 100),   -- annual %
    early_discount_rate numeric(7,4) CHECK (early_discount_rate BETWEEN 0 AND 100),           -- %
    early_discount_days integer CHECK (early_discount_days BETWEEN 0 AND 365),
    currency            char(3) NOT NULL,
    reason              text NOT NULL,
    set_by              bigint REFERENCES users (id),
    set_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, version)
);

CREATE TABLE holds (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    reason         text NOT NULL,
    interaction_id bigint,            -- the conversation that preceded it (collections issue adds the FK)
    placed_by      bigint REFERENCES users (id),
    placed_at      timestamptz NOT NULL DEFAULT now(),
    release_reason text,
    released_by    bigint REFERENCES users (id),
    released_at    timestamptz
);
CREATE UNIQUE INDEX holds_one_active_per_customer ON holds (customer_id) WHERE released_at IS NULL;

CREATE TABLE credit_reviews (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    reviewed_on    date NOT NULL,
    findings       text NOT NULL,
    decision       text NOT NULL,
    grade          text,
    next_review_on date NOT NULL,
    reviewed_by    bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_reviews_customer_idx ON credit_reviews (customer_id, id DESC);

GRANT SELECT, INSERT, UPDATE ON customers, customer_contacts, holds TO ashrai_application;
GRANT SELECT, INSERT ON financial_statements, credit_references, credit_assessments, credit_terms, credit_reviews
    TO ashrai_application;
