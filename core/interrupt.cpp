// SIGINT / SIGTERM: a flag first, the default action on the second.
#include "core/interrupt.h"

#include <csignal>

namespace semsec::interrupt {
namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
  if (g_signal != 0) {
    // The second signal: no more waiting for the step to end (signal and raise are
    // async-signal-safe).
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
}

}  // namespace

void install() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int pending() { return static_cast<int>(g_signal); }

}  // namespace semsec::interrupt
