-- Review decisions can be revisited (docs/search.md, "Decisions"):
--
-- * a REJECTED pair may be confirmed later (a reviewer re-decides it), and a
--   CONFIRMED pair whose records were separated again may be rejected;
-- * an unmerge no longer records rejections with the identity's other
--   records: the matcher never moves a record that already has an identity,
--   so they protected nothing, and they made an unmerge impossible to undo
--   (merging back was refused because of them, and confirming them was
--   refused because they were decided);
-- * CaseMatches says how many other records share each person's identity,
--   so "alone" and "linked" no longer depend on how the link was made.

CREATE OR REPLACE FUNCTION ritra_identities_rejected_except(p_a uuid, p_b uuid, p_except uuid)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM match_candidates c
          JOIN match_persons x ON x.person_id = c.person_a
          JOIN match_persons y ON y.person_id = c.person_b
         WHERE c.status = 'REJECTED' AND c.candidate_id IS DISTINCT FROM p_except
           AND ((x.identity_id = p_a AND y.identity_id = p_b)
                OR (x.identity_id = p_b AND y.identity_id = p_a)))
$$;

CREATE OR REPLACE FUNCTION ritra_match_decide(p_candidate uuid, p_confirm boolean, p_reason text,
                                              p_actor text)
RETURNS TABLE (outcome text, identity_id uuid, status text, cases uuid[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
    c record;
    own record;
    other record;
    both_cases uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock(7419, 1);
    SELECT * INTO c FROM match_candidates mc WHERE mc.candidate_id = p_candidate FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    SELECT * INTO own FROM match_persons m
     WHERE m.person_id IN (c.person_a, c.person_b) AND m.owner_agency_id = ag
     ORDER BY m.person_id LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    SELECT * INTO other FROM match_persons m
     WHERE m.person_id IN (c.person_a, c.person_b) AND m.person_id <> own.person_id;
    IF ritra_related_level(other.case_id, ag) < 1 THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    both_cases := ARRAY[own.case_id, other.case_id];
    IF p_confirm THEN
        -- Confirming what is confirmed and linked changes nothing: refused.
        IF c.status = 'CONFIRMED' AND own.identity_id = other.identity_id THEN
            RETURN QUERY SELECT 'wrong_state'::text, own.identity_id, c.status, both_cases;
            RETURN;
        END IF;
        IF own.identity_id <> other.identity_id THEN
            IF ritra_identities_rejected_except(own.identity_id, other.identity_id,
                                                p_candidate) THEN
                RETURN QUERY SELECT 'conflict'::text, own.identity_id, c.status, both_cases;
                RETURN;
            END IF;
            PERFORM ritra_identity_move(own.identity_id, other.identity_id, 'confirm');
        END IF;
    ELSE
        IF c.status = 'REJECTED' OR own.identity_id = other.identity_id THEN
            RETURN QUERY SELECT 'wrong_state'::text, own.identity_id, c.status, both_cases;
            RETURN;
        END IF;
    END IF;
    UPDATE match_candidates mc
       SET status = CASE WHEN p_confirm THEN 'CONFIRMED' ELSE 'REJECTED' END,
           decided_at = now(), decided_by = ag, decided_actor = p_actor, reason = p_reason
     WHERE mc.candidate_id = p_candidate;
    INSERT INTO identity_events (agency_id, actor, action, identity_id, other_identity_id,
                                 candidate_id, reason)
    VALUES (ag, p_actor, CASE WHEN p_confirm THEN 'confirm' ELSE 'reject' END, own.identity_id,
            other.identity_id, p_candidate, p_reason);
    RETURN QUERY SELECT 'done'::text, own.identity_id,
                        CASE WHEN p_confirm THEN 'CONFIRMED' ELSE 'REJECTED' END, both_cases;
END
$$;

CREATE OR REPLACE FUNCTION ritra_identity_unmerge(p_person uuid, p_reason text, p_actor text)
RETURNS TABLE (outcome text, identity_id uuid, previous_identity_id uuid, cases uuid[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
    me record;
    fresh uuid := gen_random_uuid();
BEGIN
    PERFORM pg_advisory_xact_lock(7419, 1);
    SELECT * INTO me FROM match_persons m WHERE m.person_id = p_person AND m.owner_agency_id = ag
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::uuid, '{}'::uuid[];
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM match_persons m
                    WHERE m.identity_id = me.identity_id AND m.person_id <> p_person) THEN
        RETURN QUERY SELECT 'wrong_state'::text, me.identity_id, me.identity_id, ARRAY[me.case_id];
        RETURN;
    END IF;
    UPDATE match_persons m SET identity_id = fresh, linked_by = 'unmerge', linked_score = NULL
     WHERE m.person_id = p_person;
    INSERT INTO identity_events (agency_id, actor, action, identity_id, other_identity_id,
                                 person_id, reason)
    VALUES (ag, p_actor, 'unmerge', fresh, me.identity_id, p_person, p_reason);
    RETURN QUERY SELECT 'done'::text, fresh, me.identity_id, ARRAY[me.case_id];
END
$$;

DROP FUNCTION ritra_case_matches(uuid);
CREATE FUNCTION ritra_case_matches(p_case uuid)
RETURNS TABLE (person_id uuid, person_ref text, identity_id uuid, linked_by text,
               linked_score real, queued boolean, review_pending integer, others integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    IF coalesce(ritra_case_level(p_case, ag), 0) < 2 THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT p.person_id, p.person_ref, m.identity_id, m.linked_by, m.linked_score,
           EXISTS (SELECT 1 FROM match_queue q WHERE q.person_id = p.person_id),
           (SELECT count(*)::integer FROM match_candidates c
             WHERE c.status = 'PENDING' AND (c.person_a = p.person_id OR c.person_b = p.person_id)),
           (SELECT count(*)::integer FROM match_persons o
             WHERE o.identity_id = m.identity_id AND o.person_id <> p.person_id)
      FROM persons p LEFT JOIN match_persons m ON m.person_id = p.person_id
     WHERE p.case_id = p_case
     ORDER BY p.person_ref;
END
$$;

REVOKE ALL ON FUNCTION ritra_identities_rejected_except(uuid, uuid, uuid),
    ritra_case_matches(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_case_matches(uuid) TO ritra_app;
