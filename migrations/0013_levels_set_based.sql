-- One set-based access decision for the functions that return many cases'
-- rows at once. ritra_identity_records, ritra_related_cases and
-- ritra_match_list decided each row's level with ritra_related_level() /
-- ritra_search_level() and built its facts with ritra_case_facts(): SQL
-- functions, SECURITY DEFINER with their own search_path, so never inlined
-- and planned again at every call (0.6-1.5 ms each). On a search page of a
-- common name that was 90 % of a SearchPersons (tools/bench/match-speed,
-- "After 0012"). 0012 wrote the rules out inline in ritra_search_candidates;
-- here they live once, in ritra_case_levels(), and every set-returning
-- function joins it once per statement. The rules are those of
-- ritra_case_level (0003), ritra_related_level and ritra_search_level (0010)
-- and of server/policy.c, which decides again from the facts returned and
-- refuses the request on any difference.

-- The acting agency's levels on a set of cases. A case that does not exist,
-- or an agency that does not, gives no row: callers join, so no row means
-- nothing returned (fail closed).
--   case_level     ritra_case_level: what the agency may read of the case
--   related_level  ritra_related_level: a case sharing a person with one of
--                  its own (related cases, the review queue)
--   search_level   ritra_search_level: a case whose person its search found
CREATE FUNCTION ritra_case_levels(p_cases uuid[], p_agency integer)
RETURNS TABLE (case_id uuid, owner_agency_id integer, owner_code text, owner_name text,
               contact text, handling_code text, h3_allow_hits boolean, direct smallint,
               by_kind smallint, kind_default smallint, case_level smallint,
               related_level smallint, search_level smallint)
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
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
      FROM l JOIN agencies o ON o.agency_id = l.owner_agency_id
$$;

-- 0012's candidate query, with its inline copy of the rules replaced by
-- ritra_case_levels over the candidates' cases.
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
          JOIN match_persons m ON m.person_id = ANY (b.ids)
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

