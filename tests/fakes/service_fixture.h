#pragma once
// An AuthService over in-memory fakes and the real JWT signer.
#include <sodium.h>

#include <memory>

#include "adapters/crypto/jwt_signer.h"
#include "auth/auth_service.h"
#include "fakes/fakes.h"
#include "fakes/mail_fakes.h"

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
  JwtSigner signer{[] {
    JwtSettings s;
    s.hmac_secret = std::string(48, 'k');
    return s;
  }()};
  ServicePolicy policy = with_mfa_key({});
  std::unique_ptr<AuthService> service;

  explicit ServiceWorld(ServicePolicy p = {}) : policy(with_mfa_key(p)) {
    transactions.participants = {email_tokens.snapshot(), outbox.snapshot(),
                                 mail_requests.snapshot(), mfa.snapshot()};
    rebuild();
  }
  static ServicePolicy with_mfa_key(ServicePolicy p) {
    if (!p.mfa_key) p.mfa_key = SealingKey{};  // all zero: a test key
    return p;
  }
  void rebuild() {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init");
    service = std::make_unique<AuthService>(
        ServiceDeps{users, sessions, throttle, mfa, transactions, hasher, signer, clock, random,
                    email_tokens, outbox, mail_requests},
        policy);
  }
  AuthService& auth() { return *service; }
};

inline constexpr const char* kStrongPassword = "violet-Harbor-92-lantern";
inline constexpr const char* kOtherStrongPassword = "correct horse battery staple";

}  // namespace authd::testing
