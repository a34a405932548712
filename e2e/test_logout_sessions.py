"""POST /auth/logout, GET /auth/sessions, DELETE /auth/sessions/{id}
(API.md), the recent-authentication rule for ending other sessions, and the
per-user session cap."""
import uuid

import pytest

from authd_e2e import (Api, Session, age_session, assert_bearer_401, assert_json, assert_no_body,
                       assert_problem, assert_timestamp, assert_uuid7, describe, session_row)

REAUTH_MAX_AGE = 300


def login_as(api: Api, user, agent: str = "e2e-agent") -> Session:
    r = api.login(user.email, user.password, headers={"User-Agent": agent})
    assert r.status_code == 200, describe(r)
    return Session(user=user, body=r.json())


# --- logout ------------------------------------------------------------------------

def test_logout_ends_this_session_only(api, user):
    one, two = login_as(api, user), login_as(api, user)
    r = api.logout(one.access_token)
    assert_no_body(r, 204)
    assert_bearer_401(api.me(one.access_token))
    assert api.verify(one.access_token).status_code == 401
    assert_problem(api.refresh(one.refresh_token), 401, "invalid_token")
    assert api.me(two.access_token).status_code == 200
    assert api.refresh(two.refresh_token).status_code == 200


def test_logout_twice_is_401(api, session):
    assert api.logout(session.access_token).status_code == 204
    assert_bearer_401(api.logout(session.access_token))


def test_logout_all_false_is_one_session(api, user):
    one, two = login_as(api, user), login_as(api, user)
    assert_no_body(api.logout(one.access_token, {"all": False}), 204)
    assert api.me(one.access_token).status_code == 401
    assert api.me(two.access_token).status_code == 200


def test_logout_all_ends_every_session_of_the_user(api, user, make_user):
    sessions = [login_as(api, user) for _ in range(3)]
    stranger = make_user()
    theirs = login_as(api, stranger)
    assert_no_body(api.logout(sessions[0].access_token, {"all": True}), 204)
    for s in sessions:
        assert_bearer_401(api.me(s.access_token))
        assert_problem(api.refresh(s.refresh_token), 401, "invalid_token")
    assert api.me(theirs.access_token).status_code == 200, "another user's sessions stay"


def test_logout_all_needs_a_recent_login_and_refresh_does_not_count(api, user, db):
    old, other = login_as(api, user), login_as(api, user)
    age_session(db, old.claims["sid"], REAUTH_MAX_AGE + 5, "auth_time")
    # A refresh gives a new access token but keeps the old auth_time.
    r = api.refresh(old.refresh_token)
    assert r.status_code == 200, describe(r)
    refreshed = r.json()["access_token"]
    body = assert_problem(api.logout(refreshed, {"all": True}), 403, "reauthentication_required")
    assert "WWW-Authenticate" not in api.logout(refreshed, {"all": True}).headers
    assert body["detail"]
    assert api.me(other.access_token).status_code == 200, "nothing was ended"
    assert api.me(refreshed).status_code == 200
    # Its own session it may end without logging in again.
    assert_no_body(api.logout(refreshed), 204)
    # A fresh login may end them all.
    fresh = login_as(api, user)
    assert api.logout(fresh.access_token, {"all": True}).status_code == 204
    assert api.me(other.access_token).status_code == 401


def test_logout_without_a_token(api):
    assert_bearer_401(api.logout(None), sent=False)
    assert_bearer_401(api.logout(None, headers={"Authorization": "Basic dXNlcjpwYXNz"}),
                      sent=False)
    assert_bearer_401(api.logout("not-a-jwt"))


def test_logout_body_rules(api, session):
    # The body is judged before the token (API.md order), and like any body.
    assert_problem(api.logout(None, {"all": "yes"}), 400, "invalid_field", "all")
    assert_problem(api.logout(session.access_token, {"all": None}), 400, "invalid_field", "all")
    assert_problem(api.logout(session.access_token, ["all"]), 400, "invalid_json")
    r = api.post_raw("/auth/logout", b"{", headers={"Authorization": f"Bearer {session.access_token}"})
    assert_problem(r, 400, "invalid_json")
    r = api.post_raw("/auth/logout", b'{"all": true}', content_type="text/plain",
                     headers={"Authorization": f"Bearer {session.access_token}"})
    assert_problem(r, 415, "unsupported_media_type")
    # Unknown members are ignored; an empty object is one session.
    assert_no_body(api.logout(session.access_token, {"everything": True}), 204)


def test_logout_405_for_get(api):
    assert_problem(api.get("/auth/logout"), 405, "method_not_allowed")


# --- GET /auth/sessions --------------------------------------------------------------

def test_sessions_lists_the_live_sessions_with_their_fields(api, user, db, client_ip):
    a = login_as(api, user, "agent-A/1.0")
    b = login_as(api, user, "agent-B/2.0")
    ended = login_as(api, user, "agent-C")
    assert api.logout(ended.access_token).status_code == 204
    age_session(db, a.claims["sid"], 600, "last_used_at")  # a was used 10 min ago

    r = api.sessions(b.access_token)
    body = assert_json(r, 200)
    assert list(body) == ["sessions"], body
    listed = body["sessions"]
    assert [s["id"] for s in listed] == [b.claims["sid"], a.claims["sid"]], \
        "live sessions only, most recently used first"
    for s in listed:
        assert set(s) == {"id", "created_at", "last_used_at", "expires_at", "current",
                          "user_agent", "ip"}, s
        assert_uuid7(s["id"])
        for k in ("created_at", "last_used_at", "expires_at"):
            assert_timestamp(s[k])
        assert s["ip"] == client_ip
        assert s["last_used_at"] < s["expires_at"]
        assert s["created_at"] <= s["last_used_at"] or s["id"] == a.claims["sid"]
    first, second = listed
    assert first["current"] is True and second["current"] is False
    assert first["user_agent"] == "agent-B/2.0" and second["user_agent"] == "agent-A/1.0"
    # From the other session's token, the other one is current.
    again = assert_json(api.sessions(a.access_token), 200)["sessions"]
    assert [s["current"] for s in again] == [False, True]


