-- Every change to a user is announced on the channel `warden_users_changed` (payload:
-- "<id> <clerk_user_id>"), so that every process holding a cache of users (other app instances,
-- and the app when the CLI changes a role) invalidates its entries. NOTIFY is transactional:
-- nothing is announced for a change that rolls back.
CREATE FUNCTION users_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warden_users_changed', NEW.id::text || ' ' || NEW.clerk_user_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_change
    AFTER INSERT OR UPDATE ON users
    FOR EACH ROW
    EXECUTE FUNCTION users_notify_change();
