#pragma once
// The real router and HTTP app over an AuthService of in-memory fakes
// (ServiceWorld): what the handler tests send requests through.
#include <rapidjson/document.h>

#include <optional>
#include <string>

#include "fakes/service_fixture.h"
#include "http/app.h"
#include "http/handlers/handlers.h"

namespace authd::testing {

class FakeHealth final : public HealthProbe {
 public:
  bool database_ready() override { return ready; }
  bool ready = true;
};

struct HttpWorld {
  ServiceWorld w;
  FakeHealth health;
  http::HandlerDeps deps{w.auth(), health, ""};
  http::HttpApp app{http::make_router(deps)};

  http::Response post(const std::string& path, const std::string& body) {
    http::Request r;
    r.method = "POST";
    r.path = path;
    r.content_type = "application/json";
    r.body = body;
    r.request_id = "rid";
    r.remote_addr = "127.0.0.1";
    return app.handle(r);
  }
  http::Response get(const std::string& path, std::optional<std::string> auth = std::nullopt) {
    http::Request r;
    r.method = "GET";
    r.path = path;
    r.authorization = std::move(auth);
    r.request_id = "rid";
    return app.handle(r);
  }
  static rapidjson::Document json(const http::Response& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    return d;
  }
  static std::string code(const http::Response& r) { return json(r)["code"].GetString(); }
};

}  // namespace authd::testing
