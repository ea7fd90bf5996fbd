-- Passerelle schema 0005: what a row of the inbox shows, kept beside the order's JSON so that a
-- page of summaries never parses JSON (issue 17). Written with the order (`orders::upsert`);
-- `customer_name` is personal data: scrubbed with the JSON (design D24).
ALTER TABLE orders ADD COLUMN ref TEXT;
ALTER TABLE orders ADD COLUMN customer_name TEXT;
ALTER TABLE orders ADD COLUMN expected_time TEXT;
ALTER TABLE orders ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;

-- The orders already stored: the same fields, read by SQLite's JSON functions (every stored
-- JSON is valid: the library wrote it).
UPDATE orders SET
    ref = json_extract(json, '$.ref'),
    customer_name = CASE WHEN scrubbed_at IS NULL THEN coalesce(
        nullif(trim(trim(coalesce(json_extract(json, '$.customer.first_name'), '')) || ' ' ||
                    trim(coalesce(json_extract(json, '$.customer.last_name'), ''))), ''),
        nullif(trim(coalesce(json_extract(json, '$.customer.company_name'), '')), '')) END,
    expected_time = json_extract(json, '$.expected_time'),
    item_count = (SELECT count(*) FROM json_each(orders.json, '$.items')
                  WHERE json_type(value) = 'object'
                    AND coalesce(json_extract(value, '$.deleted'), 0) <> 1);
