-- The audit trail: one entry per request (and per connection refused once
-- an identity is known, per administrative action, per migration),
-- hash-chained and periodically signed. docs/audit.md describes it.
--
-- Entries are written by requests in parallel without any shared lock;
-- a chainer (ritra_audit_chain, run by every server, serialised by an
-- advisory lock only among chainers) later gives each committed entry its
-- position in the chain. Nothing here is ever updated or deleted: a guard
-- refuses UPDATE, DELETE and TRUNCATE for everyone, and ritra_app holds
-- INSERT only.

CREATE TABLE audit_log (
    entry_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    agency_id   integer REFERENCES agencies (agency_id),
    agency_code text NOT NULL DEFAULT '' CHECK (length(agency_code) <= 32),
    fingerprint text NOT NULL DEFAULT '' CHECK (fingerprint ~ '^([0-9a-f]{64})?$'),
    actor       text NOT NULL DEFAULT '' CHECK (length(actor) <= 256),
    operation   text NOT NULL CHECK (length(operation) BETWEEN 1 AND 64),
    case_ids    uuid[] NOT NULL DEFAULT '{}',
    details     text NOT NULL DEFAULT '' CHECK (length(details) <= 4096),
    outcome     text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 32),
    records     integer NOT NULL DEFAULT 0 CHECK (records >= 0),
    visibility  text NOT NULL DEFAULT '',
    request_id  bigint NOT NULL DEFAULT 0
);
CREATE INDEX audit_log_cases_idx ON audit_log USING gin (case_ids);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Entries not yet chained. The chainer takes them in entry_id order and
-- removes them once chained; this is bookkeeping, not the record.
CREATE TABLE audit_pending (
    entry_id bigint PRIMARY KEY REFERENCES audit_log (entry_id)
);

CREATE TABLE audit_chain (
    seq       bigint PRIMARY KEY CHECK (seq >= 1),
    entry_id  bigint NOT NULL UNIQUE REFERENCES audit_log (entry_id),
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash      bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_checkpoints (
    seq       bigint PRIMARY KEY REFERENCES audit_chain (seq),
    hash      bytea NOT NULL CHECK (length(hash) = 32),
    signed_at timestamptz NOT NULL DEFAULT now(),
    signature bytea NOT NULL,
    key_id    text NOT NULL
);

CREATE FUNCTION ritra_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% on %)', TG_OP, TG_TABLE_NAME
          USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ritra_audit_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ritra_audit_guard();
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION ritra_audit_guard();
CREATE TRIGGER audit_chain_guard_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION ritra_audit_guard();
CREATE TRIGGER audit_checkpoints_guard BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ritra_audit_guard();
CREATE TRIGGER audit_checkpoints_guard_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ritra_audit_guard();

