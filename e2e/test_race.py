"""Concurrent registrations of one email: exactly one account.

A burst of 16 on a small pool is beyond what it serves at once, and the pool
sheds the excess with `503` + `Retry-After` rather than queueing it (the
overload contract). A client that honours Retry-After gets a real answer on
a later try: the race is about what those answers are, so 503s are retried
(and counted), and every final answer must be 201 once and 409 otherwise.
"""
import threading
import time

from authd_e2e import Api, assert_problem, strong_password, unique_email

N = 16


def test_concurrent_registrations_of_one_email(api):
    email = unique_email("race")
    barrier = threading.Barrier(N)
    results = [None] * N
    passwords = [strong_password() for _ in range(N)]

    shed = [0] * N

    def one(i):
        a = Api()
        try:
            barrier.wait(timeout=30)
            deadline = time.monotonic() + 60
            while True:
                r = a.register(email, passwords[i])
                if r.status_code != 503 or time.monotonic() > deadline:
                    break
                assert_problem(r, 503, "unavailable")
                shed[i] += 1
                time.sleep(min(float(r.headers.get("Retry-After", "1")), 1.0))
            results[i] = r
        finally:
            a.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in results), "some registrations got no answer"
    codes = sorted(r.status_code for r in results)
    print(f"16 concurrent registrations: final statuses {codes}, {sum(shed)} shed with 503 first")
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
