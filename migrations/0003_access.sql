-- Access rules, enforced by PostgreSQL independently of the server.
--
-- Every transaction of the server names its agency first
-- (set_config('ritra.agency_id', …, true)); the policies below read it
-- through ritra_current_agency(). ritra_app has no BYPASSRLS, so even a
-- wrong query in a handler only ever sees rows the agency may see. The
-- server's own policy module (server/policy.c) decides the same thing from
-- the same facts; reads compare the two and fail closed on disagreement.
--
-- Levels: 0 NONE, 1 HIT, 2 RESTRICTED, 3 FULL (docs/access.md).

ALTER TABLE agencies ADD COLUMN contact text NOT NULL DEFAULT ''
    CHECK (length(contact) <= 500);

-- The deployment's default level per viewer kind, on every case that is
-- not H3. Kinds not listed get NONE.
CREATE TABLE policy_defaults (
    viewer_kind agency_kind PRIMARY KEY CHECK (viewer_kind <> 'auditor'),
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 3)
);
INSERT INTO policy_defaults (viewer_kind, level) VALUES ('coordinator', 1);

ALTER TABLE cases ADD COLUMN h3_allow_hits boolean NOT NULL DEFAULT false;

-- The renderings of each case: 'full' for the owner, 'shareable' for FULL
-- recipients (unconsented victims' identity removed), 'restricted' for
-- RESTRICTED recipients. The server renders them at write time.
CREATE TABLE case_records (
    case_id uuid NOT NULL REFERENCES cases (case_id),
    variant text NOT NULL CHECK (variant IN ('full', 'shareable', 'restricted')),
    record  bytea NOT NULL,
    PRIMARY KEY (case_id, variant)
);
-- Cases stored before this migration keep their record as 'full'; until
-- their next update they have no other rendering, and non-owners reading
-- them are refused (fail closed) rather than served the owner's record.
INSERT INTO case_records (case_id, variant, record) SELECT case_id, 'full', record FROM cases;
ALTER TABLE cases DROP COLUMN record;

CREATE TABLE grants (
    grant_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id           uuid NOT NULL REFERENCES cases (case_id),
    grantor_agency_id integer NOT NULL REFERENCES agencies (agency_id),
    grantee_agency_id integer REFERENCES agencies (agency_id),
    grantee_kind      agency_kind,
    level             smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    purpose           text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    expires_at        timestamptz,
    state             text NOT NULL
                      CHECK (state IN ('offered', 'accepted', 'rejected', 'revoked', 'expired')),
    parent_grant_id   uuid REFERENCES grants (grant_id),
    reason            text CHECK (length(reason) <= 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL,
    updated_by        text NOT NULL,
    CHECK ((grantee_agency_id IS NULL) <> (grantee_kind IS NULL)),
    CHECK (grantee_kind IS DISTINCT FROM 'auditor')
);
-- At most one live grant per (case, recipient): sharing twice cannot make two.
CREATE UNIQUE INDEX grants_live_agency_idx ON grants (case_id, grantee_agency_id)
    WHERE state IN ('offered', 'accepted') AND grantee_agency_id IS NOT NULL;
CREATE UNIQUE INDEX grants_live_kind_idx ON grants (case_id, grantee_kind)
    WHERE state IN ('offered', 'accepted') AND grantee_kind IS NOT NULL;
CREATE INDEX grants_grantee_idx ON grants (grantee_agency_id, state);
CREATE INDEX grants_grantor_idx ON grants (grantor_agency_id, state);
CREATE INDEX grants_case_idx ON grants (case_id);
CREATE INDEX grants_expiry_idx ON grants (expires_at) WHERE state IN ('offered', 'accepted');

CREATE FUNCTION ritra_current_agency() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('ritra.agency_id', true), '')::integer
$$;

-- The facts that decide a level, for the server to decide it again.
-- SECURITY DEFINER: it must see grants and cases the caller cannot.
CREATE FUNCTION ritra_level_inputs(p_case uuid, p_agency integer,
    OUT owner_agency_id integer, OUT handling_code text, OUT h3_allow_hits boolean,
    OUT direct smallint, OUT by_kind smallint, OUT kind_default smallint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.owner_agency_id, c.handling_code, c.h3_allow_hits,
           coalesce((SELECT max(g.level) FROM grants g
                      WHERE g.case_id = c.case_id AND g.grantee_agency_id = p_agency
                        AND g.state = 'accepted'
                        AND (g.expires_at IS NULL OR g.expires_at > now())), 0)::smallint,
           coalesce((SELECT max(g.level) FROM grants g JOIN agencies a ON a.kind = g.grantee_kind
                      WHERE g.case_id = c.case_id AND a.agency_id = p_agency
                        AND g.state = 'accepted'
                        AND (g.expires_at IS NULL OR g.expires_at > now())), 0)::smallint,
           coalesce((SELECT d.level FROM policy_defaults d JOIN agencies a ON a.kind = d.viewer_kind
                      WHERE a.agency_id = p_agency), 0)::smallint
      FROM cases c WHERE c.case_id = p_case
$$;

-- The database's own decision (same rules as server/policy.c).
CREATE FUNCTION ritra_case_level(p_case uuid, p_agency integer) RETURNS smallint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE
             WHEN p_agency IS NULL THEN 0
             WHEN i.owner_agency_id = p_agency THEN 3
             WHEN (SELECT kind FROM agencies WHERE agency_id = p_agency) = 'auditor' THEN 0
             WHEN i.handling_code = 'H3' THEN i.direct
             ELSE greatest(i.direct, i.by_kind, i.kind_default)
           END::smallint
      FROM ritra_level_inputs(p_case, p_agency) i
$$;

CREATE FUNCTION ritra_case_owner(p_case uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT owner_agency_id FROM cases WHERE case_id = p_case
$$;

-- Agencies that see a case at HIT or above, besides its owner: the ones
-- whose sync feed must hear of each change. Set-based, one query.
CREATE FUNCTION ritra_case_audience(p_case uuid) RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT a.agency_id
      FROM cases c, agencies a
     WHERE c.case_id = p_case AND a.agency_id <> c.owner_agency_id AND a.kind <> 'auditor'
       AND (EXISTS (SELECT 1 FROM grants g
                     WHERE g.case_id = c.case_id AND g.grantee_agency_id = a.agency_id
                       AND g.state = 'accepted'
                       AND (g.expires_at IS NULL OR g.expires_at > now()))
            OR (c.handling_code <> 'H3'
                AND (EXISTS (SELECT 1 FROM grants g
                              WHERE g.case_id = c.case_id AND g.grantee_kind = a.kind
                                AND g.state = 'accepted'
                                AND (g.expires_at IS NULL OR g.expires_at > now()))
                     OR EXISTS (SELECT 1 FROM policy_defaults d
                                 WHERE d.viewer_kind = a.kind AND d.level >= 1))))
$$;

-- The feed is written only through these, never directly by ritra_app.
ALTER FUNCTION ritra_feed_touch(integer, uuid) SECURITY DEFINER;
ALTER FUNCTION ritra_feed_touch(integer, uuid) SET search_path = public, pg_temp;

CREATE FUNCTION ritra_feed_touch_audience(p_case uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_feed_touch(a, p_case) FROM ritra_case_audience(p_case) AS a;
END
$$;

-- A grant changed: whoever it addresses must hear (gain or loss).
CREATE FUNCTION ritra_feed_touch_grantees(p_grant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_feed_touch(a.agency_id, g.case_id)
       FROM grants g JOIN agencies a
         ON a.agency_id = g.grantee_agency_id OR a.kind = g.grantee_kind
      WHERE g.grant_id = p_grant;
END
$$;

-- Submission now stores three renderings and tells every viewer's feed.
DROP FUNCTION ritra_submit_case(integer, text, text, bigint, bytea, bytea, text, text, text, text,
                                text[], integer, jsonb, jsonb);

CREATE FUNCTION ritra_submit_case(
    p_agency integer, p_actor text, p_external_ref text, p_expected bigint,
    p_sha bytea, p_full bytea, p_shareable bytea, p_restricted bytea,
    p_status text, p_handling text, p_reliability text, p_accuracy text,
    p_exploitation text[], p_person_count integer, p_h3_allow_hits boolean,
    p_persons jsonb, p_events jsonb,
    OUT outcome text, OUT case_id uuid, OUT version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    cur record;
BEGIN
    IF p_agency IS DISTINCT FROM ritra_current_agency() THEN
        RAISE EXCEPTION 'submission for agency % in a transaction of agency %',
            p_agency, ritra_current_agency() USING ERRCODE = '42501';
    END IF;
    LOOP
        SELECT c.case_id, c.version, c.content_sha256 INTO cur
          FROM cases c
         WHERE c.owner_agency_id = p_agency AND c.external_ref = p_external_ref
           FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_expected <> 0 THEN
            outcome := 'conflict';
            version := 0;
            RETURN;
        END IF;
        INSERT INTO cases AS c (owner_agency_id, external_ref, version, status, handling_code,
                                source_reliability, information_accuracy, exploitation_types,
                                person_count, content_sha256, h3_allow_hits, created_by,
                                updated_by)
        VALUES (p_agency, p_external_ref, 1, p_status, p_handling, p_reliability, p_accuracy,
                p_exploitation, p_person_count, p_sha, p_h3_allow_hits, p_actor, p_actor)
        ON CONFLICT ON CONSTRAINT cases_owner_agency_id_external_ref_key DO NOTHING
        RETURNING c.case_id INTO case_id;
        IF case_id IS NOT NULL THEN
            outcome := 'created';
            version := 1;
            EXIT;
        END IF;
    END LOOP;

    IF outcome IS NULL THEN
        case_id := cur.case_id;
        IF p_expected <> 0 AND p_expected <> cur.version THEN
            outcome := 'conflict';
            version := cur.version;
            RETURN;
        END IF;
        IF cur.content_sha256 = p_sha THEN
            outcome := 'unchanged';
            version := cur.version;
            RETURN;
        END IF;
        outcome := 'updated';
        version := cur.version + 1;
        UPDATE cases c
           SET version = cur.version + 1, status = p_status, handling_code = p_handling,
               source_reliability = p_reliability, information_accuracy = p_accuracy,
               exploitation_types = p_exploitation, person_count = p_person_count,
               content_sha256 = p_sha, h3_allow_hits = p_h3_allow_hits, updated_at = now(),
               updated_by = p_actor
         WHERE c.case_id = cur.case_id;
    END IF;

    INSERT INTO case_records AS r (case_id, variant, record)
    VALUES (case_id, 'full', p_full), (case_id, 'shareable', p_shareable),
           (case_id, 'restricted', p_restricted)
    ON CONFLICT ON CONSTRAINT case_records_pkey DO UPDATE SET record = EXCLUDED.record;
    PERFORM ritra_project_case(case_id, p_persons, p_events);
    INSERT INTO case_versions (case_id, version, status, content_sha256, record, submitted_by,
                               agency_id)
    VALUES (case_id, version, p_status, p_sha, p_full, p_actor, p_agency);
    PERFORM ritra_feed_touch(p_agency, case_id);
    PERFORM ritra_feed_touch_audience(case_id);
END
$$;

-- Row-level security. Table owners (the migration role) are exempt; the
-- server's role is not.
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY cases_read ON cases FOR SELECT
    USING (owner_agency_id = ritra_current_agency()
           OR ritra_case_level(case_id, ritra_current_agency()) >= 1);
CREATE POLICY cases_insert ON cases FOR INSERT
    WITH CHECK (owner_agency_id = ritra_current_agency());
CREATE POLICY cases_update ON cases FOR UPDATE
    USING (owner_agency_id = ritra_current_agency())
    WITH CHECK (owner_agency_id = ritra_current_agency());

ALTER TABLE case_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_records_read ON case_records FOR SELECT
    USING (CASE variant
             WHEN 'full' THEN ritra_case_owner(case_id) = ritra_current_agency()
             WHEN 'shareable' THEN ritra_case_level(case_id, ritra_current_agency()) = 3
             ELSE ritra_case_level(case_id, ritra_current_agency()) >= 2
           END);
CREATE POLICY case_records_write ON case_records FOR INSERT
    WITH CHECK (ritra_case_owner(case_id) = ritra_current_agency());
CREATE POLICY case_records_update ON case_records FOR UPDATE
    USING (ritra_case_owner(case_id) = ritra_current_agency())
    WITH CHECK (ritra_case_owner(case_id) = ritra_current_agency());

-- History, the projection tables: the owner only. Cross-agency search
-- goes through SECURITY DEFINER functions that return what policy allows.
ALTER TABLE case_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_versions_owner ON case_versions
    USING (agency_id = ritra_current_agency())
    WITH CHECK (agency_id = ritra_current_agency());

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
CREATE POLICY persons_owner ON persons
    USING (ritra_case_owner(case_id) = ritra_current_agency())
    WITH CHECK (ritra_case_owner(case_id) = ritra_current_agency());

ALTER TABLE person_documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY person_documents_owner ON person_documents
    USING (EXISTS (SELECT 1 FROM persons p WHERE p.person_id = person_documents.person_id))
    WITH CHECK (EXISTS (SELECT 1 FROM persons p WHERE p.person_id = person_documents.person_id));

ALTER TABLE case_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_events_owner ON case_events
    USING (ritra_case_owner(case_id) = ritra_current_agency())
    WITH CHECK (ritra_case_owner(case_id) = ritra_current_agency());

ALTER TABLE sync_feed ENABLE ROW LEVEL SECURITY;
CREATE POLICY sync_feed_own ON sync_feed FOR SELECT
    USING (agency_id = ritra_current_agency());

ALTER TABLE grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY grants_parties ON grants FOR SELECT
    USING (grantor_agency_id = ritra_current_agency()
           OR grantee_agency_id = ritra_current_agency()
           OR grantee_kind = (SELECT kind FROM agencies WHERE agency_id = ritra_current_agency())
           OR ritra_case_owner(case_id) = ritra_current_agency());

-- Grant lifecycle, race-safe: each transition is one UPDATE guarded by the
-- state it starts from, under the row lock, so concurrent revoke/accept
-- or share/share end in exactly one well-defined state.
CREATE FUNCTION ritra_share_case(p_case uuid, p_grantee_agency integer, p_grantee_kind agency_kind,
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
        SELECT g.grant_id INTO parent FROM grants g
         WHERE g.case_id = p_case AND g.grantee_agency_id = me AND g.state = 'accepted'
         ORDER BY g.level DESC LIMIT 1;
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

CREATE FUNCTION ritra_respond_share(p_grant uuid, p_accept boolean, p_reason text, p_actor text,
    OUT outcome text, OUT state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me integer := ritra_current_agency();
    g record;
BEGIN
    SELECT * INTO g FROM grants WHERE grant_id = p_grant FOR UPDATE;
    IF NOT FOUND OR g.grantee_agency_id IS DISTINCT FROM me THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF g.state <> 'offered' OR (g.expires_at IS NOT NULL AND g.expires_at <= now()) THEN
        PERFORM set_config('ritra.last_grant', p_grant::text, true);
        outcome := 'wrong_state';
        state := CASE WHEN g.state = 'offered' THEN 'expired' ELSE g.state END;
        RETURN;
    END IF;
    UPDATE grants SET state = CASE WHEN p_accept THEN 'accepted' ELSE 'rejected' END,
                      reason = p_reason, updated_at = now(), updated_by = p_actor
     WHERE grant_id = p_grant
    RETURNING grants.state INTO state;
    PERFORM ritra_feed_touch_grantees(p_grant);
    PERFORM set_config('ritra.last_grant', p_grant::text, true);
    outcome := 'done';
END
$$;

-- Revokes a grant and, recursively, the onward shares made from it.
CREATE FUNCTION ritra_revoke_share(p_grant uuid, p_reason text, p_actor text,
    OUT outcome text, OUT state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me integer := ritra_current_agency();
    g record;
    child uuid;
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
    FOR child IN SELECT c.grant_id FROM grants c
                  WHERE c.parent_grant_id = p_grant AND c.state IN ('offered', 'accepted') LOOP
        UPDATE grants SET state = 'revoked', reason = 'parent grant revoked', updated_at = now(),
                          updated_by = p_actor
         WHERE grant_id = child;
        PERFORM ritra_feed_touch_grantees(child);
    END LOOP;
    PERFORM set_config('ritra.last_grant', p_grant::text, true);
    outcome := 'done';
    state := 'revoked';
END
$$;

-- Marks grants past their expiry and tells their recipients' feeds. Run
-- periodically by every server; idempotent and safe to run concurrently.
CREATE FUNCTION ritra_expire_grants() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    g uuid;
    n integer := 0;
BEGIN
    FOR g IN UPDATE grants SET state = 'expired', updated_at = now(), updated_by = 'ritra'
              WHERE state IN ('offered', 'accepted') AND expires_at <= now()
             RETURNING grant_id LOOP
        PERFORM ritra_feed_touch_grantees(g);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION ritra_level_inputs(uuid, integer), ritra_case_level(uuid, integer),
    ritra_case_owner(uuid), ritra_case_audience(uuid), ritra_feed_touch(integer, uuid),
    ritra_feed_touch_audience(uuid), ritra_feed_touch_grantees(uuid),
    ritra_share_case(uuid, integer, agency_kind, smallint, text, timestamptz, text),
    ritra_respond_share(uuid, boolean, text, text), ritra_revoke_share(uuid, text, text),
    ritra_expire_grants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_current_agency(), ritra_level_inputs(uuid, integer),
    ritra_case_level(uuid, integer), ritra_case_owner(uuid), ritra_feed_touch(integer, uuid),
    ritra_feed_touch_audience(uuid),
    ritra_share_case(uuid, integer, agency_kind, smallint, text, timestamptz, text),
    ritra_respond_share(uuid, boolean, text, text), ritra_revoke_share(uuid, text, text),
    ritra_expire_grants(),
    ritra_submit_case(integer, text, text, bigint, bytea, bytea, bytea, bytea, text, text, text,
                      text, text[], integer, boolean, jsonb, jsonb)
    TO ritra_app;
GRANT SELECT, INSERT, UPDATE ON case_records TO ritra_app;
GRANT SELECT ON grants, policy_defaults TO ritra_app;
REVOKE INSERT, UPDATE ON sync_feed FROM ritra_app;
