-- Clerk webhooks: ordering, idempotency and the metadata outbox.

-- The newest Clerk version applied to the row: Clerk's `updated_at` (ms since the epoch) for
-- created/updated events, the event timestamp (ms) for a deletion. An event that is not newer
-- changes nothing. NULL when the row was written by a path that does not know the version.
ALTER TABLE users ADD COLUMN clerk_updated_at bigint;

-- Every Svix message id we have processed (committed in the same transaction as its effect).
-- Svix retries a message for about a day and a dashboard replay reuses the id, so rows are kept
-- for 7 days and pruned by the outbox worker's loop.
CREATE TABLE webhook_events (
    svix_id     text        PRIMARY KEY,
    event_type  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);

-- Durable jobs that write `{dbId, role}` into the user's Clerk public_metadata.
-- status: pending → delivered | parked (too many failures, or an answer retries cannot fix)
--         | dropped (the user was deleted, here or in Clerk).
CREATE TABLE metadata_outbox (
    id              bigserial   PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'parked', 'dropped')),
    -- Bumped by every enqueue that coalesces into this job: a worker that delivered an older
    -- generation leaves the job pending, so a change made during a delivery is never lost.
    generation      integer     NOT NULL DEFAULT 1,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker holds the job until then; a crashed worker's lease simply expires.
    leased_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
-- At most one pending job per user: enqueues coalesce into it.
CREATE UNIQUE INDEX metadata_outbox_one_pending_per_user
    ON metadata_outbox (user_id) WHERE status = 'pending';
CREATE INDEX metadata_outbox_due
    ON metadata_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX metadata_outbox_finished_at
    ON metadata_outbox (finished_at) WHERE status <> 'pending';
