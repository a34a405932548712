"""Concurrent password changes and logins on one account. In each round
four changes race from the same current password to four new ones while
logins with the current password run beside them: exactly one change wins,
the losers are refused (401), the winner's password is the one that logs
in afterwards, and every session opened before the change is ended."""
import asyncio

import load
from invariants import summarise

ROUNDS = 25
CHANGERS = 4
LOGINS = 4


async def until_answered(make):
    """Retries nginx's shedding (503 + Retry-After), as a client would."""
    while True:
        r = await make()
        if r.status != 503:
            return r
        await asyncio.sleep(0.05)


def test_concurrent_password_changes_and_logins(stack):
    port = stack.http_port
    email = f"race-{load.secrets.token_hex(6)}@example.com"
    current = load.strong_password()

    async def scenario():
        nonlocal current
        r = await load.request(port, "POST", "/auth/register",
                               {"email": email, "password": current}, kind="register")
        assert r.status == 201, r.body
        everything = []
        for _ in range(ROUNDS):
            old = await until_answered(lambda: load.request(
                port, "POST", "/auth/login", {"email": email, "password": current},
                kind="login-before"))
            assert old.status == 200, old.body
            token = old.json()["access_token"]
            news = [load.strong_password() for _ in range(CHANGERS)]
            changes = [until_answered(lambda n=n: load.request(
                port, "POST", "/auth/password",
                {"email": email, "current_password": current, "new_password": n},
                kind="change")) for n in news]
            logins = [until_answered(lambda: load.request(
                port, "POST", "/auth/login", {"email": email, "password": current},
                kind="login")) for _ in range(LOGINS)]
            answers = await asyncio.gather(*changes, *logins)
            everything += [old, *answers]
            won = [n for n, a in zip(news, answers[:CHANGERS]) if a.status == 200]
            assert len(won) == 1, f"{len(won)} changes won a round: {[a.status for a in answers]}"
            assert {a.status for a in answers[:CHANGERS]} <= {200, 401}
            assert {a.status for a in answers[CHANGERS:]} <= {200, 401}
            previous, current = current, won[0]
            after_new = await until_answered(lambda: load.request(
                port, "POST", "/auth/login", {"email": email, "password": current}, kind="check"))
            after_old = await until_answered(lambda: load.request(
                port, "POST", "/auth/login", {"email": email, "password": previous},
                kind="check"))
            me = await until_answered(lambda: load.request(
                port, "GET", "/auth/me", headers={"Authorization": f"Bearer {token}"},
                kind="check"))
            everything += [after_new, after_old, me]
            assert after_new.status == 200, "the winner's password does not log in"
            assert after_old.status == 401, "the replaced password still logs in"
            assert me.status == 401, "a session from before the change survived it"
        return everything

    results = asyncio.run(scenario())
    changes = [r for r in results if r.kind == "change"]
    summarise("password race", results,
              f"{ROUNDS} rounds x {CHANGERS} concurrent changes + {LOGINS} logins: changes "
              f"{load.status_counts(changes)} (exactly one 200 a round)")
    assert sum(1 for r in changes if r.status == 200) == ROUNDS
