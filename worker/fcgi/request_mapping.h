#pragma once
// FastCGI parameters (CGI names, as nginx sends them) → http::Request. Pure:
// it reads libfcgi's parameter array and nothing else, so the fuzzer runs
// exactly this on made-up parameters.
#include <cstddef>
#include <string>
#include <string_view>

#include "http/request.h"

namespace authd::fcgi {

// API.md: an X-Request-ID is taken when it matches [A-Za-z0-9._-]{1,64}.
bool is_valid_request_id(std::string_view id);
// 128 random bits in hex: the id of a request that came without a valid one.
std::string new_request_id();

// Everything but the body. An absent or invalid X-Request-ID is replaced by
// a new one. `envp`: libfcgi's NULL-terminated "NAME=value"
// array (FCGX_Request::envp).
http::Request request_from_params(char** envp);

// How many body bytes to read from the request's stdin: none when the
// declared length is beyond the cap (the HTTP layer answers 413 without
// reading it), else up to one byte past the cap (to notice a body longer
// than declared).
std::size_t body_bytes_to_read(const http::Request& request);

}  // namespace authd::fcgi
