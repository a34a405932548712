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
  if (lane_ == Lane::fast && match.lane != Lane::fast &&
      (match.handler != nullptr || !match.allow.empty())) {
    log::warn("route_not_in_lane", {{"path", request.path}, {"lane", admission::lane_name(lane_)}});
    return render_problem(not_found(), request);
  }
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
                          {"secure", request.https},
                          {"lane", admission::lane_name(lane_)},
                          log::Field::optional("waited_ms", request.waited_ms)});
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

Response HttpApp::refuse_for_wait(const Request& request, std::int64_t waited_ms,
                                  std::int64_t budget_ms) noexcept {
  try {
    Problem p = unavailable();
    p.detail = "The server is busy: this request waited " + std::to_string(waited_ms) +
               " ms for a worker, longer than the admission budget (" + std::to_string(budget_ms) +
               " ms). Nothing was changed; try again.";
    Response response = render_problem(p, request);
    response.set_header("X-Request-ID", request.request_id);
    response.set_header("Cache-Control", "no-store");
    if (log::enabled(LogLevel::debug)) {
      log::set_request_id(request.request_id);
      log::debug("request_refused", {{"method", request.method},
                                     {"path", request.path},
                                     {"waited_ms", waited_ms},
                                     {"budget_ms", budget_ms},
                                     {"lane", admission::lane_name(lane_)}});
      log::clear_request_id();
    }
    return response;
  } catch (...) {
    Response bare;
    bare.status = 503;
    return bare;
  }
}

}  // namespace authd::http