def test_sessions_expires_at_is_the_idle_or_absolute_end_whichever_first(api, session, db):
    import datetime as dt
    listed = assert_json(api.sessions(session.access_token), 200)["sessions"]
    (s,) = listed
    parse = lambda t: dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert (parse(s["expires_at"]) - parse(s["last_used_at"])).total_seconds() == 14 * 86400
    from authd_e2e import set_session_time
    set_session_time(db, session.claims["sid"], "expires_at", 3600)
    (s,) = assert_json(api.sessions(session.access_token), 200)["sessions"]
    left = (parse(s["expires_at"]) - dt.datetime.utcnow()).total_seconds()
    assert 3590 <= left <= 3601, s


def test_sessions_are_per_user(api, session, make_user, make_session):
    other = make_session(make_user())
    listed = assert_json(api.sessions(other.access_token), 200)["sessions"]
    assert [s["id"] for s in listed] == [other.claims["sid"]]


def test_sessions_needs_a_live_token(api, session):
    assert_bearer_401(api.sessions(None), sent=False)
    assert_bearer_401(api.sessions("garbage"))
    assert api.logout(session.access_token).status_code == 204
    assert_bearer_401(api.sessions(session.access_token))


def test_sessions_methods(api, session):
    r = api.post_json("/auth/sessions", {}, headers={"Authorization": f"Bearer {session.access_token}"})
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("Allow", "")
    r = api.get(f"/auth/sessions/{session.claims['sid']}", token=session.access_token)
    assert_problem(r, 405, "method_not_allowed")
    assert "DELETE" in r.headers.get("Allow", "")


# --- DELETE /auth/sessions/{id} ------------------------------------------------------

def test_delete_ends_another_of_my_sessions(api, user):
    mine, other = login_as(api, user), login_as(api, user)
    assert_no_body(api.end_session(mine.access_token, other.claims["sid"]), 204)
    assert_bearer_401(api.me(other.access_token))
    assert_problem(api.refresh(other.refresh_token), 401, "invalid_token")
    assert api.me(mine.access_token).status_code == 200
    # Gone from the list; a second DELETE is 404.
    listed = assert_json(api.sessions(mine.access_token), 200)["sessions"]
    assert [s["id"] for s in listed] == [mine.claims["sid"]]
    assert_problem(api.end_session(mine.access_token, other.claims["sid"]), 404, "not_found")


def test_delete_my_current_session(api, session):
    assert_no_body(api.end_session(session.access_token, session.claims["sid"]), 204)
    assert_bearer_401(api.me(session.access_token))


@pytest.mark.parametrize("sid", [
    str(uuid.uuid4()), "not-a-uuid", "00000000-0000-0000-0000-000000000000",
    "0" * 36, "%2e%2e",
])
def test_delete_404_for_ids_that_are_not_my_sessions(api, session, sid):
    assert_problem(api.end_session(session.access_token, sid), 404, "not_found")
    assert api.me(session.access_token).status_code == 200


def test_delete_404_for_another_users_session_which_stays(api, session, make_user, make_session):
    theirs = make_session(make_user())
    assert_problem(api.end_session(session.access_token, theirs.claims["sid"]), 404, "not_found")
    assert api.me(theirs.access_token).status_code == 200


def test_delete_another_session_needs_a_recent_login_but_my_own_does_not(api, user, db):
    old, other = login_as(api, user), login_as(api, user)
    age_session(db, old.claims["sid"], REAUTH_MAX_AGE + 5, "auth_time")
    assert_problem(api.end_session(old.access_token, other.claims["sid"]), 403,
                   "reauthentication_required")
    assert api.me(other.access_token).status_code == 200
    assert_problem(api.end_session(old.access_token, str(uuid.uuid4())), 404, "not_found")
    assert_no_body(api.end_session(old.access_token, old.claims["sid"]), 204)


def test_delete_needs_a_live_token(api, session):
    assert_bearer_401(api.end_session(None, session.claims["sid"]), sent=False)
    assert_bearer_401(api.end_session("x.y.z", session.claims["sid"]))
    assert api.me(session.access_token).status_code == 200


# --- the cap -------------------------------------------------------------------------

def test_login_beyond_the_cap_ends_the_least_recently_used(api, user, db):
    """MAX_SESSIONS_PER_USER (50): the 51st login ends the least recently
    used session; by last_used_at, ties by creation order."""
    first = login_as(api, user)
    second = login_as(api, user)
    # The first one is used (refreshed) again, so the second is now the
    # least recently used.
    age_session(db, second.claims["sid"], 60, "last_used_at", "created_at")
    age_session(db, first.claims["sid"], 120, "last_used_at", "created_at")
    r = api.refresh(first.refresh_token)
    assert r.status_code == 200
    first_refreshed = r.json()["access_token"]
    rest = [login_as(api, user) for _ in range(48)]  # 50 live now
    assert api.me(second.access_token).status_code == 200
    newest = login_as(api, user)  # the 51st
    assert_bearer_401(api.me(second.access_token))
    assert session_row(db, second.claims["sid"])["revoked_at"] is not None
    assert api.me(first_refreshed).status_code == 200
    assert api.me(newest.access_token).status_code == 200
    listed = assert_json(api.sessions(newest.access_token), 200)["sessions"]
    assert len(listed) == 50
    assert all(api.me(s.access_token).status_code == 200 for s in rest[:3])
