#pragma once
// In-memory fakes of the ports, for unit tests of pure logic (the service,
// the HTTP layer). The real stores are tested against MariaDB in tests/store.
#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ports/clock.h"
#include "ports/mfa_store.h"
#include "ports/password_hasher.h"
#include "ports/random.h"
#include "ports/session_store.h"
#include "ports/store_errors.h"
#include "ports/throttle_store.h"
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
  bool set_disabled(const Uuid& id, std::optional<UnixSeconds> at) override {
    check();
    auto it = users.find(id);
    if (it == users.end()) return false;
    it->second.disabled_at = at;
    return true;
  }
  bool mark_email_verified(const Uuid& id, UnixSeconds at) override {
    check();
    auto it = users.find(id);
    if (it == users.end() || it->second.email_verified_at) return false;
    it->second.email_verified_at = at;
    return true;
  }
  std::optional<User> find_by_email_for_update(std::string_view email) override {
    return find_by_email(email);
  }
  std::optional<User> find_by_id_for_update(const Uuid& id) override { return find_by_id(id); }
  bool record_login(const Uuid& id, UnixSeconds at) override {
    check();
    auto it = users.find(id);
    if (it == users.end()) return false;
    it->second.last_login_at = at;
    return true;
  }
  bool erase_account(const Uuid& id, std::string_view email) override {
    check();
    if (on_erase) on_erase(id, email);
    return users.erase(id) == 1;
  }
  void check() const {
    if (unavailable) throw StoreUnavailable("fake: database down");
  }

  std::map<Uuid, User> users;
  bool unavailable = false;
  std::function<void()> after_find;
  // What else erase_account removes: the other fakes' rows of the account
  // (wired by ServiceWorld).
  std::function<void(const Uuid&, std::string_view)> on_erase;
};

class InMemorySessionStore final : public SessionStore {
 public:
  void insert(const Session& s) override { sessions[s.id] = s; }
  std::optional<Session> find(const Uuid& id) override {
    auto it = sessions.find(id);
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Session> find_for_update(const Uuid& id) override { return find(id); }
  static bool live(const Session& s, UnixSeconds now, UnixSeconds idle) {
    return !s.revoked_at && now < s.expires_at && now < s.last_used_at + idle;
  }
  std::vector<Session> list_live(const Uuid& user_id, UnixSeconds now, UnixSeconds idle) override {
    std::vector<Session> out;
    for (const auto& [id, s] : sessions)
      if (s.user_id == user_id && live(s, now, idle)) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const Session& a, const Session& b) {
      return a.last_used_at != b.last_used_at ? a.last_used_at > b.last_used_at : b.id < a.id;
    });
    return out;
  }
  bool revoke(const Uuid& id, UnixSeconds now) override {
    auto it = sessions.find(id);
    if (it == sessions.end() || it->second.revoked_at) return false;
    it->second.revoked_at = now;
    return true;
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
  int revoke_least_recently_used(const Uuid& user_id, unsigned keep, UnixSeconds now,
                                 UnixSeconds idle) override {
    auto live_sessions = list_live(user_id, now, idle);
    int n = 0;
    for (std::size_t i = keep; i < live_sessions.size(); ++i)
      n += revoke(live_sessions[i].id, now);
    return n;
  }
  void rotate_refresh(const Uuid& id, std::string_view spent, std::string_view next,
                      std::string_view sealed, UnixSeconds now) override {
    auto& s = sessions.at(id);
    spent_hashes[id].push_back(std::string(spent));
    s.prev_refresh_hash = std::string(spent);
    s.refresh_hash = std::string(next);
    s.next_refresh_sealed = std::string(sealed);
    s.rotated_at = now;
    s.last_used_at = now;
  }
  bool refresh_was_spent(const Uuid& id, std::string_view hash) override {
    auto it = spent_hashes.find(id);
    if (it == spent_hashes.end()) return false;
    return std::find(it->second.begin(), it->second.end(), hash) != it->second.end();
  }
  std::map<Uuid, Session> sessions;
  std::map<Uuid, std::vector<std::string>> spent_hashes;
};

