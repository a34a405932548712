#pragma once
// An AuthService over in-memory fakes and the real JWT signer.
#include <sodium.h>

#include <memory>

#include "adapters/crypto/jwt_signer.h"
#include "auth/auth_service.h"
#include "fakes/fakes.h"
#include "fakes/mail_fakes.h"
#include "fakes/passkey_fakes.h"

namespace authd::testing {

struct ServiceWorld {
  ManualClock clock;
  SeededRandom random;
  FakeHasher hasher;
  InMemoryUserStore users;
  InMemorySessionStore sessions;
  InMemoryThrottleStore throttle;
  InMemoryMfaStore mfa{users};
  FakeTransactions transactions{users, sessions};
  InMemoryEmailTokenStore email_tokens;
  InMemoryOutbox outbox;
  InMemoryMailRequests mail_requests;
  InMemoryPasskeyStore passkeys;
  JwtSigner signer{[] {
    JwtSettings s;
    s.hmac_secret = std::string(48, 'k');
    return s;
  }()};
  ServicePolicy policy = with_mfa_key({});
  std::unique_ptr<AuthService> service;

  explicit ServiceWorld(ServicePolicy p = {}) : policy(with_mfa_key(p)) {
    transactions.participants = {email_tokens.snapshot(),  outbox.snapshot(),
                                 mail_requests.snapshot(), passkeys.snapshot(),
                                 throttle_snapshot(),      mfa.snapshot()};
    users.on_erase = [this](const Uuid& id, std::string_view email) { erase_rows_of(id, email); };
    rebuild();
  }
  // What MysqlUserStore::erase_account removes, over the fakes.
  void erase_rows_of(const Uuid& id, std::string_view email) {
    std::erase_if(sessions.sessions, [&](const auto& e) {
      if (e.second.user_id != id) return false;
      sessions.spent_hashes.erase(e.first);
      return true;
    });
    mfa.states.erase(id);
    mfa.codes.erase(id);
    std::erase_if(mfa.challenges, [&](const auto& e) { return e.second.user_id == id; });
    std::erase_if(email_tokens.tokens, [&](const auto& e) { return e.second.user_id == id; });
    std::erase_if(outbox.rows, [&](const auto& e) { return e.second.mail.user_id == id; });
    std::erase_if(mail_requests.queue, [&](const MailRequest& r) { return r.email == email; });
    std::erase_if(throttle.rows, [&](const auto& e) { return e.first.first == email; });
    std::erase_if(passkeys.passkeys, [&](const auto& e) { return e.second.user_id == id; });
    passkeys.handles.erase(id);
    std::erase_if(passkeys.challenges,
                  [&](const auto& e) { return e.second.user_id && *e.second.user_id == id; });
  }
  std::function<std::function<void()>()> throttle_snapshot() {
    return [this] { return [this, saved = throttle.rows] { throttle.rows = saved; }; };
  }
  static ServicePolicy with_mfa_key(ServicePolicy p) {
    if (!p.mfa_key) p.mfa_key = SealingKey{};  // all zero: a test key
    return p;
  }
  void rebuild() {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init");
    service = std::make_unique<AuthService>(
        ServiceDeps{users, sessions, throttle, mfa, transactions, hasher, signer, clock, random,
                    email_tokens, outbox, mail_requests, passkeys},
        policy);
  }
  AuthService& auth() { return *service; }
};

inline constexpr const char* kStrongPassword = "violet-Harbor-92-lantern";
inline constexpr const char* kOtherStrongPassword = "correct horse battery staple";

}  // namespace authd::testing
