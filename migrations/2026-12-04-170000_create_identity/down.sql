DROP TABLE rate_limits;
DROP TABLE sessions;
DROP TABLE webauthn_ceremonies;
DROP TABLE invitations;
DROP TRIGGER passkeys_sign_count_never_decreases ON passkeys;
DROP FUNCTION passkeys_keep_sign_count();
DROP TABLE passkeys;
DROP TABLE role_assignments;
DROP TABLE users;
