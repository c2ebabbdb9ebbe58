-- Roles are cluster-wide, so they are made before the per-database
-- migrations (and not recorded in schema_migrations). Several databases or
-- migrators may race to create them: "already exists" is success.
-- `lekhika migrate` runs this first; to apply the files by hand:
--   psql "$ADMIN_URL" -f 0000_roles.sql -f 0001_schema.sql -f 0002_security.sql ...
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lekhika_app') THEN
        CREATE ROLE lekhika_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lekhika_queue') THEN
        CREATE ROLE lekhika_queue NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
