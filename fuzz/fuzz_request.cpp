// libFuzzer target: the request path from raw FastCGI parameters and body to
// the response, through the real code: the FastCGI name-value decoding
// (FCGI_PARAMS content, as nginx sends it), request_from_params, the body cap,
// HttpApp with the real router, handlers, strict JSON, problem documents and
// the use cases, over the in-memory fakes of tests/fakes (the stores and a
// cheap hasher; the JWT signer is the real one). The admin API answers every
// address, and knows one key of both scopes, kFuzzAdminKey (the seeds use
// it), so its handlers past the key are reached too.
//
// Input: [1 byte flags][2 bytes params length, little endian][params][body]
//   flags bit 0: the database is down (stores throw StoreUnavailable).
// Oracles beyond sanitizers: never a 500 (a 500 is a bug), only the
// contract's statuses, every answer has X-Request-ID, every error is a
// problem document whose "status" is the HTTP status.
#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fakes/admin_fakes.h"
#include "fakes/service_fixture.h"
#include "fcgi/request_mapping.h"
#include "http/app.h"
#include "http/handlers/handlers.h"

namespace {

using namespace authd;

class FakeHealth final : public HealthProbe {
 public:
  bool database_ready() override { return up; }
  bool up = true;
};

constexpr const char* kFuzzAdminKey = "authd_admin_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz";

struct World {
  testing::ServiceWorld service;
  FakeHealth health;
  testing::InMemoryAdminKeyStore keys;
  testing::InMemoryAccountDirectory directory{service.users, service.passkeys};
  AdminService admin{AdminDeps{service.users, service.sessions, service.throttle, service.mfa,
                               directory, keys, service.transactions, service.hasher,
                               service.email_tokens, service.outbox, service.clock, service.random},
                     [] {
                       AdminPolicy p;
                       p.secret_key = std::string(48, 'f');
                       return p;
                     }()};
  http::HandlerDeps deps{service.auth(),
                         health,
                         "",
                         {},
                         http::AdminEndpoint{&admin, *CidrSet::parse({"0.0.0.0/0", "::/0"})}};
  http::HttpApp app{http::make_router(deps)};

  World() {
    AdminKey k;
    k.name = "fuzz";
    k.key_hash = admin_key_digest(kFuzzAdminKey);
    k.scopes = "users:read,users:write";
    keys.keys.push_back(k);
  }
};

std::unique_ptr<World> g_world;
unsigned g_runs = 0;

[[noreturn]] void broken(const std::string& what, const http::Response& r) {
  std::fprintf(stderr, "request path broken: %s (status %d, body %.300s)\n", what.c_str(), r.status,
               r.body.c_str());
  std::abort();
}

// FastCGI name-value pairs (FastCGI 1.0, 3.4): lengths of 1 byte (< 128) or
// 4 bytes (high bit set), then the name and value bytes.
bool read_length(const std::uint8_t*& p, const std::uint8_t* end, std::size_t* out) {
  if (p >= end) return false;
  if (*p < 0x80) {
    *out = *p++;
    return true;
  }
  if (end - p < 4) return false;
  *out = (static_cast<std::size_t>(p[0] & 0x7f) << 24) | (static_cast<std::size_t>(p[1]) << 16) |
         (static_cast<std::size_t>(p[2]) << 8) | p[3];
  p += 4;
  return true;
}

std::vector<std::string> decode_params(const std::uint8_t* p, const std::uint8_t* end) {
  std::vector<std::string> env;
  while (p < end) {
    std::size_t name_len = 0, value_len = 0;
    if (!read_length(p, end, &name_len) || !read_length(p, end, &value_len)) break;
    if (static_cast<std::size_t>(end - p) < name_len ||
        static_cast<std::size_t>(end - p) - name_len < value_len) {
      break;
    }
    // libfcgi keeps each pair as "NAME=value" (fcgiapp.c, PutParam).
    std::string pair(reinterpret_cast<const char*>(p), name_len);
    pair += '=';
    pair.append(reinterpret_cast<const char*>(p + name_len), value_len);
    env.push_back(std::move(pair));
    p += name_len + value_len;
  }
  return env;
}

const std::set<int> kContractStatuses = {200, 201, 202, 204, 400, 401, 403, 404,
                                         405, 409, 413, 415, 422, 429, 503};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A fresh world now and then: the fakes grow with every registration.
  if (!g_world || ++g_runs % 2000 == 0) g_world = std::make_unique<World>();
  World& w = *g_world;
  if (size < 3) return 0;
  const bool database_down = data[0] & 1;
  const std::size_t params_len = data[1] | (static_cast<std::size_t>(data[2]) << 8);
  const std::uint8_t* params = data + 3;
  const std::uint8_t* end = data + size;
  const std::uint8_t* params_end = params + std::min<std::size_t>(params_len, end - params);

  std::vector<std::string> env = decode_params(params, params_end);
  std::vector<char*> envp;
  for (auto& pair : env)
    envp.push_back(pair.data());
  envp.push_back(nullptr);

  http::Request request = fcgi::request_from_params(envp.data());
  const std::size_t body_cap = fcgi::body_bytes_to_read(request);
  request.body.assign(reinterpret_cast<const char*>(params_end),
                      std::min<std::size_t>(body_cap, end - params_end));

  w.service.users.unavailable = database_down;
  w.health.up = !database_down;
  const http::Response r = w.app.handle(request);
  w.service.users.unavailable = false;

  if (r.status == 500) broken("a 500 (a bug)", r);
  if (!kContractStatuses.count(r.status)) broken("a status outside the contract", r);
  if (!r.header("X-Request-ID")) broken("no X-Request-ID", r);
  // Whatever the parameters said, the id that goes back is a safe token
  // (issue 17, finding 7: a CR LF in it was a header injection).
  if (!fcgi::is_valid_request_id(*r.header("X-Request-ID"))) broken("an unsafe X-Request-ID", r);
  if (r.status >= 400) {
    const std::string* type = r.header("Content-Type");
    if (type && *type == "application/problem+json") {
      rapidjson::Document doc;
      doc.Parse(r.body.c_str(), r.body.size());
      if (doc.HasParseError() || !doc.IsObject()) broken("a problem that is not JSON", r);
      auto status = doc.FindMember("status");
      if (status == doc.MemberEnd() || !status->value.IsInt() || status->value.GetInt() != r.status)
        broken("a problem whose status is not the answer's", r);
      auto code = doc.FindMember("code");
      if (code == doc.MemberEnd() || !code->value.IsString()) broken("a problem without code", r);
    } else if (!((r.status == 401 || r.status == 403) && r.body.empty())) {  // /auth/verify's
      broken("an error that is not a problem document", r);
    }
  }
  return 0;
}
