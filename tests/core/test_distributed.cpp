// The job environment of torchrun and Slurm, and the c10d store the ranks share: parsing, every
// error case with its message, and the store's set / get / add between a server and its clients.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/distributed.h"
#include "tests/test_util.h"

namespace semsec::dist {
namespace {

using Vars = std::map<std::string, std::string>;

JobEnv parse(const Vars& vars) {
  return job_env([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

// A TCP port that nothing listens on (bound, read, closed).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(JobEnv, APlainCommandIsAJobOfOneProcess) {
  const JobEnv env = parse({});
  EXPECT_EQ(env.launcher, "");
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.multi_process());
  // torchrun --nproc-per-node=1 and a one-task Slurm step need no store either.
  EXPECT_FALSE(parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).multi_process());
  EXPECT_FALSE(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).multi_process());
}

TEST(JobEnv, ReadsTorchrun) {
  const JobEnv env = parse({{"RANK", "3"},
                            {"WORLD_SIZE", "4"},
                            {"LOCAL_RANK", "1"},
                            {"MASTER_ADDR", "node7"},
                            {"MASTER_PORT", "29400"},
                            {"TORCHELASTIC_RESTART_COUNT", "2"},
                            {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                            {"SLURM_PROCID", "0"},  // torchrun's variables win inside a Slurm job
                            {"SLURM_NTASKS", "1"}});
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29400);
  EXPECT_EQ(env.restart_count, 2);
  EXPECT_TRUE(env.agent_store);
  EXPECT_FALSE(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}).agent_store);
}

TEST(JobEnv, ReadsSlurmWithTheExportedMasterAddress) {
  const JobEnv env =
      parse({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}, {"MASTER_ADDR", "n01"}});
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_port, 29500);  // the default when the batch script exports none
  EXPECT_FALSE(env.agent_store);      // rank 0 serves the store
}

TEST(JobEnv, BadEnvironmentsNameTheVariable) {
  const Vars ok{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "29500"}};
  auto with = [&](const Vars& changes, const std::vector<std::string>& erase = {}) {
    Vars v = ok;
    for (const auto& [k, x] : changes) v[k] = x;
    for (const auto& k : erase) v.erase(k);
    return v;
  };
  const std::vector<std::pair<Vars, std::vector<std::string>>> cases{
      {with({}, {"MASTER_ADDR"}), {"MASTER_ADDR is not set", "2 processes"}},
      {with({}, {"MASTER_PORT"}), {"MASTER_PORT is not set"}},
      {with({{"MASTER_PORT", "70000"}}), {"MASTER_PORT=70000", "1-65535"}},
      {with({{"RANK", "2"}}), {"RANK=2 is not below WORLD_SIZE=2"}},
      {with({{"RANK", "-1"}}), {"RANK=-1 is not below WORLD_SIZE=2"}},
      {with({{"WORLD_SIZE", "two"}}), {"WORLD_SIZE='two': expected an integer"}},
      {with({{"WORLD_SIZE", "0"}}), {"WORLD_SIZE=0: expected at least 1"}},
      {with({{"LOCAL_RANK", "1x"}}), {"LOCAL_RANK='1x'"}},
      {with({}, {"RANK"}), {"WORLD_SIZE is set but RANK is not"}},
      {{{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}, {"MASTER_ADDR", "n"}},
       {"SLURM_PROCID=4 is not below SLURM_NTASKS=4"}},
      {{{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}}, {"MASTER_ADDR is not set", "export the first node"}},
  };
  for (const auto& [vars, needles] : cases) {
    SCOPED_TRACE(needles.front());
    testing::expect_error([&] { parse(vars); }, needles);
  }
}

TEST(Store, RanksShareKeysAndAnAtomicCounter) {
  const int port = free_port();
  JobEnv server{"slurm", 0, 3, 0, "127.0.0.1", port, 0, false};
  Store s0(server, std::chrono::seconds(20));
  std::vector<std::unique_ptr<Store>> clients;
  for (int r = 1; r < 3; ++r) {
    JobEnv e = server;
    e.rank = r;
    clients.push_back(std::make_unique<Store>(e, std::chrono::seconds(20)));
  }
  s0.set("plan", "a,b\n1,2\n");
  EXPECT_EQ(clients[1]->get("plan"), "a,b\n1,2\n");
  // Three ranks claim 300 items: every item exactly once.
  std::vector<std::vector<int64_t>> claimed(3);
  std::vector<std::thread> threads;
  std::vector<Store*> stores{&s0, clients[0].get(), clients[1].get()};
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      for (;;) {
        const int64_t i = stores[static_cast<size_t>(r)]->add("next", 1) - 1;
        if (i >= 300) break;
        claimed[static_cast<size_t>(r)].push_back(i);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& c : claimed) {
    all.insert(c.begin(), c.end());
    total += c.size();
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(*all.rbegin(), 299);
  EXPECT_EQ(s0.add("next", 0), 303);  // each rank's last claim overshot once
  // A restarted job (torchrun's next attempt) sees fresh keys.
  JobEnv again = server;
  again.rank = 1;
  again.restart_count = 1;
  Store s1(again, std::chrono::seconds(20));
  EXPECT_EQ(s1.add("next", 0), 0);
}

TEST(Store, AnUnreachableStoreFailsWithinTheTimeoutNamingTheAddress) {
  const int port = free_port();
  const JobEnv client{"torchrun", 1, 2, 1, "127.0.0.1", port, 0, true};
  const auto start = std::chrono::steady_clock::now();
  testing::expect_error(
      [&] { Store s(client, std::chrono::seconds(2)); },
      {"rank 1 of 2: cannot reach the job's store at 127.0.0.1:" + std::to_string(port), "within 2 s"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(Store, AKeyThatNeverComesFailsAfterTheTimeout) {
  const int port = free_port();
  const JobEnv server{"slurm", 0, 2, 0, "127.0.0.1", port, 0, false};
  Store s(server, std::chrono::seconds(1));
  testing::expect_error([&] { s.get("plan"); }, {"no 'plan' within the timeout"});
}

TEST(Store, AWaitCallsItsCallbackUntilTheKeyComesAndEndsWhenTheCallbackThrows) {
  const int port = free_port();
  const JobEnv server{"slurm", 0, 2, 0, "127.0.0.1", port, 0, false};
  const JobEnv client{"slurm", 1, 2, 0, "127.0.0.1", port, 0, false};
  Store s(server, std::chrono::seconds(20));
  Store other(client, std::chrono::seconds(20));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    other.set("plan", "p");
  });
  int calls = 0;
  EXPECT_EQ(s.get("plan", [&] { ++calls; }), "p");
  writer.join();
  EXPECT_GT(calls, 0);
  // A rank's signal check throws from the callback: the wait ends then, not at the 20 s timeout.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(s.get("never", [] { throw std::runtime_error("stopped"); }), std::runtime_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace semsec::dist
