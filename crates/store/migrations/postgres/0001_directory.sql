-- Directory, accounts and sessions. Ids are native UUIDs;
-- timestamps are TIMESTAMPTZ with whole seconds, always bound from Rust.

CREATE TABLE tenants (
    id UUID PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Bumped by every change to who holds which rights, so cached rights know they are stale.
    directory_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE structures (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    uai TEXT,
    commune TEXT NOT NULL,
    parent_id UUID REFERENCES structures(id),
    circonscription_id UUID REFERENCES structures(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX structures_uai ON structures(uai) WHERE uai IS NOT NULL;
CREATE INDEX structures_tenant ON structures(tenant_id, name);
CREATE INDEX structures_parent ON structures(parent_id);

CREATE TABLE classes (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    structure_id UUID NOT NULL REFERENCES structures(id),
    name TEXT NOT NULL,
    levels TEXT NOT NULL,
    school_year BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX classes_name ON classes(structure_id, school_year, name);

CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID REFERENCES tenants(id),
    login TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    birth_date TEXT,
    state TEXT NOT NULL,
    password_hash TEXT,
    charter_accepted_at TIMESTAMPTZ,
    is_operator BOOLEAN NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_tenant ON users(tenant_id, last_name, first_name);

CREATE TABLE user_profiles (
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id UUID NOT NULL REFERENCES structures(id),
    profile TEXT NOT NULL,
    PRIMARY KEY (user_id, structure_id, profile)
);
CREATE INDEX user_profiles_structure ON user_profiles(structure_id, profile);

CREATE TABLE user_functions (
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id UUID NOT NULL REFERENCES structures(id),
    function TEXT NOT NULL,
    PRIMARY KEY (user_id, structure_id, function)
);
CREATE INDEX user_functions_structure ON user_functions(structure_id, function);

CREATE TABLE class_members (
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    class_id UUID NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (class_id, user_id)
);
CREATE INDEX class_members_user ON class_members(user_id);

CREATE TABLE guardianships (
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    guardian_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    legal_authority BOOLEAN NOT NULL,
    PRIMARY KEY (guardian_id, child_id)
);
CREATE INDEX guardianships_child ON guardianships(child_id);

CREATE TABLE admin_grants (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id UUID REFERENCES structures(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX admin_grants_user ON admin_grants(user_id);

CREATE TABLE groups (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    structure_id UUID NOT NULL REFERENCES structures(id),
    class_id UUID REFERENCES classes(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    profile TEXT,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX groups_structure ON groups(structure_id, kind);

CREATE TABLE group_members (
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    group_id UUID NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE activation_codes (
    code_hash BYTEA PRIMARY KEY NOT NULL,
    tenant_id UUID REFERENCES tenants(id),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX activation_codes_user ON activation_codes(user_id);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE password_resets (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);

CREATE TABLE audit_log (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID REFERENCES tenants(id),
    actor_id UUID,
    action TEXT NOT NULL,
    target_id UUID,
    detail TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, at);
