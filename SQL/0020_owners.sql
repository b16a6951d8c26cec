-- A customer's owner: the staff user whose portfolio it is (the collector's worklist). NULL: nobody's yet.
ALTER TABLE customers ADD COLUMN owner_id bigint REFERENCES users (id);
CREATE INDEX customers_owner_idx ON customers (owner_id, id) WHERE owner_id IS NOT NULL;
