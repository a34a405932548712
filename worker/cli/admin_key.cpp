// `authd admin-key create --name NAME --scopes SCOPES | list | revoke NAME`:
// the admin API's keys, with the server's environment. `create` prints the
// new key once, alone on a line of standard output (the only secret any
// command prints); the database keeps only its SHA-256. Exit 0 on success,
// 1 on failure (a name in use, no such key), 2 on bad usage (an unknown
// scope, a malformed name, missing arguments).
#include <sodium.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "adapters/crypto/sodium_random.h"
#include "adapters/crypto/system_clock.h"
#include "adapters/mysql/admin_store.h"
#include "adapters/mysql/connection.h"
#include "auth/admin_keys.h"
#include "cli/commands.h"
#include "cli/startup.h"
#include "log/log.h"
#include "util/time_format.h"

namespace authd::cli {
namespace {

void admin_key_usage() {
  std::fputs(
      "usage: authd admin-key create --name NAME --scopes SCOPES\n"
      "       authd admin-key list\n"
      "       authd admin-key revoke NAME\n"
      "\n"
      "  create  make a key and print it once (keep it: it cannot be shown again)\n"
      "          NAME: [a-z0-9._-]{1,64}, unique among active keys\n"
      "          SCOPES: comma-separated, users:read and/or users:write (write includes read)\n"
      "  list    every key: name, scopes, created, last used, revoked (never the key)\n"
      "  revoke  refuse the active key of that name at once, on every worker\n",
      stderr);
}

std::string when(const std::optional<UnixSeconds>& t) {
  return t ? format_rfc3339(*t) : std::string("-");
}

int create(AdminKeys& keys, int argc, char** argv) {
  std::string_view name;
  std::string_view scopes;
  bool has_name = false;
  bool has_scopes = false;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--name" || arg == "--scopes") && i + 1 < argc) {
      (arg == "--name" ? name : scopes) = argv[++i];
      (arg == "--name" ? has_name : has_scopes) = true;
    } else if (arg.starts_with("--name=")) {
      name = arg.substr(7);
      has_name = true;
    } else if (arg.starts_with("--scopes=")) {
      scopes = arg.substr(9);
      has_scopes = true;
    } else {
      admin_key_usage();
      return 2;
    }
  }
  if (!has_name || !has_scopes) {
    admin_key_usage();
    return 2;
  }
  auto made = keys.create(name, scopes);
  if (auto* error = std::get_if<AdminKeys::CreateError>(&made)) {
    switch (*error) {
      case AdminKeys::CreateError::invalid_name:
        std::fputs("authd admin-key create: the name must match [a-z0-9._-]{1,64}\n", stderr);
        return 2;
      case AdminKeys::CreateError::unknown_scope:
        std::fputs(
            "authd admin-key create: unknown scope (known: users:read, users:write); "
            "nothing created\n",
            stderr);
        return 2;
      case AdminKeys::CreateError::name_taken:
        std::fprintf(stderr,
                     "authd admin-key create: an active key is named %.*s; nothing created\n",
                     static_cast<int>(name.size()), name.data());
        return 1;
    }
  }
  const auto& created = std::get<AdminKeys::Created>(made);
  std::fprintf(stderr, "created admin key %s (scopes %s); it is shown once, below:\n",
               created.stored.name.c_str(), created.stored.scopes.c_str());
  std::printf("%s\n", created.key.c_str());
  std::fflush(stdout);
  return 0;
}

int list(AdminKeys& keys) {
  std::printf("%-24s %-24s %-21s %-21s %s\n", "NAME", "SCOPES", "CREATED", "LAST_USED", "REVOKED");
  for (const AdminKey& k : keys.list()) {
    std::printf("%-24s %-24s %-21s %-21s %s\n", k.name.c_str(), k.scopes.c_str(),
                format_rfc3339(k.created_at).c_str(), when(k.last_used_at).c_str(),
                when(k.revoked_at).c_str());
  }
  return 0;
}

int revoke(AdminKeys& keys, std::string_view name) {
  if (!keys.revoke(name)) {
    std::fprintf(stderr, "authd admin-key revoke: no active key is named %.*s; nothing changed\n",
                 static_cast<int>(name.size()), name.data());
    return 1;
  }
  std::printf("revoked admin key %.*s\n", static_cast<int>(name.size()), name.data());
  return 0;
}

}  // namespace

int admin_key(int argc, char** argv) {
  log::set_component("operator");
  if (argc < 1) {
    admin_key_usage();
    return 2;
  }
  const std::string_view action = argv[0];
  const bool known =
      (action == "create") || (action == "list" && argc == 1) || (action == "revoke" && argc == 2);
  if (!known) {
    admin_key_usage();
    return 2;
  }
  const std::optional<Config> loaded = load_config(ConfigPurpose::operator_command);
  if (!loaded) return 2;
  if (sodium_init() < 0) {
    std::fputs("authd admin-key: libsodium could not initialise\n", stderr);
    return 1;
  }
  try {
    mysql::Connection connection(loaded->db, mysql::Account::app);
    mysql::MysqlAdminKeyStore store(connection);
    SystemClock clock;
    SodiumRandom random;
    AdminKeys keys(store, clock, random);
    if (action == "create") return create(keys, argc - 1, argv + 1);
    if (action == "list") return list(keys);
    return revoke(keys, argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "authd admin-key %.*s: failed: %s\n", static_cast<int>(action.size()),
                 action.data(), e.what());
    return 1;
  }
}

}  // namespace authd::cli
