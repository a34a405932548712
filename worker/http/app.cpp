#include "http/app.h"

#include <chrono>
#include <exception>
#include <new>

#include "http/problem.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::http {

Response HttpApp::dispatch(const Request& request, RequestContext& context) {
  auto match = router_.match(request.method, request.path);
  if (match.handler == nullptr) {
    if (match.allow.empty()) return render_problem(not_found(), request);
    context.route = match.pattern;
    Problem p;
    p.status = 405;
    p.code = "method_not_allowed";
    p.title = "Method not allowed";
    p.detail = "This path does not take " + request.method + ".";
    Response r = render_problem(p, request);
    r.set_header("Allow", match.allow);
    return r;
  }
  context.route = match.pattern;
  // nginx refuses large bodies first; this holds when something else is in
  // front, and before any byte of the body is parsed.
  if ((request.content_length && *request.content_length > kMaxBodyBytes) ||
      request.body.size() > kMaxBodyBytes) {
    return render_problem(payload_too_large(), request);
  }
  return (*match.handler)(request, context, match.params);
}

Response HttpApp::handle(const Request& request) noexcept {
  const auto started = std::chrono::steady_clock::now();
  if (observer_ != nullptr) observer_->request_started();
  log::set_request_id(request.request_id);
  RequestContext context;
  Response response;
  try {
    try {
      response = dispatch(request, context);
    } catch (const StoreCommitUnknown& e) {
      log::error("commit_outcome_unknown", {{"route", context.route}, {"error", e.what()}});
      response = render_problem(outcome_unknown(), request);
    } catch (const StoreUnavailable& e) {
      log::error("database_unavailable", {{"route", context.route}, {"error", e.what()}});
      response = render_problem(unavailable(), request);
    } catch (const std::bad_alloc&) {
      log::error("out_of_memory", {{"route", context.route}});
      response = render_problem(unavailable(), request);
    } catch (const std::exception& e) {
      log::error("internal_error", {{"route", context.route}, {"error", e.what()}});
      response = render_problem(internal_error(), request);
    } catch (...) {
      log::error("internal_error", {{"route", context.route}, {"error", "unknown exception"}});
      response = render_problem(internal_error(), request);
    }
    response.set_header("X-Request-ID", request.request_id);
    // Every answer of an auth server may carry a token or say who someone
    // is: nothing is cacheable.
    response.set_header("Cache-Control", "no-store");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    log::info("request", {{"method", request.method},
                          {"route", context.route.empty() ? std::string_view("-") : context.route},
                          {"status", response.status},
                          {"duration_ms", ms},
                          log::Field::optional("user_id", context.user_id),
                          {"ip", request.remote_addr},
                          {"secure", request.https}});
  } catch (...) {
    // Even building the error answer failed (memory): a bare 500.
    response = Response{};
    response.status = 500;
  }
  if (observer_ != nullptr) {
    observer_->request_finished(context.route, response.status,
                                std::chrono::steady_clock::now() - started);
  }
  log::clear_request_id();
  return response;
}

}  // namespace authd::http
