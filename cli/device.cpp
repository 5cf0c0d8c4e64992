// Device selection of the commands.
#include "cli/device.h"

#include <cstdlib>

#include "core/distributed.h"
#include "core/errors.h"
#include "core/progress.h"

namespace semsec {

torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (text.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(text.substr(5), &used);
        if (used != text.size() - 5 || index < 0) throw std::invalid_argument("index");
      } catch (const std::exception&) {
        fail("--device {}: expected cpu, cuda or cuda:N with N a device index", text);
      }
    }
    if (!torch::cuda::is_available()) fail("--device {}: no CUDA device is available on this machine", text);
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count) fail("--device {}: only {} CUDA device(s) present", text, count);
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  fail("--device {}: expected cpu, cuda or cuda:N", text);
}

torch::Device device_option(const CliArgs& args) {
  const char* env = std::getenv("SEMSEC_DEVICE");
  const bool from_env = args.option("--device").empty() && env != nullptr && *env != '\0';
  const std::string text = args.option("--device", from_env ? env : "auto");
  const dist::JobEnv job = dist::job_env();
  if (text == "cuda" && job.multi_process()) {
    // One GPU per process: plain cuda is the process's local GPU.
    return parse_device(fmt::format("cuda:{}", job.local_rank));
  }
  if (text != "auto") {
    try {
      return parse_device(text);
    } catch (const Error& e) {
      if (from_env) fail("environment variable SEMSEC_DEVICE={}: {}", text, e.what());
      throw;
    }
  }
  if (!torch::cuda::is_available()) {
    log::info("device auto: cpu (no CUDA device present)");
    return torch::kCPU;
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  const int64_t index = job.multi_process() ? job.local_rank : 0;
  if (index >= count) fail("device auto: local rank {} but only {} CUDA device(s) present", index, count);
  log::info("device auto: cuda:{} ({} CUDA device(s) present)", index, count);
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace semsec
