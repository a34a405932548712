#pragma once
// An in-memory PasskeyStore, for unit tests of the passkey use cases.
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ports/passkey_store.h"

namespace authd::testing {

class InMemoryPasskeyStore final : public PasskeyStore {
 public:
  std::string user_handle(const Uuid& user_id, std::string_view candidate) override {
    auto [it, inserted] = handles.emplace(user_id, std::string(candidate));
    return it->second;
  }
  std::optional<std::string> find_user_handle(const Uuid& user_id) override {
    auto it = handles.find(user_id);
    if (it == handles.end()) return std::nullopt;
    return it->second;
  }
  std::vector<Passkey> list(const Uuid& user_id) override {
    std::vector<Passkey> out;
    for (const auto& [id, p] : passkeys)
      if (p.user_id == user_id) out.push_back(p);
    std::sort(out.begin(), out.end(), [](const Passkey& a, const Passkey& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
  }
  unsigned count(const Uuid& user_id) override {
    return static_cast<unsigned>(list(user_id).size());
  }
  std::optional<Passkey> find(const Uuid& id) override {
    auto it = passkeys.find(id);
    if (it == passkeys.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Passkey> find_by_credential_id(std::string_view credential_id) override {
    for (const auto& [id, p] : passkeys)
      if (p.credential_id == credential_id) return p;
    return std::nullopt;
  }
  AddResult add(const Passkey& passkey, unsigned max_per_user) override {
    if (find_by_credential_id(passkey.credential_id)) return AddResult::exists;
    if (count(passkey.user_id) >= max_per_user) return AddResult::limit;
    passkeys[passkey.id] = passkey;
    return AddResult::added;
  }
  bool remove(const Uuid& user_id, const Uuid& id) override {
    auto it = passkeys.find(id);
    if (it == passkeys.end() || it->second.user_id != user_id) return false;
    passkeys.erase(it);
    return true;
  }
  int remove_all(const Uuid& user_id) override {
    return static_cast<int>(
        std::erase_if(passkeys, [&](const auto& e) { return e.second.user_id == user_id; }));
  }
  int remove_created_while_unverified(const Uuid& user_id,
                                      std::optional<UnixSeconds> verified_at) override {
    return static_cast<int>(std::erase_if(passkeys, [&](const auto& e) {
      return e.second.user_id == user_id && (!verified_at || e.second.created_at <= *verified_at);
    }));
  }
  bool record_use(const Uuid& id, std::optional<std::uint32_t> new_sign_count, bool backed_up,
                  UnixSeconds now) override {
    auto it = passkeys.find(id);
    if (it == passkeys.end()) return false;
    if (new_sign_count) {
      if (it->second.sign_count >= *new_sign_count) return false;
      it->second.sign_count = *new_sign_count;
    }
    it->second.backed_up = backed_up;
    it->second.last_used_at = now;
    return true;
  }
  void insert_challenge(const WebAuthnChallenge& challenge) override {
    challenges[challenge.challenge_hash] = challenge;
  }
  std::optional<WebAuthnChallenge> take_challenge(std::string_view hash,
                                                  ChallengePurpose purpose) override {
    auto it = challenges.find(std::string(hash));
    if (it == challenges.end() || it->second.purpose != purpose) return std::nullopt;
    WebAuthnChallenge c = it->second;
    challenges.erase(it);
    return c;
  }
  std::function<std::function<void()>()> snapshot() {
    return [this] {
      return [this, saved = passkeys, saved_handles = handles, saved_challenges = challenges] {
        passkeys = saved;
        handles = saved_handles;
        challenges = saved_challenges;
      };
    };
  }

  std::map<Uuid, std::string> handles;
  std::map<Uuid, Passkey> passkeys;
  std::map<std::string, WebAuthnChallenge> challenges;
};

}  // namespace authd::testing
