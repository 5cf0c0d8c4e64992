// The job environment and the c10d store (torch/csrc/distributed/c10d, shipped with LibTorch).
#include "core/distributed.h"

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/errors.h"

namespace semsec::dist {
namespace {

int64_t parse_int(const char* name, const char* text) {
  int64_t v = 0;
  const std::string_view s(text);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    fail("environment variable {}='{}': expected an integer", name, s);
  }
  return v;
}

}  // namespace

JobEnv job_env(const std::function<const char*(const char*)>& getenv) {
  JobEnv env;
  auto integer = [&](const char* name, int64_t fallback) {
    const char* v = getenv(name);
    return v == nullptr ? fallback : parse_int(name, v);
  };
  const char *rank_var = nullptr, *world_var = nullptr;
  if (getenv("WORLD_SIZE") != nullptr) {
    env.launcher = "torchrun";
    rank_var = "RANK";
    world_var = "WORLD_SIZE";
    if (getenv("RANK") == nullptr) fail("environment variable WORLD_SIZE is set but RANK is not");
    env.local_rank = integer("LOCAL_RANK", 0);
    env.restart_count = integer("TORCHELASTIC_RESTART_COUNT", 0);
    const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
    env.agent_store = agent != nullptr && (std::string_view(agent) == "True" || std::string_view(agent) == "true" ||
                                           std::string_view(agent) == "1");
  } else if (getenv("SLURM_NTASKS") != nullptr && getenv("SLURM_PROCID") != nullptr) {
    env.launcher = "slurm";
    rank_var = "SLURM_PROCID";
    world_var = "SLURM_NTASKS";
    env.local_rank = integer("SLURM_LOCALID", 0);
  } else {
    return env;
  }
  env.rank = integer(rank_var, 0);
  env.world_size = integer(world_var, 1);
  if (env.world_size < 1) fail("environment variable {}={}: expected at least 1", world_var, env.world_size);
  if (env.rank < 0 || env.rank >= env.world_size) {
    fail("environment variable {}={} is not below {}={}", rank_var, env.rank, world_var, env.world_size);
  }
  if (env.local_rank < 0) fail("the local rank ({}) is negative", env.local_rank);
  if (env.restart_count < 0) fail("environment variable TORCHELASTIC_RESTART_COUNT is negative");
  if (!env.multi_process()) {
    env.launcher.clear();  // a job of one process needs no store
    return env;
  }
  const char* addr = getenv("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    fail(
        "environment variable MASTER_ADDR is not set: a job of {} processes ({} {}) needs the address of its "
        "store (torchrun sets it; under Slurm export the first node's name in the batch script)",
        env.world_size, world_var, env.world_size);
  }
  env.master_addr = addr;
  const char* port = getenv("MASTER_PORT");
  if (port == nullptr && env.launcher == "torchrun") fail("environment variable MASTER_PORT is not set");
  env.master_port = port == nullptr ? 29500 : parse_int("MASTER_PORT", port);
  if (env.master_port < 1 || env.master_port > 65535) {
    fail("environment variable MASTER_PORT={}: expected a port (1-65535)", env.master_port);
  }
  return env;
}

JobEnv job_env() {
  return job_env([](const char* name) { return std::getenv(name); });
}

struct Store::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  std::chrono::milliseconds timeout{0};
};

Store::Store(const JobEnv& env, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(env.master_port);
  opts.isServer = !env.agent_store && env.rank == 0;
  opts.numWorkers = std::nullopt;
  opts.waitWorkers = false;
  opts.timeout = timeout;
  try {
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
    impl_->store = c10::make_intrusive<c10d::PrefixStore>(fmt::format("semsec/attempt_{}", env.restart_count), tcp);
  } catch (const c10::Error& e) {
    fail("rank {} of {}: cannot {} the job's store at {}:{} within {} s: {}", env.rank, env.world_size,
         opts.isServer ? "serve" : "reach", env.master_addr, env.master_port,
         std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), e.what_without_backtrace());
  }
}

Store::~Store() = default;

void Store::set(const std::string& key, const std::string& value) {
  impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string Store::get(const std::string& key, const std::function<void()>& while_waiting) {
  // Polled rather than one blocking get: a blocking get outlives a SIGTERM (its read restarts), so
  // a rank waiting for a rank that failed would stay until torchrun kills it 30 s later.
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  try {
    while (!impl_->store->check({key})) {
      if (while_waiting) while_waiting();
      if (std::chrono::steady_clock::now() >= deadline) {
        fail("the job's store: no '{}' within the timeout ({} s)", key,
             std::chrono::duration_cast<std::chrono::seconds>(impl_->timeout).count());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::vector<uint8_t> v = impl_->store->get(key);
    return std::string(v.begin(), v.end());
  } catch (const c10::Error& e) {
    fail("the job's store: cannot read '{}' ({})", key, e.what_without_backtrace());
  }
}

int64_t Store::add(const std::string& key, int64_t delta) {
  try {
    return impl_->store->add(key, delta);
  } catch (const c10::Error& e) {
    fail("the job's store: cannot update '{}' ({})", key, e.what_without_backtrace());
  }
}

}  // namespace semsec::dist
