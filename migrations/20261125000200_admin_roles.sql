-- Role management: the audit trail of role changes, and the indexes the admin user list needs
-- to stay fast at 1,000,000 users (figures in benches/admin_list.rs).

-- Every role change, written in the same transaction as the change itself. Rows are only ever
-- inserted. `actor_user_id` is NULL exactly when the change came from the command line
-- (`warden users set-role`), which is how the first admin comes to be.
CREATE TABLE role_changes (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id),
    actor_kind    text        NOT NULL CHECK (actor_kind IN ('admin', 'cli')),
    actor_user_id uuid        REFERENCES users (id),
    from_role     user_role   NOT NULL,
    to_role       user_role   NOT NULL,
    reason        text        CHECK (char_length(reason) <= 500),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((actor_kind = 'cli') = (actor_user_id IS NULL)),
    -- A no-op is never audited: a double submit cannot leave two rows for one change.
    CHECK (from_role <> to_role)
);

-- The audit trail of one user, newest first (the user page and "Download my data").
CREATE INDEX role_changes_user_newest ON role_changes (user_id, changed_at DESC, id DESC);
-- The changes one admin made ("Download my data" of that admin).
CREATE INDEX role_changes_actor ON role_changes (actor_user_id) WHERE actor_user_id IS NOT NULL;

-- Case-insensitive substring search (`ILIKE '%fragment%'`) over name and email: trigram GIN
-- indexes answer it with a bitmap scan whatever the position of the fragment, where a btree
-- could only serve prefixes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);

-- Keyset pagination: one btree per sortable column, ending in `id` so that the order is total
-- (equal names still page stably) and `(key, id) > ($1, $2)` is an index condition. Scanned
-- backwards for descending order. Name and email sort case-insensitively, hence `lower()`;
-- the email one also serves the CLI's lookup by email.
CREATE INDEX users_sort_name ON users (lower(name), id);
CREATE INDEX users_sort_email ON users (lower(email), id);
CREATE INDEX users_sort_created ON users (created_at, id);
CREATE INDEX users_sort_role ON users (role, id);
