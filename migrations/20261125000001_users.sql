-- Users synced from Clerk. The database is the source of truth for `role`.
CREATE TYPE user_role AS ENUM ('admin', 'user');

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Kept on soft-deleted rows on purpose: the unique constraint is what makes a deletion
    -- permanent (an upsert for a retired Clerk id finds the tombstone and changes nothing).
    clerk_user_id text        NOT NULL UNIQUE,
    name          text        NOT NULL,
    email         text        NOT NULL,
    role          user_role   NOT NULL DEFAULT 'user',
    image_url     text,
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- `updated_at` is kept current by the database itself, so that no caller can forget it.
-- clock_timestamp() rather than now(): two updates in one transaction still move it.
CREATE FUNCTION users_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$;

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW
    WHEN (OLD IS DISTINCT FROM NEW)
    EXECUTE FUNCTION users_touch_updated_at();
