#pragma once
// In-memory fakes of the ports, for unit tests of pure logic (the service,
// the HTTP layer). The real stores are tested against MariaDB in tests/store.
#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "ports/clock.h"
#include "ports/password_hasher.h"
#include "ports/random.h"
#include "ports/session_store.h"
#include "ports/store_errors.h"
#include "ports/transaction.h"
#include "ports/user_store.h"

namespace authd::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_s = 1'800'000'000) : ms_(start_s * 1000) {}
  std::int64_t now_ms() const override { return ms_; }
  void advance(std::int64_t seconds) { ms_ += seconds * 1000; }

 private:
  std::int64_t ms_;
};

// Deterministic bytes (a counter through a simple mix), so tests repeat.
class SeededRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) {
      state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      b = static_cast<std::uint8_t>(state_ >> 56);
    }
  }

 private:
  std::uint64_t state_ = 42;
};

// "h<cost>:<password>": cheap, and needs_rehash sees the cost.
class FakeHasher final : public PasswordHasher {
 public:
  std::string hash(std::string_view password) override {
    ++hashes;
    return "h" + std::to_string(cost) + ":" + std::string(password);
  }
  bool verify(std::string_view stored, std::string_view password) override {
    ++verifies;
    auto colon = stored.find(':');
    return colon != std::string_view::npos && stored.substr(colon + 1) == password;
  }
  bool needs_rehash(std::string_view stored) override {
    return stored.substr(0, stored.find(':')) != "h" + std::to_string(cost);
  }
  int cost = 1;
  int hashes = 0;
  int verifies = 0;
};

class InMemoryUserStore final : public UserStore {
 public:
  InsertResult insert(const User& user) override {
    check();
    for (const auto& [id, u] : users)
      if (u.email == user.email) return InsertResult::email_taken;
    users[user.id] = user;
    return InsertResult::inserted;
  }
  std::optional<User> find_by_email(std::string_view email) override {
    check();
    std::optional<User> found;
    for (const auto& [id, u] : users)
      if (u.email == email) found = u;
    if (after_find) after_find();  // lets a test race another worker here
    return found;
  }
  std::optional<User> find_by_id(const Uuid& id) override {
    check();
    auto it = users.find(id);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
  bool replace_password_hash(const Uuid& id, std::string_view expected, std::string_view next,
                             std::optional<UnixSeconds> changed_at) override {
    check();
    auto it = users.find(id);
    if (it == users.end() || it->second.password_hash != expected) return false;
    it->second.password_hash = std::string(next);
    if (changed_at) it->second.password_changed_at = *changed_at;
    return true;
  }
  void check() const {
    if (unavailable) throw StoreUnavailable("fake: database down");
  }

  std::map<Uuid, User> users;
  bool unavailable = false;
  std::function<void()> after_find;
};

class InMemorySessionStore final : public SessionStore {
 public:
  void insert(const Session& s) override { sessions[s.id] = s; }
  std::optional<Session> find(const Uuid& id) override {
    auto it = sessions.find(id);
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }
  int revoke_all_for_user(const Uuid& user_id, UnixSeconds now, std::optional<Uuid> keep) override {
    int n = 0;
    for (auto& [id, s] : sessions) {
      if (s.user_id == user_id && !s.revoked_at && (!keep || *keep != id)) {
        s.revoked_at = now;
        ++n;
      }
    }
    return n;
  }
  std::map<Uuid, Session> sessions;
};

// All-or-nothing over the two in-memory stores.
class FakeTransactions final : public TransactionRunner {
 public:
  FakeTransactions(InMemoryUserStore& users, InMemorySessionStore& sessions)
      : users_(users), sessions_(sessions) {}
  void in_transaction(const std::function<void()>& body) override {
    auto users_before = users_.users;
    auto sessions_before = sessions_.sessions;
    try {
      body();
      ++commits;
    } catch (...) {
      users_.users = std::move(users_before);
      sessions_.sessions = std::move(sessions_before);
      throw;
    }
  }
  int commits = 0;

 private:
  InMemoryUserStore& users_;
  InMemorySessionStore& sessions_;
};

}  // namespace authd::testing
