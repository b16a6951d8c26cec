-- 0023 — The shipped default policy now opens with a call, which renumbers its levels. A business that has been dunning
-- on the default (no policy of its own, steps already taken) keeps the levels its invoices reached: the old default
-- becomes its version 1, so no invoice is told again what it was already told. A new install gets the new default.
INSERT INTO dunning_policies (version, levels, reason)
SELECT 1, '[
    {"level": 1, "days_overdue": 3,  "action": "reminder",        "template": "reminder",     "fee": "0.00",  "pay_within_days": 7,  "channels": ["email"]},
    {"level": 2, "days_overdue": 15, "action": "letter",          "template": "letter",       "fee": "0.00",  "pay_within_days": 10, "channels": ["email"]},
    {"level": 3, "days_overdue": 30, "action": "final_notice",    "template": "final_notice", "fee": "25.00", "pay_within_days": 10, "channels": ["email"]},
    {"level": 4, "days_overdue": 45, "action": "hold",            "template": "hold_notice",  "fee": "0.00",  "pay_within_days": 14, "channels": ["email"]},
    {"level": 5, "days_overdue": 60, "action": "refer_to_agency", "template": "referral",     "fee": "0.00",  "pay_within_days": 14, "channels": ["email"]}
]'::jsonb, 'the default policy before call levels (kept on upgrade: invoices already dunned keep their levels)'
WHERE NOT EXISTS (SELECT 1 FROM dunning_policies) AND EXISTS (SELECT 1 FROM dunning_steps);
