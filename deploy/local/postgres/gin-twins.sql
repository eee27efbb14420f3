-- GIN twins for FerretDB's indexes: a property of the local store only (see "The local store"
-- in README.md). Production runs MongoDB and knows nothing of this.
--
-- FerretDB v1 (postgresql handler) keeps each MongoDB database as a PostgreSQL schema holding a
-- `_ferretdb_database_metadata` table, and each collection as a table of that schema with one
-- `_jsonb` column. It makes each MongoDB index a btree on expressions `((_jsonb -> 'field'))`,
-- but pushes an equality filter down as `(_jsonb -> 'field') @> value`, which a btree cannot
-- serve: every lookup, `_id` included, would be a Seq Scan. The event triggers below give every
-- such btree index a GIN "twin" on the same expressions (jsonb_path_ops serves `@>`, and is
-- smaller and faster than the default jsonb_ops), named like the index with `_gin` instead of
-- FerretDB's `_idx` suffix, and drop the twin with its index. A unique index keeps its btree
-- (uniqueness); the twin only serves lookups. GIN takes no ASC/DESC: only the expression is
-- twinned.
--
-- `scripts/stack.sh start` runs this file in the `ferretdb` database before FerretDB starts, on
-- every start: it is idempotent, and twins the indexes that already exist.

SET client_min_messages = warning;

-- The twin's name: FerretDB's `<table>_<index>_<hash>_idx` becomes `<table>_<index>_<hash>_gin`
-- (same length, so within PostgreSQL's 63 bytes); any other name gets `_gin` appended.
CREATE OR REPLACE FUNCTION public.fazhi_gin_twin_name(index_name name) RETURNS name
LANGUAGE sql IMMUTABLE AS $$
    SELECT (CASE WHEN index_name LIKE '%\_idx' THEN left(index_name, -4)
                 ELSE left(index_name, 59) END || '_gin')::name
$$;

-- fazhi_gin_twin(index): create the GIN twin of one btree index of a FerretDB collection if it
-- has none yet; returns the twin's name, or NULL when the index is not one to twin.
CREATE OR REPLACE FUNCTION public.fazhi_gin_twin(index_oid oid) RETURNS name
LANGUAGE plpgsql AS $$
DECLARE
    ix record;
    field text[];
    elements text[] := '{}';
    twin name;
BEGIN
    SELECT i.indnkeyatts, i.indkey, i.indpred IS NOT NULL AS partial, am.amname,
           ic.relname AS index_name, t.relname AS table_name, n.nspname AS schema_name
      INTO ix
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE i.indexrelid = index_oid;
    -- Only btree indexes (this also keeps the twins themselves, GIN, from being twinned) on a
    -- collection's table: in a schema holding FerretDB's metadata table, and not that table.
    IF NOT FOUND OR ix.amname <> 'btree' OR ix.partial
       OR ix.table_name LIKE '\_ferretdb\_%'
       OR to_regclass(format('%I.%I', ix.schema_name, '_ferretdb_database_metadata')) IS NULL THEN
        RETURN NULL;
    END IF;
    FOR k IN 1..ix.indnkeyatts LOOP
        CONTINUE WHEN ix.indkey[k - 1] <> 0; -- a plain column, not an expression
        -- `((_jsonb -> 'field'::text))`; top-level fields only, as FerretDB does not push dotted
        -- paths down (unless told to)
        field := regexp_match(pg_get_indexdef(index_oid, k, false),
                              '^\(+_jsonb -> ''((?:[^'']|'''')+)''::text\)+$');
        IF field IS NOT NULL THEN
            elements := elements || format('(_jsonb -> %L) jsonb_path_ops',
                                           replace(field[1], '''''', ''''));
        END IF;
    END LOOP;
    IF cardinality(elements) = 0 THEN
        RETURN NULL;
    END IF;
    twin := public.fazhi_gin_twin_name(ix.index_name);
    -- recursion guard: the CREATE INDEX below fires the ddl_command_end trigger again
    PERFORM set_config('fazhi.gin_twin_busy', 'on', true);
    -- fastupdate off: no pending list that every lookup scans until (auto)vacuum merges it, so a
    -- collection is served at steady-state speed right after a bulk load (writes measured no
    -- slower)
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s) WITH (fastupdate = off)',
                   twin, ix.schema_name, ix.table_name, array_to_string(elements, ', '));
    PERFORM set_config('fazhi.gin_twin_busy', 'off', true);
    RETURN twin;
END
$$;

CREATE OR REPLACE FUNCTION public.fazhi_gin_twins_on_create() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    cmd record;
BEGIN
    IF current_setting('fazhi.gin_twin_busy', true) = 'on' THEN
        RETURN;
    END IF;
    FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands()
                WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
        PERFORM public.fazhi_gin_twin(cmd.objid);
    END LOOP;
END
$$;

-- A twin goes with its index (FerretDB's dropIndexes), so that an index created again under
-- the same name on other fields gets a twin on those. Dropping a table drops its twins anyway.
CREATE OR REPLACE FUNCTION public.fazhi_gin_twins_on_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
    twin name;
BEGIN
    FOR obj IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
                WHERE object_type = 'index' AND original AND object_name NOT LIKE '%\_gin' LOOP
        twin := public.fazhi_gin_twin_name(obj.object_name);
        IF to_regclass(format('%I.%I', obj.schema_name, twin)) IS NOT NULL THEN
            EXECUTE format('DROP INDEX %I.%I', obj.schema_name, twin);
        END IF;
    END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS fazhi_gin_twins_on_create;
CREATE EVENT TRIGGER fazhi_gin_twins_on_create ON ddl_command_end
    WHEN TAG IN ('CREATE INDEX')
    EXECUTE FUNCTION public.fazhi_gin_twins_on_create();

DROP EVENT TRIGGER IF EXISTS fazhi_gin_twins_on_drop;
CREATE EVENT TRIGGER fazhi_gin_twins_on_drop ON sql_drop
    WHEN TAG IN ('DROP INDEX')
    EXECUTE FUNCTION public.fazhi_gin_twins_on_drop();

-- Twin what exists already (a cluster from before this file, or a twin dropped by hand), then
-- give the planner statistics on the new twins' expressions.
DO $$
DECLARE
    ix record;
    twinned regclass[] := '{}';
BEGIN
    FOR ix IN SELECT i.indexrelid, i.indrelid
                FROM pg_index i
                JOIN pg_class ic ON ic.oid = i.indexrelid
                JOIN pg_namespace n ON n.oid = ic.relnamespace
               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                 AND to_regclass(format('%I.%I', n.nspname,
                                        public.fazhi_gin_twin_name(ic.relname))) IS NULL LOOP
        IF public.fazhi_gin_twin(ix.indexrelid) IS NOT NULL THEN
            twinned := twinned || ix.indrelid::regclass;
        END IF;
    END LOOP;
    FOR ix IN SELECT DISTINCT t FROM unnest(twinned) t LOOP
        EXECUTE format('ANALYZE %s', ix.t);
    END LOOP;
END
$$;
