// Multi-process jobs: the environment a launcher gives each process (torchrun, Slurm's srun) and
// the key-value store of torch.distributed (c10d) that the processes of one job share.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace semsec::dist {

// What a launcher told this process. A plain command line is a job of one process.
struct JobEnv {
  std::string launcher;  // "" (one process), "torchrun" (RANK, WORLD_SIZE, ...) or "slurm" (SLURM_PROCID, ...)
  int64_t rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;
  int64_t master_port = 0;
  int64_t restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: how often torchrun restarted the workers
  bool agent_store = false;   // torchrun's agent hosts the store; every rank is its client
  bool multi_process() const { return world_size > 1; }
};

// Reads the job from `getenv` (std::getenv in production; a map in tests):
//   torchrun: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT,
//             TORCHELASTIC_USE_AGENT_STORE;
//   Slurm (without WORLD_SIZE): SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, with MASTER_ADDR (and
//             MASTER_PORT, default 29500) exported by the batch script.
// semsec::Error naming the variable when one is malformed, a rank is not below the world size, or
// a job of several processes has no MASTER_ADDR / MASTER_PORT.
JobEnv job_env(const std::function<const char*(const char*)>& getenv);
JobEnv job_env();

// The job's store, reached within `timeout` (semsec::Error naming the address otherwise). Under
// torchrun's agent store every rank is a client; otherwise rank 0 serves it. Keys live under
// "semsec/attempt_<restart count>/", so a job restarted by torchrun starts with fresh counters.
class Store {
 public:
  Store(const JobEnv& env, std::chrono::milliseconds timeout);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  void set(const std::string& key, const std::string& value);
  // Waits (up to the timeout) for the key, calling `while_waiting` (when given) every 50 ms until
  // it is there: a caller stops the wait by throwing from it (a signal, semsec::interrupt).
  std::string get(const std::string& key, const std::function<void()>& while_waiting = {});
  // Adds `delta` to an integer key (0 when missing) and returns the new value; atomic across ranks.
  int64_t add(const std::string& key, int64_t delta);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semsec::dist
