-- Fixes from review of the access and audit migrations.

-- Revocation and expiry reach every onward grant made from a grant, at
-- any depth (0003 went one level down and expiry not at all).
CREATE INDEX grants_parent_idx ON grants (parent_grant_id) WHERE parent_grant_id IS NOT NULL;

CREATE FUNCTION ritra_fall_descendants(p_grant uuid, p_reason text, p_actor text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    child uuid;
BEGIN
    FOR child IN WITH RECURSIVE d(grant_id) AS (
                     SELECT g.grant_id FROM grants g WHERE g.parent_grant_id = p_grant
                     UNION
                     SELECT g.grant_id FROM grants g JOIN d ON g.parent_grant_id = d.grant_id)
                 SELECT d.grant_id FROM d JOIN grants g USING (grant_id)
                  WHERE g.state IN ('offered', 'accepted') LOOP
        UPDATE grants SET state = 'revoked', reason = p_reason, updated_at = now(),
                          updated_by = p_actor
         WHERE grant_id = child;
        PERFORM ritra_feed_touch_grantees(child);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION ritra_revoke_share(p_grant uuid, p_reason text, p_actor text,
    OUT outcome text, OUT state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me integer := ritra_current_agency();
    g record;
BEGIN
    SELECT * INTO g FROM grants WHERE grant_id = p_grant FOR UPDATE;
    IF NOT FOUND OR (g.grantor_agency_id <> me AND ritra_case_owner(g.case_id) <> me) THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF g.state NOT IN ('offered', 'accepted') THEN
        PERFORM set_config('ritra.last_grant', p_grant::text, true);
        outcome := 'wrong_state';
        state := g.state;
        RETURN;
    END IF;
    UPDATE grants SET state = 'revoked', reason = p_reason, updated_at = now(),
                      updated_by = p_actor
     WHERE grant_id = p_grant;
    PERFORM ritra_feed_touch_grantees(p_grant);
    PERFORM ritra_fall_descendants(p_grant, 'parent grant revoked', p_actor);
    PERFORM set_config('ritra.last_grant', p_grant::text, true);
    outcome := 'done';
    state := 'revoked';
END
$$;

CREATE OR REPLACE FUNCTION ritra_expire_grants() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    g uuid;
    n integer := 0;
BEGIN
    FOR g IN UPDATE grants SET state = 'expired', updated_at = now(), updated_by = 'ritra'
              WHERE state IN ('offered', 'accepted') AND expires_at <= now()
             RETURNING grant_id LOOP
        PERFORM ritra_feed_touch_grantees(g);
        PERFORM ritra_fall_descendants(g, 'parent grant expired', 'ritra');
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- An onward share made under a grant to the sharer's kind hangs from that
-- grant, so that it falls with it.
CREATE OR REPLACE FUNCTION ritra_onward_parent(p_case uuid, p_agency integer) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT g.grant_id FROM grants g
     WHERE g.case_id = p_case AND g.state = 'accepted'
       AND (g.expires_at IS NULL OR g.expires_at > now())
       AND (g.grantee_agency_id = p_agency
            OR g.grantee_kind = (SELECT kind FROM agencies WHERE agency_id = p_agency))
     ORDER BY g.level DESC, g.grantee_agency_id IS NULL LIMIT 1
$$;

-- Onward shares hang from the grant they were made under (direct or to
-- the sharer's kind); a share that expires in the past is refused.
CREATE OR REPLACE FUNCTION ritra_share_case(p_case uuid, p_grantee_agency integer, p_grantee_kind agency_kind,
    p_level smallint, p_purpose text, p_expires timestamptz, p_actor text,
    OUT outcome text, OUT grant_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me integer := ritra_current_agency();
    c record;
    my_level smallint;
    parent uuid;
BEGIN
    SELECT * INTO c FROM cases WHERE cases.case_id = p_case FOR SHARE;
    my_level := ritra_case_level(p_case, me);
    IF NOT FOUND OR my_level < 1 THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF c.owner_agency_id <> me THEN
        -- Onward sharing: at most one's own level, one agency, not H2/H3.
        IF my_level < 2 OR c.handling_code IN ('H2', 'H3') OR p_level > my_level
           OR p_grantee_kind IS NOT NULL THEN
            outcome := 'denied';
            RETURN;
        END IF;
        parent := ritra_onward_parent(p_case, me);
    END IF;
    IF p_expires IS NOT NULL AND p_expires <= now() THEN
        outcome := 'bad_expiry';
        RETURN;
    END IF;
    IF p_grantee_agency IS NULL AND p_grantee_kind IS NULL THEN
        outcome := 'no_grantee';
        RETURN;
    END IF;
    IF p_grantee_agency = c.owner_agency_id OR p_grantee_agency = me THEN
        outcome := 'self';
        RETURN;
    END IF;
    IF p_grantee_kind = 'auditor'
       OR (SELECT kind FROM agencies WHERE agency_id = p_grantee_agency) = 'auditor' THEN
        outcome := 'denied';
        RETURN;
    END IF;
    BEGIN
        INSERT INTO grants (case_id, grantor_agency_id, grantee_agency_id, grantee_kind, level,
                            purpose, expires_at, state, parent_grant_id, created_by, updated_by)
        VALUES (p_case, me, p_grantee_agency, p_grantee_kind, p_level, p_purpose, p_expires,
                -- a standing share to a whole kind needs no acceptance
                CASE WHEN p_grantee_kind IS NULL THEN 'offered' ELSE 'accepted' END,
                parent, p_actor, p_actor)
        RETURNING grants.grant_id INTO grant_id;
    EXCEPTION WHEN unique_violation THEN
        SELECT g.grant_id INTO grant_id FROM grants g
         WHERE g.case_id = p_case AND g.state IN ('offered', 'accepted')
           AND (g.grantee_agency_id = p_grantee_agency OR g.grantee_kind = p_grantee_kind);
        outcome := 'exists';
        PERFORM set_config('ritra.last_grant', grant_id::text, true);
        RETURN;
    END;
    PERFORM ritra_feed_touch_grantees(grant_id);
    PERFORM set_config('ritra.last_grant', grant_id::text, true);
    outcome := 'created';
END
$$;

-- A change can also take visibility away (an update to H3 removes kind
-- grants and defaults): the agencies that saw the case before the change
-- hear of it too. Called by ritra_submit_case before it updates.
CREATE OR REPLACE FUNCTION ritra_feed_touch_audience(p_case uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_feed_touch(a, p_case) FROM ritra_case_audience(p_case) AS a;
END
$$;

-- Request ids are unsigned 64-bit on the wire; a bigint column could not
-- record ids from 2^63 up, and one such id failed a whole audit batch.
ALTER TABLE audit_log ALTER COLUMN request_id TYPE numeric(20, 0);

-- The audit pull serves the acting agency only: a server bug passing
-- another agency's id gets nothing. (Dropped first: its row type changes.)
DROP FUNCTION ritra_audit_pull(integer, bigint, bigint, timestamptz, timestamptz, text, text, uuid,
                               text, integer);
CREATE FUNCTION ritra_audit_pull(p_agency integer, p_from_seq bigint, p_to_seq bigint,
    p_from_time timestamptz, p_to_time timestamptz, p_agency_code text, p_operation text,
    p_case uuid, p_actor text, p_limit integer)
RETURNS TABLE (seq bigint, at text, agency_code text, fingerprint text, actor text,
               operation text, case_ids text, details text, outcome text, records integer,
               visibility text, request_id numeric, prev_hash text, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.seq, to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           l.agency_code, l.fingerprint, l.actor, l.operation,
           array_to_string(l.case_ids, ','), l.details, l.outcome, l.records, l.visibility,
           l.request_id, encode(c.prev_hash, 'hex'), encode(c.hash, 'hex')
      FROM audit_chain c JOIN audit_log l USING (entry_id)
     WHERE p_agency = ritra_current_agency()
       AND c.seq >= p_from_seq
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

REVOKE ALL ON FUNCTION ritra_fall_descendants(uuid, text, text), ritra_onward_parent(uuid, integer),
    ritra_audit_pull(integer, bigint, bigint, timestamptz, timestamptz, text, text, uuid, text,
                     integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_audit_pull(integer, bigint, bigint, timestamptz, timestamptz, text,
                                           text, uuid, text, integer)
    TO ritra_app;
GRANT EXECUTE ON FUNCTION ritra_onward_parent(uuid, integer) TO ritra_app;
REVOKE USAGE ON SEQUENCE sync_feed_seq FROM ritra_app;
