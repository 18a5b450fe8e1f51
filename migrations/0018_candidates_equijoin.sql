-- Candidates joined to their records by equality, not by "= ANY (array)".
--
-- ritra_match_candidates (0010) and ritra_search_candidates (0013) read
-- each block's person ids into an array (so that a block over the cap
-- can be skipped whole) and joined match_persons ON person_id = ANY
-- (ids). In the plan PL/pgSQL caches for the matcher that join became a
-- scan testing every record against the array (perf: most of
-- PostgreSQL's time in ExecEvalScalarArrayOp and uuid_eq). Measured on a
-- fresh stack, 2000 submitted cases (5,627 persons): the matcher took
-- 7.10 ms per person (186 us per candidate) and emptied its queue 36.6 s
-- after the last submission; joined through unnest(ids) by equality,
-- 2.38 ms (62 us) and 9.9 s. Same rows: only the join changes.

CREATE OR REPLACE FUNCTION ritra_match_candidates(p_idx integer[], p_keys text[], p_cap integer)
RETURNS TABLE (idx integer, person_id uuid, identity_id uuid, person_pb bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_match_check();
    RETURN QUERY
    SELECT DISTINCT ON (k.idx, m.person_id) k.idx, m.person_id, m.identity_id, m.person_pb
      FROM unnest(p_idx, p_keys) AS k (idx, key)
     CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids
                           FROM (SELECT mk.person_id FROM match_keys mk
                                  WHERE mk.key = k.key LIMIT p_cap + 1) s) b
     CROSS JOIN LATERAL unnest(b.ids) AS u (pid)
      JOIN match_persons m ON m.person_id = u.pid
     WHERE cardinality(b.ids) <= p_cap
     ORDER BY k.idx, m.person_id;
END
$$;

CREATE OR REPLACE FUNCTION ritra_search_candidates(p_keys text[], p_cap integer, p_roles text[])
RETURNS TABLE (person_id uuid, identity_id uuid, role text, person_ref text, person_pb bytea,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH cand AS MATERIALIZED (
        SELECT DISTINCT m.person_id, m.identity_id, m.role, m.case_id, m.person_pb
          FROM unnest(p_keys) AS k (key)
         CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids
                               FROM (SELECT mk.person_id FROM match_keys mk
                                      WHERE mk.key = k.key LIMIT p_cap + 1) s) b
         CROSS JOIN LATERAL unnest(b.ids) AS u (pid)
          JOIN match_persons m ON m.person_id = u.pid
         WHERE cardinality(b.ids) <= p_cap
           AND (cardinality(p_roles) = 0 OR m.role = ANY (p_roles))),
    lv AS MATERIALIZED (
        SELECT * FROM ritra_case_levels((SELECT array_agg(DISTINCT cand.case_id) FROM cand), ag))
    SELECT cand.person_id, cand.identity_id, cand.role, p.person_ref, cand.person_pb,
           ROW(lv.case_id, lv.owner_agency_id, lv.owner_code, lv.owner_name, lv.contact,
               lv.handling_code, lv.h3_allow_hits, lv.direct, lv.by_kind, lv.kind_default,
               lv.search_level)::ritra_case_facts
      FROM cand
      JOIN lv ON lv.case_id = cand.case_id
      JOIN persons p ON p.person_id = cand.person_id
     WHERE lv.search_level >= 1;
END
$$;
