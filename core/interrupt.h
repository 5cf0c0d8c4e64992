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

}  // namespace semsec::interrupt
