#pragma once
// FastCGI parameters (CGI names, as nginx sends them) → http::Request. Pure:
// it reads libfcgi's parameter array and nothing else, so the fuzzer runs
// exactly this on made-up parameters.
#include <cstddef>

#include "http/request.h"

namespace authd::fcgi {

// Everything but the body. `envp`: libfcgi's NULL-terminated "NAME=value"
// array (FCGX_Request::envp).
http::Request request_from_params(char** envp);

// How many body bytes to read from the request's stdin: none when the
// declared length is beyond the cap (the HTTP layer answers 413 without
// reading it), else up to one byte past the cap (to notice a body longer
// than declared).
std::size_t body_bytes_to_read(const http::Request& request);

}  // namespace authd::fcgi
