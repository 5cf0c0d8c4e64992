// SIGINT and SIGTERM (what Slurm and Kubernetes send before they kill) for commands that can
// stop cleanly: the first signal only raises a flag, which the stage runner reads after every step
// to write a checkpoint and stop with Interrupted; a second signal ends the process at once.
#pragma once

#include <string>

#include "core/errors.h"

namespace semsec::interrupt {

// Installs the handlers (idempotent).
void install();

// The signal received since install(), 0 when none.
int pending();

// Thrown where a command stopped for a signal; main() exits with 128 + signal.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// For loops that keep no checkpoint: throws Interrupted("stopped by signal N <where>; <advice>")
// when a signal is pending.
void stop_if_pending(const std::string& where, const std::string& advice);

// Test hooks, read once from the environment: SEMSEC_TEST_KILL_AT_STEP=stage:step kills the process
// (SIGKILL, no clean-up) when `stage` reaches `step`, to prove that resuming gives the uninterrupted
// result; SEMSEC_TEST_SIGNAL_AT_STEP=stage:step:SIG raises signal SIG (a number) there, as Slurm's
// SIGTERM would arrive; with a suffix x2 it raises it twice (the impatient second signal). With
// SEMSEC_TEST_HOOK_ONCE=PATH a hook fires only in the process that creates PATH first (so a worker
// restarted by torchrun, or another rank, runs on).
void test_hooks_at_step(const std::string& stage, long long step);

}  // namespace semsec::interrupt
