"""Concurrent registrations of one email: exactly one account.

A burst of 16 on a pool of 2 workers is more than it serves at once, but an
ordinary burst: it waits in the listen queue (admission is by waiting time,
README "Reliability") and every request gets its real answer on the first
try: 201 once and 409 otherwise, never a 503.
"""
import threading

from authd_e2e import Api, assert_problem, strong_password, unique_email

N = 16


def test_concurrent_registrations_of_one_email(api):
    email = unique_email("race")
    barrier = threading.Barrier(N)
    results = [None] * N
    passwords = [strong_password() for _ in range(N)]

    def one(i):
        a = Api()
        try:
            barrier.wait(timeout=30)
            results[i] = a.register(email, passwords[i])
        finally:
            a.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in results), "some registrations got no answer"
    codes = sorted(r.status_code for r in results)
    print(f"16 concurrent registrations, released at once: statuses {codes}")
    assert codes.count(201) == 1, f"status codes: {codes}"
    assert codes.count(409) == N - 1, f"status codes: {codes}"
    for r in results:
        if r.status_code == 409:
            assert_problem(r, 409, "email_taken")
    # The one account is the winner's: its password logs in, a loser's does not.
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    loser = (winner + 1) % N
    assert results[winner].json()["email"] == email
    assert api.login(email, passwords[winner]).status_code == 200
    assert_problem(api.login(email, passwords[loser]), 401, "invalid_credentials")
