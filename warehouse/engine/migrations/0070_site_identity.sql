-- Identity verification. `server_key` (sk_…) authenticates server-side libraries, whose events are
-- trusted; `identity_secret` (is_…) is what a store's server signs its user ids with (the userHash
-- the tracker passes along); `trust_unsigned` = 1 takes browser identifies on trust, as before this
-- existed. Sites created earlier have neither key until an admin creates them on the settings page.
ALTER TABLE sites $ON_CLUSTER
    ADD COLUMN server_key String DEFAULT '',
    ADD COLUMN identity_secret String DEFAULT '',
    ADD COLUMN trust_unsigned UInt8 DEFAULT 0;
