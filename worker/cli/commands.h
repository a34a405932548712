#pragma once
// The subcommands of the `authd` binary. Each returns the process exit
// status: 0 success, 1 failure, 2 bad configuration or usage.
namespace authd::cli {

int serve();
int migrate();

}  // namespace authd::cli
