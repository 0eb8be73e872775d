-- Directory, accounts and sessions. Ids are UUIDs stored as 16-byte blobs;
-- timestamps are RFC 3339 UTC text with whole seconds, always bound from Rust.

CREATE TABLE tenants (
    id BLOB PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Bumped by every change to who holds which rights, so cached rights know they are stale.
    directory_version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE structures (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    uai TEXT,
    commune TEXT NOT NULL,
    parent_id BLOB REFERENCES structures(id),
    circonscription_id BLOB REFERENCES structures(id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX structures_uai ON structures(uai) WHERE uai IS NOT NULL;
CREATE INDEX structures_tenant ON structures(tenant_id, name);
CREATE INDEX structures_parent ON structures(parent_id);

CREATE TABLE classes (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB NOT NULL REFERENCES structures(id),
    name TEXT NOT NULL,
    levels TEXT NOT NULL,
    school_year INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX classes_name ON classes(structure_id, school_year, name);

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB REFERENCES tenants(id),
    login TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    birth_date TEXT,
    state TEXT NOT NULL,
    password_hash TEXT,
    charter_accepted_at TEXT,
    is_operator BOOLEAN NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TEXT,
    last_login_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX users_tenant ON users(tenant_id, last_name, first_name);

CREATE TABLE user_profiles (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id BLOB NOT NULL REFERENCES structures(id),
    profile TEXT NOT NULL,
    PRIMARY KEY (user_id, structure_id, profile)
);
CREATE INDEX user_profiles_structure ON user_profiles(structure_id, profile);

CREATE TABLE user_functions (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id BLOB NOT NULL REFERENCES structures(id),
    function TEXT NOT NULL,
    PRIMARY KEY (user_id, structure_id, function)
);
CREATE INDEX user_functions_structure ON user_functions(structure_id, function);

CREATE TABLE class_members (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    class_id BLOB NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (class_id, user_id)
);
CREATE INDEX class_members_user ON class_members(user_id);

CREATE TABLE guardianships (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    guardian_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    legal_authority BOOLEAN NOT NULL,
    PRIMARY KEY (guardian_id, child_id)
);
CREATE INDEX guardianships_child ON guardianships(child_id);

CREATE TABLE admin_grants (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id BLOB REFERENCES structures(id),
    created_at TEXT NOT NULL
);
CREATE INDEX admin_grants_user ON admin_grants(user_id);

CREATE TABLE groups (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB NOT NULL REFERENCES structures(id),
    class_id BLOB REFERENCES classes(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    profile TEXT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX groups_structure ON groups(structure_id, kind);

CREATE TABLE group_members (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    group_id BLOB NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE activation_codes (
    code_hash BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX activation_codes_user ON activation_codes(user_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);

CREATE TABLE audit_log (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB REFERENCES tenants(id),
    actor_id BLOB,
    action TEXT NOT NULL,
    target_id BLOB,
    detail TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, at);
