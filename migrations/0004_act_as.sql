-- Every transaction of the server starts by naming its agency through
-- ritra_act_as(), which also re-checks the registry: an agency disabled,
-- or a certificate pin revoked or expired, after a connection was opened
-- stops that connection's very next request (SQLSTATE 28000), not only new
-- connections.

CREATE FUNCTION ritra_act_as(p_agency integer, p_fingerprint text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM agency_certs c JOIN agencies a USING (agency_id)
                    WHERE c.fingerprint = p_fingerprint AND a.agency_id = p_agency
                      AND a.enabled AND c.revoked_at IS NULL
                      AND c.not_before <= now() AND c.not_after > now()) THEN
        RAISE EXCEPTION 'agency % may not act: disabled, or its certificate registration '
                        'was withdrawn or has expired', p_agency
              USING ERRCODE = '28000';
    END IF;
    PERFORM set_config('ritra.agency_id', p_agency::text, true);
END
$$;

REVOKE ALL ON FUNCTION ritra_act_as(integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_act_as(integer, text) TO ritra_app;

-- A retried submission whose first attempt was stored (its reply lost)
-- carries the same content and the same, now stale, expected_version:
-- identical content wins over the version check, so the retry is the
-- no-op it should be instead of a conflict.
CREATE OR REPLACE FUNCTION ritra_submit_case(
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
        IF cur.content_sha256 = p_sha THEN
            outcome := 'unchanged';
            version := cur.version;
            RETURN;
        END IF;
        IF p_expected <> 0 AND p_expected <> cur.version THEN
            outcome := 'conflict';
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
