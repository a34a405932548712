#pragma once
#include <vector>

namespace authd::mysql {

// One numbered file of sql/, compiled into the binary.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every file of sql/, in version order (generated at build time).
const std::vector<Migration>& embedded_migrations();

inline int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

}  // namespace authd::mysql