class InMemoryThrottleStore final : public ThrottleStore {
 public:
  Counters read(std::string_view email, std::string_view ip) override {
    return {rows[{std::string(email), std::string(ip)}], rows[{std::string(email), ""}]};
  }
  void record_failure(std::string_view email, std::string_view ip,
                      const std::function<Counters(const Counters&)>& update) override {
    Counters next = update(read(email, ip));
    rows[{std::string(email), std::string(ip)}] = next.pair;
    rows[{std::string(email), ""}] = next.email;
  }
  void clear(std::string_view email, std::string_view ip) override {
    ++clears;
    rows.erase({std::string(email), std::string(ip)});
    rows.erase({std::string(email), ""});
  }
  int clear_all(std::string_view email) override {
    int n = 0;
    for (auto it = rows.begin(); it != rows.end();) {
      if (it->first.first == email) {
        it = rows.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  std::map<std::pair<std::string, std::string>, ThrottleCounter> rows;
  int clears = 0;
};

class InMemoryMfaStore final : public MfaStore {
 public:
  explicit InMemoryMfaStore(InMemoryUserStore& users) : users_(users) {}
  MfaState read(const Uuid& user_id) override {
    MfaState state = states[user_id];
    if (after_read) after_read();  // lets a test race another worker here
    return state;
  }
  std::function<void()> after_read;
  void set_pending(const Uuid& user_id, std::string_view sealed) override {
    if (!states[user_id].enabled) states[user_id].pending_sealed = std::string(sealed);
  }
  bool enable(const Uuid& user_id, std::string_view pending, std::int64_t step,
              UnixSeconds now) override {
    auto& s = states[user_id];
    if (s.enabled || s.pending_sealed.empty() || s.pending_sealed != pending) return false;
    s.enabled = true;
    s.enabled_at = now;
    s.secret_sealed = s.pending_sealed;
    s.pending_sealed.clear();
    s.last_step = step;
    users_.users[user_id].mfa_enabled = true;
    return true;
  }
  bool accept_step(const Uuid& user_id, std::int64_t step) override {
    auto& s = states[user_id];
    if (!s.enabled || (s.last_step && *s.last_step >= step)) return false;
    s.last_step = step;
    return true;
  }
  void disable(const Uuid& user_id, UnixSeconds now) override {
    states[user_id] = MfaState{};
    codes.erase(user_id);
    users_.users[user_id].mfa_enabled = false;
    void_challenges(user_id, now);
  }
  bool any_enabled() override {
    for (const auto& [id, s] : states)
      if (s.enabled) return true;
    return false;
  }
  std::vector<SealedTotp> sealed_not_shaped(const Uuid& after, std::size_t size,
                                            unsigned char version, unsigned limit) override {
    auto shaped = [&](const std::string& s) {
      return s.empty() || (s.size() == size && static_cast<unsigned char>(s[0]) == version);
    };
    std::vector<SealedTotp> out;
    for (const auto& [id, s] : states) {
      if (id <= after || out.size() >= limit) continue;
      if (!shaped(s.secret_sealed) || !shaped(s.pending_sealed)) {
        out.push_back({id, s.secret_sealed, s.pending_sealed});
      }
    }
    return out;
  }
  bool replace_sealed(const SealedTotp& before, const SealedTotp& after) override {
    auto& s = states[before.user_id];
    if (s.secret_sealed != before.secret_sealed || s.pending_sealed != before.pending_sealed) {
      return false;
    }
    s.secret_sealed = after.secret_sealed;
    s.pending_sealed = after.pending_sealed;
    return true;
  }
  void replace_recovery_codes(const Uuid& user_id,
                              const std::vector<std::string>& hashes) override {
    auto& list = codes[user_id];
    list.clear();
    unsigned slot = 0;
    for (const auto& h : hashes)
      list.push_back({slot++, h, false});
  }
  std::vector<RecoveryCode> unused_recovery_codes(const Uuid& user_id) override {
    std::vector<RecoveryCode> out;
    for (const auto& c : codes[user_id])
      if (!c.used) out.push_back({c.slot, c.hash});
    return out;
  }
  bool spend_recovery_code(const Uuid& user_id, unsigned slot, UnixSeconds) override {
    for (auto& c : codes[user_id]) {
      if (c.slot == slot && !c.used) return c.used = true;
    }
    return false;
  }
  void insert_challenge(const MfaChallenge& c) override { challenges[c.token_hash] = c; }
  std::optional<MfaChallenge> find_challenge(std::string_view token_hash) override {
    auto it = challenges.find(std::string(token_hash));
    if (it == challenges.end()) return std::nullopt;
    return it->second;
  }
  bool spend_challenge(std::string_view token_hash, UnixSeconds now) override {
    auto it = challenges.find(std::string(token_hash));
    if (it == challenges.end() || it->second.spent_at) return false;
    it->second.spent_at = now;
    return true;
  }
  void void_challenges(const Uuid& user_id, UnixSeconds now) override {
    for (auto& [h, c] : challenges)
      if (c.user_id == user_id && !c.spent_at) c.spent_at = now;
  }

  struct StoredCode {
    unsigned slot;
    std::string hash;
    bool used;
  };
  // For FakeTransactions::participants: what puts this store back.
  std::function<std::function<void()>()> snapshot() {
    return [this] {
      return [this, s = states, c = codes, ch = challenges] {
        states = s;
        codes = c;
        challenges = ch;
      };
    };
  }
  std::map<Uuid, MfaState> states;
  std::map<Uuid, std::vector<StoredCode>> codes;
  std::map<std::string, MfaChallenge> challenges;

 private:
  InMemoryUserStore& users_;
};

// All-or-nothing over the two in-memory stores.
class FakeTransactions final : public TransactionRunner {
 public:
  FakeTransactions(InMemoryUserStore& users, InMemorySessionStore& sessions)
      : users_(users), sessions_(sessions) {}
  void in_transaction(const std::function<void()>& body) override {
    // What another worker commits just before this transaction starts.
    if (auto first = std::exchange(before_next, nullptr)) first();
    auto users_before = users_.users;
    auto sessions_before = sessions_.sessions;
    std::vector<std::function<void()>> restores;
    for (const auto& snapshot : participants)
      restores.push_back(snapshot());
    try {
      body();
      // The COMMIT fails certification (1213): rolled back whole, then, as
      // MysqlTransactionRunner does, the body runs again from the start,
      // after the write it lost to (conflict_winner) has landed.
      while (conflicts_at_commit > 0) {
        --conflicts_at_commit;
        ++conflicts;
        users_.users = users_before;
        sessions_.sessions = sessions_before;
        for (const auto& restore : restores)
          restore();
        if (conflict_winner) std::exchange(conflict_winner, nullptr)();
        users_before = users_.users;
        sessions_before = sessions_.sessions;
        restores.clear();
        for (const auto& snapshot : participants)
          restores.push_back(snapshot());
        body();
      }
      ++commits;
    } catch (...) {
      users_.users = std::move(users_before);
      sessions_.sessions = std::move(sessions_before);
      for (const auto& restore : restores)
        restore();
      throw;
    }
    // The next COMMIT's answer is lost (the database went away while it
    // was being sent): applied or not, the caller cannot tell.
    const LostCommit lost = std::exchange(lose_next_commit, LostCommit::none);
    if (lost == LostCommit::none) return;
    if (lost == LostCommit::rolled_back) {
      --commits;
      users_.users = std::move(users_before);
      sessions_.sessions = std::move(sessions_before);
      for (const auto& restore : restores)
        restore();
    }
    if (down_after_lost_commit) users_.unavailable = true;
    throw StoreCommitUnknown("fake: COMMIT's answer lost");
  }
  enum class LostCommit { none, applied, rolled_back };
  LostCommit lose_next_commit = LostCommit::none;
  bool down_after_lost_commit = false;  // and the re-read finds no database
  std::function<void()> before_next;    // runs once, before the next transaction
  int commits = 0;
  // The next transactions' COMMITs lose to a concurrent writer this many
  // times; conflict_winner (once) is that writer's commit, applied before
  // the retry.
  int conflicts_at_commit = 0;
  std::function<void()> conflict_winner;
  int conflicts = 0;
  // Other fakes joining the all-or-nothing: each snapshot returns what
  // puts its state back.
  std::vector<std::function<std::function<void()>()>> participants;

 private:
  InMemoryUserStore& users_;
  InMemorySessionStore& sessions_;
};

}  // namespace authd::testing
