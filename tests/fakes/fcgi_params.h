#pragma once
// A request as the FastCGI door maps it, from parameters written as
// "NAME=value" (as libfcgi hands them over: a null-terminated envp).
#include <string>
#include <vector>

#include "fcgi/request_mapping.h"

namespace authd::testing {

inline http::Request request_from(std::vector<std::string> params) {
  std::vector<char*> envp;
  for (auto& p : params)
    envp.push_back(p.data());
  envp.push_back(nullptr);
  return fcgi::request_from_params(envp.data());
}

}  // namespace authd::testing
