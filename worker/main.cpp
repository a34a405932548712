// authd: the worker pool (`serve`), the schema migrator (`migrate`), and the
// operator commands. Wiring only; each room lives in its own folder.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/commands.h"

namespace {

void usage(std::FILE* out) {
  std::fputs(
      "usage: authd <command>\n"
      "\n"
      "commands:\n"
      "  serve     run the FastCGI worker pool (configured by environment variables)\n"
      "  migrate   apply pending database migrations (MYSQL_MIGRATE_USER's rights)\n"
      "  mailer    deliver queued emails (verification, password reset) from the outbox\n"
      "  user      operator actions: disable|enable|revoke-sessions|unlock|mfa-reset EMAIL\n"
      "  admin-key admin API keys: create --name NAME --scopes SCOPES | list | revoke NAME\n"
      "  help      show this text\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "serve") return authd::cli::serve();
  if (command == "migrate") return authd::cli::migrate();
  if (command == "mailer") return authd::cli::mailer();
  if (command == "user") return authd::cli::user(argc - 2, argv + 2);
  if (command == "admin-key") return authd::cli::admin_key(argc - 2, argv + 2);
  if (command == "help" || command == "--help" || command == "-h") {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "authd: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
