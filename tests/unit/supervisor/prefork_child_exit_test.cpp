// The master tells on_child_exit about every child it reaps, and whether the
// child died unexpectedly (replaced: the worker-restarts metric) or was
// asked to stop (the drain). A real master, real children, real signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "supervisor/prefork.h"

namespace authd::supervisor {
namespace {

struct Shared {
  std::atomic<int> children_started;
  std::atomic<int> unexpected;
  std::atomic<int> expected;
};

TEST(PreforkChildExit, UnexpectedDeathsAndDrainedChildrenAreToldApart) {
  void* mem =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = new (mem) Shared{};

  const pid_t master = fork();
  ASSERT_GE(master, 0);
  if (master == 0) {
    PreforkOptions options;
    options.groups = {ChildGroup{1, -1}};
    options.drain_timeout_s = 5;
    options.on_child_exit = [shared](pid_t, bool unexpected) {
      (unexpected ? shared->unexpected : shared->expected).fetch_add(1);
    };
    const int rc = run_prefork(options, [shared](const ChildSignals& signals, std::size_t) {
      // The first child dies at once; its replacement serves until stopped.
      if (shared->children_started.fetch_add(1) == 0) return 3;
      while (!*signals.stop_requested)
        sigsuspend(signals.idle_mask);
      return 0;
    });
    _exit(rc);
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (shared->children_started.load() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(shared->children_started.load(), 2) << "the dead child was replaced";
  kill(master, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(master, &status, 0), master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a clean drain";
  EXPECT_EQ(shared->unexpected.load(), 1);
  EXPECT_EQ(shared->expected.load(), 1);
  shared->~Shared();
  munmap(mem, sizeof(Shared));
}

// Two groups (the lanes): each is kept at its own size, and a child that dies
// is replaced in its own group, with its group's listening socket.
struct GroupsShared {
  std::atomic<int> started[2];
  std::atomic<int> running[2];
};

TEST(PreforkGroups, EachGroupIsKeptAtItsSizeAndADeadChildIsReplacedInItsGroup) {
  void* mem = mmap(nullptr, sizeof(GroupsShared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = new (mem) GroupsShared{};

  const pid_t master = fork();
  ASSERT_GE(master, 0);
  if (master == 0) {
    PreforkOptions options;
    options.groups = {ChildGroup{1, -1}, ChildGroup{2, -1}};
    options.drain_timeout_s = 5;
    const int rc = run_prefork(options, [shared](const ChildSignals& signals, std::size_t group) {
      // The first child of group 1 dies at once; everyone else serves.
      if (shared->started[group].fetch_add(1) == 0 && group == 1) return 3;
      shared->running[group].fetch_add(1);
      while (!*signals.stop_requested)
        sigsuspend(signals.idle_mask);
      shared->running[group].fetch_sub(1);
      return 0;
    });
    _exit(rc);
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((shared->running[0].load() < 1 || shared->running[1].load() < 2) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(shared->running[0].load(), 1);
  EXPECT_EQ(shared->running[1].load(), 2) << "the dead child was replaced in its group";
  EXPECT_EQ(shared->started[0].load(), 1) << "and not in the other";
  EXPECT_EQ(shared->started[1].load(), 3);
  kill(master, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(master, &status, 0), master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a clean drain";
  EXPECT_EQ(shared->running[0].load() + shared->running[1].load(), 0);
  shared->~GroupsShared();
  munmap(mem, sizeof(GroupsShared));
}

}  // namespace
}  // namespace authd::supervisor
