-- SearchPersons' candidate query, set-based. 0010's version decided the
-- level of every candidate with ritra_search_level(), i.e. three subqueries
-- per row; with common names a query scores hundreds of candidates, and that
-- dominated its time (tools/bench/match-speed, "the search candidate query
-- three ways"). This one reads the viewer's kind and default once and the
-- grants of all candidate cases in one join, and applies the same rules as
-- ritra_case_level / ritra_search_level (server/policy.c decides again from
-- the facts returned and refuses the request on any difference).

CREATE OR REPLACE FUNCTION ritra_search_candidates(p_keys text[], p_cap integer, p_roles text[])
RETURNS TABLE (person_id uuid, identity_id uuid, role text, person_ref text, person_pb bytea,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH viewer AS (
        SELECT a.agency_id, a.kind,
               coalesce((SELECT d.level FROM policy_defaults d WHERE d.viewer_kind = a.kind),
                        0)::smallint AS kind_default
          FROM agencies a WHERE a.agency_id = ag),
    cand AS (
        SELECT DISTINCT m.person_id, m.identity_id, m.role, m.case_id, m.person_pb
          FROM unnest(p_keys) AS k (key)
         CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids
                               FROM (SELECT mk.person_id FROM match_keys mk
                                      WHERE mk.key = k.key LIMIT p_cap + 1) s) b
          JOIN match_persons m ON m.person_id = ANY (b.ids)
         WHERE cardinality(b.ids) <= p_cap
           AND (cardinality(p_roles) = 0 OR m.role = ANY (p_roles))),
    f AS (
        SELECT cand.*, c.owner_agency_id, c.handling_code, c.h3_allow_hits, v.kind,
               v.kind_default, coalesce(g.direct, 0)::smallint AS direct,
               coalesce(g.by_kind, 0)::smallint AS by_kind
          FROM cand JOIN cases c ON c.case_id = cand.case_id CROSS JOIN viewer v
          LEFT JOIN LATERAL (
              SELECT max(gr.level) FILTER (WHERE gr.grantee_agency_id = v.agency_id) AS direct,
                     max(gr.level) FILTER (WHERE gr.grantee_kind = v.kind) AS by_kind
                FROM grants gr
               WHERE gr.case_id = c.case_id AND gr.state = 'accepted'
                 AND (gr.expires_at IS NULL OR gr.expires_at > now())) g ON true),
    l AS (
        SELECT f.*,
               CASE WHEN f.owner_agency_id = ag THEN 3
                    WHEN f.kind = 'auditor' THEN 0
                    WHEN f.handling_code = 'H3' THEN f.direct
                    ELSE greatest(f.direct, f.by_kind, f.kind_default)
               END::smallint AS case_level
          FROM f),
    s AS (
        SELECT l.*,
               CASE WHEN l.case_level >= 1 THEN l.case_level
                    WHEN l.kind NOT IN ('police', 'prosecutor') THEN 0
                    WHEN l.handling_code = 'H3' AND NOT l.h3_allow_hits THEN 0
                    ELSE 1
               END::smallint AS level
          FROM l)
    SELECT s.person_id, s.identity_id, s.role, p.person_ref, s.person_pb,
           ROW(s.case_id, s.owner_agency_id, o.code, o.name, coalesce(o.contact, ''),
               s.handling_code, s.h3_allow_hits, s.direct, s.by_kind, s.kind_default,
               s.level)::ritra_case_facts
      FROM s
      JOIN persons p ON p.person_id = s.person_id
      JOIN agencies o ON o.agency_id = s.owner_agency_id
     WHERE s.level >= 1;
END
$$;
