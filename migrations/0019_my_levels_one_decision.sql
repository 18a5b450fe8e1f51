-- The acting agency's level and facts (0017) from ritra_case_levels, the
-- set-based decision every other reader uses (0013, 0016).
--
-- 0017 wrote them over the per-case functions: ritra_my_level_inputs ran
-- ritra_level_inputs twice (once for its rows, once more inside
-- ritra_case_level for the filter), and both went through LANGUAGE sql
-- SECURITY DEFINER functions, which PostgreSQL plans again at every call.
-- ritra_case_levels decides the level from the facts it returns, in one
-- statement whose plan PL/pgSQL keeps per session. Same rules, same
-- results: no row (NULL) for a case that does not exist or with no agency
-- set, where ritra_case_level gave NULL or 0, which the policies treat
-- alike.

CREATE OR REPLACE FUNCTION ritra_my_case_level(p_case uuid) RETURNS smallint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    lv smallint;
BEGIN
    SELECT l.case_level INTO lv
      FROM ritra_case_levels(ARRAY[p_case], ritra_current_agency()) l;
    RETURN lv;
END
$$;

CREATE OR REPLACE FUNCTION ritra_my_level_inputs(p_case uuid,
    OUT owner_agency_id integer, OUT handling_code text, OUT h3_allow_hits boolean,
    OUT direct smallint, OUT by_kind smallint, OUT kind_default smallint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1 SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT l.owner_agency_id, l.handling_code, l.h3_allow_hits, l.direct, l.by_kind,
           l.kind_default
      FROM ritra_case_levels(ARRAY[p_case], ritra_current_agency()) l
     WHERE l.case_level >= 1;
END
$$;
