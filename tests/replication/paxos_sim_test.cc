// Randomized, deterministic simulation of Paxos groups under faults (paxos_sim.h).
//
// Environment:
//   KEEL_PAXOS_SEEDS=N   run N seeds per simulation test instead of the default
//   KEEL_PAXOS_SEED=S    run only seed S (in whichever test owns it) and trace it
//   KEEL_PAXOS_TRACE=1   print the event trace of every run (use with a single seed)
// A failing seed is printed with a one-line command that reproduces it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "tests/replication/paxos_sim.h"

namespace keel::replication::sim {
namespace {

// Seeds of different tests live in different ranges so that KEEL_PAXOS_SEED is unambiguous.
constexpr uint64_t kThreeBase = 1;
constexpr uint64_t kFiveBase = 1000000;
constexpr uint64_t kMembershipBase = 2000000;
constexpr uint64_t kRangeSize = 1000000;

std::optional<uint64_t> EnvU64(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}

struct Outcome {
  int seeds = 0;
  int failures = 0;
  SimStats totals;
};

void RunSeeds(const std::string& test, SimOptions base, uint64_t first_seed, int default_count) {
  Outcome out;
  const std::optional<uint64_t> only = EnvU64("KEEL_PAXOS_SEED");
  const bool trace = EnvU64("KEEL_PAXOS_TRACE").value_or(0) != 0;
  uint64_t count = EnvU64("KEEL_PAXOS_SEEDS").value_or(static_cast<uint64_t>(default_count));
  uint64_t start = first_seed;
  if (only) {
    if (*only < first_seed || *only >= first_seed + kRangeSize) {
      GTEST_SKIP() << "KEEL_PAXOS_SEED belongs to another test";
    }
    start = *only;
    count = 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t seed = start; seed < start + count; ++seed) {
    SimOptions opts = base;
    opts.seed = seed;
    opts.trace = trace || only.has_value();
    SimResult r = Simulation(opts).Run();
    ++out.seeds;
    out.totals.writes_acked += r.stats.writes_acked;
    out.totals.reads_acked += r.stats.reads_acked;
    out.totals.crashes += r.stats.crashes;
    out.totals.elections += r.stats.elections;
    out.totals.messages += r.stats.messages;
    out.totals.snapshots_installed += r.stats.snapshots_installed;
    out.totals.members_added += r.stats.members_added;
    out.totals.members_removed += r.stats.members_removed;
    if (!r.ok) {
      ++out.failures;
      ADD_FAILURE() << "seed " << seed << " failed: " << r.failure << "\n  reproduce: "
                    << "KEEL_PAXOS_SEED=" << seed
                    << " tests/keel_replication_tests --gtest_filter=PaxosSimulation." << test;
      if (out.failures >= 3) break;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ sim      ] " << test << ": " << out.seeds << " seeds in " << secs << " s; "
            << out.totals.writes_acked << " writes, " << out.totals.reads_acked << " reads, "
            << out.totals.elections << " elections, " << out.totals.crashes << " crashes, "
            << out.totals.snapshots_installed << " snapshots installed, "
            << out.totals.members_added << " added / " << out.totals.members_removed
            << " removed members, " << out.totals.messages << " messages\n";
}

TEST(PaxosSimulation, ThreeReplicaGroupsStaySafeAndLiveUnderFaults) {
  SimOptions opts;
  opts.replicas = 3;
  RunSeeds("ThreeReplicaGroupsStaySafeAndLiveUnderFaults", opts, kThreeBase, 1500);
}

TEST(PaxosSimulation, FiveReplicaGroupsStaySafeAndLiveUnderFaults) {
  SimOptions opts;
  opts.replicas = 5;
  RunSeeds("FiveReplicaGroupsStaySafeAndLiveUnderFaults", opts, kFiveBase, 800);
}

TEST(PaxosSimulation, MembershipChangesStaySafeAndLiveUnderFaults) {
  SimOptions opts;
  opts.replicas = 3;
  opts.membership_changes = true;
  RunSeeds("MembershipChangesStaySafeAndLiveUnderFaults", opts, kMembershipBase, 1000);
}

TEST(PaxosSimulation, SameSeedReproducesTheSameRun) {
  for (uint64_t seed : {7u, 1000007u}) {
    SimOptions opts;
    opts.seed = seed;
    opts.replicas = seed > kFiveBase ? 5 : 3;
    SimResult a = Simulation(opts).Run();
    SimResult b = Simulation(opts).Run();
    EXPECT_EQ(a.ok, b.ok);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_EQ(a.stats.messages, b.stats.messages);
    EXPECT_EQ(a.stats.final_commit, b.stats.final_commit);
  }
}

// The checkers are only worth something if they fail on broken systems. These run hosts that
// violate the contract and expect the simulation to notice within a few seeds.
int FailingSeeds(SimOptions opts, int seeds) {
  int failed = 0;
  for (int i = 0; i < seeds; ++i) {
    opts.seed = 5000000 + i;
    if (!Simulation(opts).Run().ok) ++failed;
  }
  return failed;
}

TEST(PaxosSimulation, CheckersCatchReadsServedWithoutReadIndex) {
  SimOptions opts;
  opts.bug_local_reads = true;
  EXPECT_GT(FailingSeeds(opts, 30), 0);
}

TEST(PaxosSimulation, CheckersCatchAReplicaThatForgetsItsPromise) {
  SimOptions opts;
  opts.bug_forget_promise = true;
  EXPECT_GT(FailingSeeds(opts, 60), 0);
}

}  // namespace
}  // namespace keel::replication::sim
