// SIGINT / SIGTERM: a flag first, the default action on the second.
#include "core/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

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

void stop_if_pending(const std::string& where, const std::string& advice) {
  if (const int signal = pending(); signal != 0)
    throw Interrupted(fmt::format("stopped by signal {} {}; {}", signal, where, advice), signal);
}

namespace {

// SEMSEC_TEST_HOOK_ONCE: true unless the marker file exists already (created here, exclusively).
bool hook_may_fire() {
  static const char* once = std::getenv("SEMSEC_TEST_HOOK_ONCE");
  if (once == nullptr) return true;
  const int fd = ::open(once, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

void test_hooks_at_step(const std::string& stage, long long step) {
  static const char* kill_at = std::getenv("SEMSEC_TEST_KILL_AT_STEP");
  if (kill_at != nullptr && std::string(kill_at) == fmt::format("{}:{}", stage, step) && hook_may_fire()) {
    std::raise(SIGKILL);
  }
  static const char* sig = std::getenv("SEMSEC_TEST_SIGNAL_AT_STEP");
  if (sig == nullptr) return;
  const std::string prefix = fmt::format("{}:{}:", stage, step);
  if (std::string(sig).rfind(prefix, 0) == 0 && hook_may_fire()) {
    const int number = std::atoi(sig + prefix.size());
    std::raise(number);
    if (std::string(sig).ends_with("x2")) std::raise(number);
  }
}

}  // namespace semsec::interrupt
