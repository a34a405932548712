#pragma once
// The subcommands of the `authd` binary. Each returns the process exit
// status: 0 success, 1 failure, 2 bad configuration or usage.
namespace authd::cli {

int serve();
int migrate();
// The outbox's delivery process (cli/mailer.cpp).
int mailer();
// argv: the words after `user` (action, email).
int user(int argc, char** argv);
// argv: the words after `admin-key` (cli/admin_key.cpp).
int admin_key(int argc, char** argv);

}  // namespace authd::cli
