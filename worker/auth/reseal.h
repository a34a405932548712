#pragma once
// Start-up pass of `authd serve` (and of `authd mailer` when it has the key:
// both check the schema at start, cli/startup.cpp): TOTP secrets sealed in the format before
// issue 17 (secretbox, not bound to their account) are sealed again with the
// user id as associated data (auth/sealed.h), so that only the current
// format is ever read while serving.
//
// Why at start-up and not in a SQL migration or lazily: a migration cannot
// open them (it runs with the schema account and without the key), and a
// lazy upgrade would have to keep accepting the unbound format for as long
// as one such row may exist, which is the weakness being closed. The pass
// runs before the pool forks, in pages, each row by compare-and-swap (an
// enrolment meanwhile wins), and finds nothing to do after the first run.
// Pools of the old and the new version cannot share a database during the
// upgrade (neither reads the other's newest rows): upgrade them together.
#include "auth/sealed.h"
#include "ports/mfa_store.h"

namespace authd {

struct ResealReport {
  unsigned resealed = 0;    // values now in the current format
  unsigned unreadable = 0;  // values neither format opens (another key): left as they are
};

ResealReport reseal_totp_secrets(MfaStore& mfa, const SealingKey& key, Random& random);

}  // namespace authd
