-- Every sign-in session carries its user's session generation, checked on each request; raising it
-- (sign-out, password change or reset, deactivation) ends all of that user's sessions at once.
-- It only grows, so it is read with max() over the versions: a concurrent edit written from an
-- older read cannot bring ended sessions back.
ALTER TABLE users $ON_CLUSTER ADD COLUMN session_generation UInt32 DEFAULT 0;
