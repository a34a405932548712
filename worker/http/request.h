#pragma once
// A request as the HTTP layer sees it: plain values, no FastCGI.
#include <cstddef>
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
};

}  // namespace authd::http
