-- The server's role asks about the acting agency only.
--
-- Until now ritra_app could execute ritra_case_level(case, agency),
-- ritra_level_inputs(case, agency) and ritra_case_owner(case): the row
-- policies call them, and policies run with the querying role's rights.
-- So a wrong query in a handler could learn any agency's level on any
-- case, a case's grants-derived facts or its owner, for an agency it does
-- not act for: no content, but more than the acting agency may know. And
-- ritra_feed_touch(agency, case) let it write any agency's sync feed (an
-- extra change entry, no content: the reader's level decides what a pull
-- returns), where ritra_submit_case, which runs as ritra_app under row
-- security, needs only the acting agency's own. ritra_onward_parent(case,
-- agency), only ever called by ritra_share_case, named any agency's grant.
--
-- Now the policies and the list query call one-argument forms bound to
-- ritra_current_agency() (set by ritra_act_as for each transaction), and
-- the two-argument forms are reserved to the functions that run as the
-- schema owner. PL/pgSQL so that each call's statement is planned once
-- per session, not at every call (see 0016).

CREATE FUNCTION ritra_my_case_level(p_case uuid) RETURNS smallint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN ritra_case_level(p_case, ritra_current_agency());
END
$$;

-- The facts only for a case the acting agency sees at HIT or above (the
-- server re-decides the level of every listed row from them); nothing,
-- not even the owner, for one it does not see.
CREATE FUNCTION ritra_my_level_inputs(p_case uuid,
    OUT owner_agency_id integer, OUT handling_code text, OUT h3_allow_hits boolean,
    OUT direct smallint, OUT by_kind smallint, OUT kind_default smallint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1 SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM ritra_level_inputs(p_case, ritra_current_agency())
                  WHERE ritra_case_level(p_case, ritra_current_agency()) >= 1;
END
$$;

-- True when the acting agency owns the case; never says who else does.
CREATE FUNCTION ritra_owns_case(p_case uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM cases c
                    WHERE c.case_id = p_case AND c.owner_agency_id = ritra_current_agency());
END
$$;

DROP POLICY cases_read ON cases;
CREATE POLICY cases_read ON cases FOR SELECT
    USING (owner_agency_id = ritra_current_agency() OR ritra_my_case_level(case_id) >= 2);

DROP POLICY case_records_read ON case_records;
DROP POLICY case_records_write ON case_records;
CREATE POLICY case_records_read ON case_records FOR SELECT
    USING (owner_agency_id = ritra_current_agency()
           OR (variant = 'shareable' AND ritra_my_case_level(case_id) = 3)
           OR (variant = 'restricted' AND ritra_my_case_level(case_id) >= 2));
CREATE POLICY case_records_write ON case_records FOR INSERT
    WITH CHECK (owner_agency_id = ritra_current_agency() AND ritra_owns_case(case_id));

DROP POLICY grants_parties ON grants;
CREATE POLICY grants_parties ON grants FOR SELECT
    USING (grantor_agency_id = ritra_current_agency()
           OR grantee_agency_id = ritra_current_agency()
           OR grantee_kind = (SELECT kind FROM agencies WHERE agency_id = ritra_current_agency())
           OR ritra_owns_case(case_id));

-- The feed: the unchecked writer keeps its body under a new name, for the
-- SECURITY DEFINER functions that tell other agencies (audience, grantees);
-- the name ritra_submit_case calls now writes the acting agency's feed only.
ALTER FUNCTION ritra_feed_touch(integer, uuid) RENAME TO ritra_feed_touch_any;

CREATE FUNCTION ritra_feed_touch(p_agency integer, p_case uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_agency IS NULL OR p_agency IS DISTINCT FROM ritra_current_agency() THEN
        RAISE EXCEPTION 'feed of agency % in a transaction of agency %',
            p_agency, ritra_current_agency() USING ERRCODE = '42501';
    END IF;
    PERFORM ritra_feed_touch_any(p_agency, p_case);
END
$$;

CREATE OR REPLACE FUNCTION ritra_feed_touch_audience(p_case uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_feed_touch_any(a, p_case) FROM ritra_case_audience(p_case) AS a;
END
$$;

CREATE OR REPLACE FUNCTION ritra_feed_touch_grantees(p_grant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_feed_touch_any(a.agency_id, g.case_id)
       FROM grants g JOIN agencies a
         ON a.agency_id = g.grantee_agency_id OR a.kind = g.grantee_kind
      WHERE g.grant_id = p_grant;
END
$$;

REVOKE ALL ON FUNCTION ritra_my_case_level(uuid), ritra_my_level_inputs(uuid),
    ritra_owns_case(uuid), ritra_feed_touch(integer, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_my_case_level(uuid), ritra_my_level_inputs(uuid),
    ritra_owns_case(uuid), ritra_feed_touch(integer, uuid) TO ritra_app;
REVOKE EXECUTE ON FUNCTION ritra_case_level(uuid, integer), ritra_level_inputs(uuid, integer),
    ritra_case_owner(uuid), ritra_feed_touch_any(integer, uuid), ritra_onward_parent(uuid, integer)
    FROM ritra_app, PUBLIC;
