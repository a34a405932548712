#pragma once
#include <optional>

#include "adapters/crypto/jwt_signer.h"
#include "auth/admin_service.h"
#include "auth/auth_service.h"
#include "config/config.h"

namespace authd::cli {

// The configuration for `purpose`, from the environment, with the log level
// applied; nullopt after printing the one line that names the variable and
// what is wrong with it (the command then exits 2).
std::optional<Config> load_config(ConfigPurpose purpose);

// Waits (bounded) for the database, then refuses an older schema than this
// binary needs, naming the command that fixes it. 0 when fine.
int check_schema(const Config& config);

// The service's policy, from the configuration.
ServicePolicy service_policy(const Config& config);
// The admin API's, likewise.
AdminPolicy admin_policy(const Config& config);

// The signing settings with key files read and the keys checked (a signer
// is built once to prove it); nullopt after printing one line on failure.
std::optional<JwtSettings> jwt_settings(const Config& config);

}  // namespace authd::cli
