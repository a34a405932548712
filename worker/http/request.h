#pragma once
// A request as the HTTP layer sees it: plain values, no FastCGI.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace authd::http {

struct Request {
  std::string method;
  std::string path;  // decoded and normalised by nginx, no query string
  std::string query;
  std::optional<std::string> content_type;
  std::optional<std::size_t> content_length;  // as declared
  std::string body;
  std::optional<std::string> authorization;
  std::string request_id;
  std::string remote_addr;
  std::string user_agent;
  bool https = false;
  // When nginx handed the request to the pool (its clock, ms since the
  // epoch: AUTHD_QUEUED_AT), for admission by waiting time.
  std::optional<std::int64_t> queued_at_ms;
  // How long it waited in the listen queue, as the admission gate judged
  // it (set by the FastCGI adapter; the request log line carries it).
  std::optional<std::int64_t> waited_ms;
};

}  // namespace authd::http
