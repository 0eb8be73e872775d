-- Directory provisioning: stable keys of imported people, structures and classes, the
-- source of every attachment (an import only removes rows of its own source), the account
-- lifecycle after a person leaves, and import runs with their reports.

-- The school year imports and new classes belong to, set by the year rollover (none yet:
-- the year of the calendar).
ALTER TABLE tenants ADD COLUMN school_year INTEGER;

ALTER TABLE users ADD COLUMN ine TEXT;
ALTER TABLE users ADD COLUMN aaf_id TEXT;
ALTER TABLE users ADD COLUMN mobile TEXT;
-- Set when an import leaves the account with no structure; cleared when it comes back.
ALTER TABLE users ADD COLUMN detached_at TEXT;
-- Set when the lifecycle (not an administrator) disabled the account.
ALTER TABLE users ADD COLUMN lifecycle_disabled_at TEXT;
-- The school a detached person left: its directeur is told before the account is deleted.
ALTER TABLE users ADD COLUMN left_structure_id BLOB REFERENCES structures(id) ON DELETE SET NULL;
-- When the directeur was told of the coming deletion (deletion waits for the notice).
ALTER TABLE users ADD COLUMN deletion_notice_at TEXT;
CREATE UNIQUE INDEX users_ine ON users(tenant_id, ine) WHERE ine IS NOT NULL;
CREATE UNIQUE INDEX users_aaf ON users(tenant_id, aaf_id) WHERE aaf_id IS NOT NULL;
CREATE INDEX users_detached ON users(detached_at) WHERE detached_at IS NOT NULL;

ALTER TABLE structures ADD COLUMN aaf_id TEXT;
ALTER TABLE classes ADD COLUMN external_id TEXT;
ALTER TABLE classes ADD COLUMN archived_at TEXT;
CREATE INDEX classes_external ON classes(structure_id, school_year, external_id);

ALTER TABLE user_profiles ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE user_functions ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE class_members ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE guardianships ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
CREATE INDEX user_profiles_tenant ON user_profiles(tenant_id);

CREATE TABLE import_runs (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB REFERENCES structures(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    skip_rejected BOOLEAN NOT NULL,
    files_dir TEXT NOT NULL,
    created_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    progress BIGINT NOT NULL,
    total BIGINT NOT NULL,
    report TEXT,
    error TEXT
);
CREATE INDEX import_runs_tenant ON import_runs(tenant_id, created_at);
-- One run at a time per structure (or per tenant for AAF runs, structure NULL).
CREATE UNIQUE INDEX import_runs_active ON import_runs(tenant_id, kind, COALESCE(structure_id, tenant_id))
    WHERE state IN ('queued', 'running');
