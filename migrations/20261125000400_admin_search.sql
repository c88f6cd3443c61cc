-- The admin user list's search at 1,000,000 users, second take (figures in benches/admin_list.rs
-- and the doc comment of src/admin/list.rs).
--
-- `…000200` answered `name ILIKE p OR email ILIKE p` with two trigram GIN indexes and a BitmapOr,
-- and ordered pages by walking `(lower(name), id)` through the heap. Both plans are slow for a
-- common fragment (16,000 matches fetched and sorted, or ~10,000 heap rows walked and each
-- lower()-ed twice), and the planner cannot tell common from rare fragments. Now:
--
-- * `search_text` holds `lower(name) || E'\n' || lower(email)`: one trigram GIN index answers a
--   search with one bitmap, and a plain `LIKE` (no per-row lower()) checks a row. A fragment
--   without a newline cannot match across the separator, so `search_text LIKE lower(p)` is
--   exactly `name ILIKE p OR email ILIKE p`.
-- * Every sort index is covering (`INCLUDE (search_text, deleted_at, role)`) and keyed on plain
--   columns (`name_key`, `email_key`: lower() stored), so walking it in page order with the
--   filters is an index-only scan: ~0.2 µs per row instead of ~1.5 µs.

ALTER TABLE users
    ADD COLUMN name_key    text GENERATED ALWAYS AS (lower(name)) STORED,
    ADD COLUMN email_key   text GENERATED ALWAYS AS (lower(email)) STORED,
    ADD COLUMN search_text text GENERATED ALWAYS AS (lower(name || E'\n' || email)) STORED;

-- fastupdate off: a sign-up pays its GIN insertion at once, instead of a search paying for
-- scanning a pending list.
CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops)
    WITH (fastupdate = off);
DROP INDEX users_name_trgm;
DROP INDEX users_email_trgm;

-- Keyset pagination, as before: `(key, id)` is a total order and `(key, id) > ($1, $2)` an index
-- condition; the included columns make the filtered walk index-only.
CREATE INDEX users_list_name ON users (name_key, id) INCLUDE (search_text, deleted_at, role);
CREATE INDEX users_list_email ON users (email_key, id) INCLUDE (search_text, deleted_at, role);
CREATE INDEX users_list_created ON users (created_at, id) INCLUDE (search_text, deleted_at, role);
CREATE INDEX users_list_role ON users (role, id) INCLUDE (search_text, deleted_at);
DROP INDEX users_sort_name;
DROP INDEX users_sort_created;
DROP INDEX users_sort_role;
-- users_sort_email (lower(email), id) stays: the CLI finds users by `lower(email) = lower($1)`.
