-- Measured after 0015 (tools/bench/audit-overhead): GetCase fell from
-- about 9,700 to about 120 requests/s. Two causes, both in how PostgreSQL
-- planned the calls, not in the rules:
--  * ritra_case_levels and ritra_case_heads are set-returning functions,
--    which the planner assumes return 1000 rows; ritra_case_heads then
--    hash-joined a sequential scan of all of cases for one case_id, and
--    GetCase joined case_records the same way. Their callers pass a
--    handful of case ids (one for GetCase, at most a sync page), so ROWS
--    10 is the better guess: index lookups, nested loops.
--  * ritra_case_levels was LANGUAGE sql with its own search_path, so it was
--    never inlined and its statement was planned again at every call: 0.8
--    ms of planning for 0.1 ms of execution. In PL/pgSQL with
--    plan_cache_mode = force_generic_plan its plan is made once per
--    session (left to choose, the plan cache kept making custom plans,
--    its generic plan's estimate being the higher). The plan does not
--    depend on the values: a few ids, each looked up by primary key.
--    Measured with pgbench, one case: 0.84 -> 0.11 ms.
-- Same query, same rules, same results.

CREATE OR REPLACE FUNCTION ritra_case_levels(p_cases uuid[], p_agency integer)
RETURNS TABLE (case_id uuid, owner_agency_id integer, owner_code text, owner_name text,
               contact text, handling_code text, h3_allow_hits boolean, direct smallint,
               by_kind smallint, kind_default smallint, case_level smallint,
               related_level smallint, search_level smallint)
LANGUAGE plpgsql STABLE ROWS 10
SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH viewer AS (
        SELECT a.agency_id, a.kind,
               coalesce((SELECT d.level FROM policy_defaults d WHERE d.viewer_kind = a.kind),
                        0)::smallint AS kind_default
          FROM agencies a WHERE a.agency_id = p_agency),
    f AS (
        SELECT c.case_id, c.owner_agency_id, c.handling_code, c.h3_allow_hits, v.kind,
               v.kind_default, coalesce(g.direct, 0)::smallint AS direct,
               coalesce(g.by_kind, 0)::smallint AS by_kind
          FROM (SELECT DISTINCT x.id FROM unnest(p_cases) AS x (id)) ids
          JOIN cases c ON c.case_id = ids.id
         CROSS JOIN viewer v
          LEFT JOIN LATERAL (
              SELECT max(gr.level) FILTER (WHERE gr.grantee_agency_id = v.agency_id) AS direct,
                     max(gr.level) FILTER (WHERE gr.grantee_kind = v.kind) AS by_kind
                FROM grants gr
               WHERE gr.case_id = c.case_id AND gr.state = 'accepted'
                 AND (gr.expires_at IS NULL OR gr.expires_at > now())) g ON true),
    l AS (
        SELECT f.*,
               CASE WHEN f.owner_agency_id = p_agency THEN 3
                    WHEN f.kind = 'auditor' THEN 0
                    WHEN f.handling_code = 'H3' THEN f.direct
                    ELSE greatest(f.direct, f.by_kind, f.kind_default)
               END::smallint AS case_level
          FROM f)
    SELECT l.case_id, l.owner_agency_id, o.code, o.name, coalesce(o.contact, ''),
           l.handling_code, l.h3_allow_hits, l.direct, l.by_kind, l.kind_default, l.case_level,
           CASE WHEN l.case_level >= 1 THEN l.case_level
                WHEN l.kind = 'auditor' THEN 0
                WHEN l.handling_code = 'H3' AND NOT l.h3_allow_hits THEN 0
                ELSE 1
           END::smallint,
           CASE WHEN l.case_level >= 1 THEN l.case_level
                WHEN l.kind NOT IN ('police', 'prosecutor') THEN 0
                WHEN l.handling_code = 'H3' AND NOT l.h3_allow_hits THEN 0
                ELSE 1
           END::smallint
      FROM l JOIN agencies o ON o.agency_id = l.owner_agency_id;
END
$$;

ALTER FUNCTION ritra_case_heads(uuid[]) ROWS 10;
ALTER FUNCTION ritra_case_heads(uuid[]) SET plan_cache_mode = force_generic_plan;
