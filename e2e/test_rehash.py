"""Re-hash on login when the configured Argon2id cost differs from the
stored one (DESIGN.md): the main pool hashes with a lowered cost, the
second pool (E2E_ES256_URL) with the default; both share one database."""
from authd_e2e import decode_jwt, describe


def stored_hash(db, email: str) -> tuple[str, object]:
    with db.cursor() as c:
        c.execute("SELECT password_hash, password_changed_at FROM users WHERE email = %s",
                  (email.encode(),))
        h, changed = c.fetchone()
    db.commit()
    return bytes(h).decode(), changed


def test_login_under_another_cost_upgrades_the_hash_and_keeps_the_password(
        api, es256_api, user, db):
    before, changed_before = stored_hash(db, user.email)
    assert before.startswith("$argon2id$") and "m=19456," not in before, before
    r = es256_api.login(user.email, user.password)
    assert r.status_code == 200, describe(r)
    after, changed_after = stored_hash(db, user.email)
    assert "m=19456,t=2," in after, after
    assert changed_after == changed_before, "a re-hash is not a password change"
    # Same password, every session alive, on both pools.
    assert api.login(user.email, user.password).status_code == 200
    assert es256_api.me(r.json()["access_token"]).status_code == 200
    assert decode_jwt(r.json()["access_token"])[0]["alg"] == "ES256"