CREATE OR REPLACE FUNCTION ritra_identity_records(p_identities uuid[], p_related boolean)
RETURNS TABLE (identity_id uuid, person_id uuid, role text, person_ref text, person_pb bytea,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH recs AS MATERIALIZED (
        SELECT m.identity_id, m.person_id, m.role, m.case_id, m.person_pb
          FROM match_persons m WHERE m.identity_id = ANY (p_identities)),
    lv AS MATERIALIZED (
        SELECT l.*, CASE WHEN p_related THEN l.related_level ELSE l.search_level END AS level
          FROM ritra_case_levels((SELECT array_agg(DISTINCT recs.case_id) FROM recs), ag) l)
    SELECT recs.identity_id, recs.person_id,
           CASE WHEN lv.level >= 2 THEN recs.role END,
           CASE WHEN lv.level >= 2 THEN p.person_ref END,
           CASE WHEN lv.level >= 2 THEN recs.person_pb END,
           ROW(lv.case_id, lv.owner_agency_id, lv.owner_code, lv.owner_name, lv.contact,
               lv.handling_code, lv.h3_allow_hits, lv.direct, lv.by_kind, lv.kind_default,
               lv.level)::ritra_case_facts
      FROM recs
      JOIN lv ON lv.case_id = recs.case_id
      JOIN persons p ON p.person_id = recs.person_id
     WHERE lv.level >= 1
     ORDER BY recs.identity_id, recs.case_id, recs.person_id;
END
$$;

CREATE OR REPLACE FUNCTION ritra_related_cases(p_case uuid)
RETURNS TABLE (person_ref text, identity_id uuid, case_id uuid, external_ref text, version bigint,
               status text, updated_at timestamptz, person_count integer,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    IF coalesce(ritra_case_level(p_case, ag), 0) < 2 THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH mine AS (
        SELECT p.person_ref, m.identity_id FROM persons p
          JOIN match_persons m ON m.person_id = p.person_id WHERE p.case_id = p_case),
    rel AS MATERIALIZED (
        SELECT DISTINCT ON (mine.identity_id, o.case_id) mine.person_ref, mine.identity_id, o.case_id
          FROM mine JOIN match_persons o ON o.identity_id = mine.identity_id
         WHERE o.case_id <> p_case
         ORDER BY mine.identity_id, o.case_id, mine.person_ref),
    lv AS MATERIALIZED (
        SELECT * FROM ritra_case_levels((SELECT array_agg(DISTINCT rel.case_id) FROM rel), ag))
    SELECT rel.person_ref, rel.identity_id, rel.case_id,
           CASE WHEN lv.related_level >= 2 THEN c.external_ref END,
           CASE WHEN lv.related_level >= 2 THEN c.version END,
           CASE WHEN lv.related_level >= 2 THEN c.status END,
           CASE WHEN lv.related_level >= 2 THEN c.updated_at END,
           CASE WHEN lv.related_level >= 2 THEN c.person_count END,
           ROW(lv.case_id, lv.owner_agency_id, lv.owner_code, lv.owner_name, lv.contact,
               lv.handling_code, lv.h3_allow_hits, lv.direct, lv.by_kind, lv.kind_default,
               lv.related_level)::ritra_case_facts
      FROM rel
      JOIN lv ON lv.case_id = rel.case_id
      JOIN cases c ON c.case_id = rel.case_id
     WHERE lv.related_level >= 1
     ORDER BY rel.person_ref, rel.case_id;
END
$$;

-- The review queue: both sides' facts from one ritra_case_levels call over
-- the page's cases (the own side is the agency's, so its level is 3).
CREATE OR REPLACE FUNCTION ritra_match_list(p_status text, p_case uuid, p_after_time timestamptz,
                                            p_after_id uuid, p_limit integer)
RETURNS TABLE (candidate_id uuid, status text, score real, match_class text, explanation text,
               caps integer, created_at timestamptz, decided_at timestamptz, decided_by text,
               decided_actor text, reason text,
               own_person uuid, own_identity uuid, own_role text, own_ref text, own_pb bytea,
               own_facts ritra_case_facts,
               other_person uuid, other_identity uuid, other_role text, other_ref text,
               other_pb bytea, other_facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH sides AS (
        SELECT c.*,
               CASE WHEN pa.owner_agency_id = ag THEN c.person_a ELSE c.person_b END AS own_id,
               CASE WHEN pa.owner_agency_id = ag THEN c.person_b ELSE c.person_a END AS other_id
          FROM match_candidates c
          JOIN match_persons pa ON pa.person_id = c.person_a
          JOIN match_persons pb ON pb.person_id = c.person_b
         WHERE (pa.owner_agency_id = ag OR pb.owner_agency_id = ag)
           AND (p_status = 'ALL' OR c.status = p_status)
           AND (p_case IS NULL OR pa.case_id = p_case OR pb.case_id = p_case)
           AND (p_after_time IS NULL OR (c.created_at, c.candidate_id) > (p_after_time, p_after_id))),
    pairs AS MATERIALIZED (
        SELECT s.*, mo.identity_id AS oi, mo.role AS orole, mo.person_pb AS opb, mo.case_id AS ocase,
               mx.identity_id AS xi, mx.role AS xrole, mx.person_pb AS xpb, mx.case_id AS xcase
          FROM sides s
          JOIN match_persons mo ON mo.person_id = s.own_id
          JOIN match_persons mx ON mx.person_id = s.other_id),
    lv AS MATERIALIZED (
        SELECT * FROM ritra_case_levels(
            (SELECT array_agg(DISTINCT x.c) FROM (SELECT pairs.ocase AS c FROM pairs
                                                  UNION SELECT pairs.xcase FROM pairs) x), ag))
    SELECT pr.candidate_id, pr.status, pr.score, pr.match_class, pr.explanation, pr.caps,
           pr.created_at, pr.decided_at,
           (SELECT a.code FROM agencies a WHERE a.agency_id = pr.decided_by),
           pr.decided_actor, pr.reason,
           pr.own_id, pr.oi, pr.orole, po.person_ref, pr.opb,
           ROW(lo.case_id, lo.owner_agency_id, lo.owner_code, lo.owner_name, lo.contact,
               lo.handling_code, lo.h3_allow_hits, lo.direct, lo.by_kind, lo.kind_default,
               lo.case_level)::ritra_case_facts,
           pr.other_id, pr.xi,
           CASE WHEN lx.related_level >= 2 THEN pr.xrole END,
           CASE WHEN lx.related_level >= 2 THEN px.person_ref END,
           CASE WHEN lx.related_level >= 2 THEN pr.xpb END,
           ROW(lx.case_id, lx.owner_agency_id, lx.owner_code, lx.owner_name, lx.contact,
               lx.handling_code, lx.h3_allow_hits, lx.direct, lx.by_kind, lx.kind_default,
               lx.related_level)::ritra_case_facts
      FROM pairs pr
      JOIN lv lo ON lo.case_id = pr.ocase
      JOIN lv lx ON lx.case_id = pr.xcase
      JOIN persons po ON po.person_id = pr.own_id
      JOIN persons px ON px.person_id = pr.other_id
     WHERE lx.related_level >= 1
     ORDER BY pr.created_at, pr.candidate_id
     LIMIT p_limit;
END
$$;

REVOKE ALL ON FUNCTION ritra_case_levels(uuid[], integer) FROM PUBLIC;
