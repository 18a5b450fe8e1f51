-- The audit trail's per-entry work in PostgreSQL, halved (0.19 -> 0.09 ms
-- of CPU per entry, measured with pgbench on the INSERT the server sends;
-- docs/benchmarks.md, "Audit trail overhead"). Reads write one entry each,
-- so this was most of what the trail added to a GetCase. What is recorded,
-- its canonical encoding, the chain order (entry_id) and every hash stay
-- exactly as they were: a chain built before this migration continues
-- unchanged, and verifiers need nothing new.

-- 1. ritra_netstring was declared IMMUTABLE but calls convert_to(), which
--    is STABLE; PostgreSQL never inlines a function whose body is less
--    immutable than its declaration, so ritra_audit_canonical made 12 SQL
--    function calls per entry (41 us of its 45). STABLE is what it is.
ALTER FUNCTION ritra_netstring(text) STABLE;

-- 2. One INSERT into audit_pending per statement (from the statement's new
--    rows) instead of a PL/pgSQL trigger call and an INSERT per row. The
--    old trigger is dropped in the same transaction: no entry is left out.
CREATE FUNCTION ritra_audit_mark_pending_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_pending (entry_id) SELECT n.entry_id FROM new_entries n;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_pending_rows AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ritra_audit_mark_pending_rows();
DROP TRIGGER audit_log_pending ON audit_log;
DROP FUNCTION ritra_audit_mark_pending();
REVOKE ALL ON FUNCTION ritra_audit_mark_pending_rows() FROM PUBLIC;

-- 3. audit_pending is bookkeeping filled only by that trigger from rows
--    just inserted (and audit_log rows are never deleted); its foreign key
--    only made every insert lock the new entry's row a second time.
--    audit_chain keeps its foreign key: that is the record.
ALTER TABLE audit_pending DROP CONSTRAINT audit_pending_entry_id_fkey;

-- 4. The chainer computes the hashes in its loop as before, but writes the
--    chain rows and clears audit_pending with one statement each instead
--    of one INSERT and one DELETE per entry.
CREATE OR REPLACE FUNCTION ritra_audit_chain(p_max integer,
    OUT chained integer, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    e audit_log;
    prev bytea;
    h bytea;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
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
        seqs := seqs || head_seq;
        ids := ids || e.entry_id;
        prevs := prevs || prev;
        hashes := hashes || h;
        prev := h;
        chained := chained + 1;
    END LOOP;
    IF chained > 0 THEN
        INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)
        SELECT * FROM unnest(seqs, ids, prevs, hashes);
        DELETE FROM audit_pending p WHERE p.entry_id = ANY (ids);
    END IF;
    head_hash := CASE WHEN head_seq > 0 THEN prev END;
END
$$;