CREATE FUNCTION ritra_audit_mark_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_pending (entry_id) VALUES (NEW.entry_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_pending AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ritra_audit_mark_pending();

-- A netstring: the byte length, ':', the bytes, ','. Unambiguous for any
-- content, trivial to reproduce in a verifier.
CREATE FUNCTION ritra_netstring(v text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(octet_length(convert_to(coalesce(v, ''), 'UTF8'))::text || ':', 'UTF8')
           || convert_to(coalesce(v, ''), 'UTF8') || '\x2c'::bytea
$$;

-- The canonical encoding of an entry at chain position p_seq: the bytes
-- that, after the previous hash, go into its SHA-256 (docs/audit.md).
CREATE FUNCTION ritra_audit_canonical(p_seq bigint, e audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT ritra_netstring('ritra-audit-v1')
        || ritra_netstring(p_seq::text)
        || ritra_netstring(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || ritra_netstring(e.agency_code)
        || ritra_netstring(e.fingerprint)
        || ritra_netstring(e.actor)
        || ritra_netstring(e.operation)
        || ritra_netstring(array_to_string(e.case_ids, ','))
        || ritra_netstring(e.details)
        || ritra_netstring(e.outcome)
        || ritra_netstring(e.records::text)
        || ritra_netstring(e.visibility)
        || ritra_netstring(e.request_id::text)
$$;

-- Chains up to p_max pending entries. Returns the chain head after the
-- run (0 and NULL when the chain is empty) and how many were chained.
CREATE FUNCTION ritra_audit_chain(p_max integer,
    OUT chained integer, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    e audit_log;
    prev bytea;
    h bytea;
BEGIN
    -- Only chainers wait for each other; requests never take this lock.
    PERFORM pg_advisory_xact_lock(7526357349231);
    SELECT c.seq, c.hash INTO head_seq, prev FROM audit_chain c ORDER BY c.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        prev := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    END IF;
    chained := 0;
    FOR e IN SELECT l.* FROM audit_pending p JOIN audit_log l USING (entry_id)
              ORDER BY p.entry_id LIMIT p_max LOOP
        head_seq := head_seq + 1;
        h := sha256(prev || ritra_audit_canonical(head_seq, e));
        INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)
        VALUES (head_seq, e.entry_id, prev, h);
        DELETE FROM audit_pending WHERE entry_id = e.entry_id;
        prev := h;
        chained := chained + 1;
    END LOOP;
    head_hash := CASE WHEN head_seq > 0 THEN prev END;
END
$$;

-- Stores a signed checkpoint of the chain head the server just saw.
CREATE FUNCTION ritra_audit_checkpoint(p_seq bigint, p_hash bytea, p_signature bytea,
                                       p_key_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_chain WHERE seq = p_seq AND hash = p_hash) THEN
        RETURN false;
    END IF;
    INSERT INTO audit_checkpoints (seq, hash, signature, key_id)
    VALUES (p_seq, p_hash, p_signature, p_key_id)
    ON CONFLICT (seq) DO NOTHING;
    RETURN true;
END
$$;

-- What an agency may pull: auditors everything; others the entries that
-- concern cases they own. Chained entries only, in chain order.
CREATE FUNCTION ritra_audit_pull(p_agency integer, p_from_seq bigint, p_to_seq bigint,
    p_from_time timestamptz, p_to_time timestamptz, p_agency_code text, p_operation text,
    p_case uuid, p_actor text, p_limit integer)
RETURNS TABLE (seq bigint, at text, agency_code text, fingerprint text, actor text,
               operation text, case_ids text, details text, outcome text, records integer,
               visibility text, request_id bigint, prev_hash text, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.seq, to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           l.agency_code, l.fingerprint, l.actor, l.operation,
           array_to_string(l.case_ids, ','), l.details, l.outcome, l.records, l.visibility,
           l.request_id, encode(c.prev_hash, 'hex'), encode(c.hash, 'hex')
      FROM audit_chain c JOIN audit_log l USING (entry_id)
     WHERE c.seq >= p_from_seq
       AND (p_to_seq IS NULL OR c.seq <= p_to_seq)
       AND (p_from_time IS NULL OR l.at >= p_from_time)
       AND (p_to_time IS NULL OR l.at < p_to_time)
       AND (p_agency_code IS NULL OR l.agency_code = p_agency_code)
       AND (p_operation IS NULL OR l.operation = p_operation)
       AND (p_case IS NULL OR l.case_ids @> ARRAY[p_case])
       AND (p_actor IS NULL OR l.actor = p_actor)
       AND ((SELECT kind FROM agencies WHERE agency_id = p_agency) = 'auditor'
            OR l.case_ids && ARRAY(SELECT case_id FROM cases WHERE owner_agency_id = p_agency))
     ORDER BY c.seq
     LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION ritra_audit_chain(integer), ritra_audit_checkpoint(bigint, bytea, bytea, text),
    ritra_audit_pull(integer, bigint, bigint, timestamptz, timestamptz, text, text, uuid, text,
                     integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_audit_chain(integer),
    ritra_audit_checkpoint(bigint, bytea, bytea, text),
    ritra_audit_pull(integer, bigint, bigint, timestamptz, timestamptz, text, text, uuid, text,
                     integer)
    TO ritra_app;
-- Insert only: no SELECT (pulls go through ritra_audit_pull), no UPDATE,
-- no DELETE, no TRUNCATE.
GRANT INSERT ON audit_log TO ritra_app;
GRANT SELECT ON audit_checkpoints TO ritra_app;

-- Administrative actions are audited too: migrations from here on record
-- themselves (the runner inserts an entry per applied file).
