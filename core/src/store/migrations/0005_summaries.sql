-- Passerelle schema 0005: what a row of the inbox shows, kept beside the order's JSON so that a
-- page of summaries never parses JSON (issue 17). Written with the order (`orders::upsert`);
-- `customer_name` is personal data: scrubbed with the JSON (design D24).
ALTER TABLE orders ADD COLUMN ref TEXT;
ALTER TABLE orders ADD COLUMN customer_name TEXT;
ALTER TABLE orders ADD COLUMN expected_time TEXT;
ALTER TABLE orders ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;

-- The orders already stored get theirs from `orders::backfill_summary_columns`, in this
-- migration's transaction: the same function as `upsert`, so both read the JSON alike.
