-- saeboard 0007: API keys. Only the SHA-256 of a token is stored: the token itself (sbk_ + 43
-- base64url characters, 256 random bits) is shown once by `saeboard apikey create` and never again.
-- Revoking keeps the row (revoked_at) so lists and logs can still name the key.
CREATE TABLE api_keys (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$'),
  token_prefix  text NOT NULL,                 -- first characters of the token, to recognise it
  token_sha256  text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- One live key per name (a revoked name can be reused).
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL;
