-- Registry schema. Timestamps are ISO-8601 UTC strings; digests are lowercase sha256 hex.

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,                 -- public identifier, also the key's visible prefix
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('admin', 'publisher', 'client')),
  key_hash TEXT NOT NULL UNIQUE,       -- sha256 of the full key; the plaintext is never stored
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at TEXT,
  -- Per-key token bucket for client routes; NULL means the RATE_LIMIT_* defaults.
  rate_per_sec REAL,
  rate_burst INTEGER
);

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);

-- A version is immutable once written; only the reference telemetry profile slot may be filled, once.
CREATE TABLE versions (
  model_id INTEGER NOT NULL REFERENCES models(id),
  number INTEGER NOT NULL CHECK (number > 0),
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('tessera', 'onnx')),
  signature TEXT NOT NULL,
  key_id TEXT NOT NULL,
  metadata TEXT NOT NULL,              -- JSON: framework, inputs, outputs, recipe, metrics, tags
  parent_number INTEGER,
  training_data_digest TEXT,
  produced_by TEXT,                    -- JSON: {"kind":"federated","round":...} or {"kind":"tool",...}
  reference_profile TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (model_id, number),
  -- One winner when two publishers race with the same artifact.
  UNIQUE (model_id, digest),
  FOREIGN KEY (model_id, parent_number) REFERENCES versions(model_id, number)
);

CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
WHEN NEW.digest IS NOT OLD.digest OR NEW.size IS NOT OLD.size OR NEW.format IS NOT OLD.format
  OR NEW.signature IS NOT OLD.signature OR NEW.metadata IS NOT OLD.metadata
  OR NEW.number IS NOT OLD.number OR NEW.model_id IS NOT OLD.model_id
  OR NEW.parent_number IS NOT OLD.parent_number
  OR (OLD.reference_profile IS NOT NULL AND NEW.reference_profile IS NOT OLD.reference_profile)
BEGIN
  SELECT RAISE(ABORT, 'versions are immutable');
END;

CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
BEGIN
  SELECT RAISE(ABORT, 'versions are immutable');
END;

CREATE TABLE approvals (
  model_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  stage TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  approved_at TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model_id, number, stage),
  FOREIGN KEY (model_id, number) REFERENCES versions(model_id, number)
);

-- `revision` is the compare-and-swap token: every change bumps it, and a write only applies if
-- the revision it read is still current, so racing promotions end with one winner.
CREATE TABLE aliases (
  model_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  number INTEGER NOT NULL,
  previous_number INTEGER,
  revision INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (model_id, name),
  FOREIGN KEY (model_id, number) REFERENCES versions(model_id, number)
);

-- Weighted channel config; absent means "everyone gets the production alias".
CREATE TABLE rollouts (
  model_id INTEGER PRIMARY KEY REFERENCES models(id),
  config TEXT NOT NULL,                -- JSON: {"weights":[{"version":3,"weight":95},...],"shadow":[5]}
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,                 -- api key id
  action TEXT NOT NULL,
  model TEXT,
  version INTEGER,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_model ON audit_log(model, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only');
END;
