-- The agency registry: who may connect, and with which certificates.
--
-- Roles: migrations run as the database owner. The server runs as
-- ritra_app, which holds only the privileges granted here and in later
-- migrations (no BYPASSRLS, no DDL, no ownership).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ritra_app') THEN
        CREATE ROLE ritra_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

CREATE TYPE agency_kind AS ENUM (
    'prosecutor', 'police', 'migration', 'victim_services', 'auditor', 'coordinator'
);

CREATE TABLE agencies (
    agency_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z0-9_]{1,31}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        agency_kind NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A certificate is pinned by the SHA-256 of its DER encoding. An agency may
-- hold several (rotation); each carries the validity it was registered with
-- so that an expired or withdrawn pin is refused even if the CA still
-- vouches for the certificate.
CREATE TABLE agency_certs (
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    agency_id   integer NOT NULL REFERENCES agencies (agency_id),
    subject     text NOT NULL CHECK (length(subject) <= 1024),
    not_before  timestamptz NOT NULL,
    not_after   timestamptz NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (not_before < not_after)
);

CREATE INDEX agency_certs_agency_idx ON agency_certs (agency_id);

GRANT USAGE ON SCHEMA public TO ritra_app;
GRANT SELECT ON agencies, agency_certs TO ritra_app;
