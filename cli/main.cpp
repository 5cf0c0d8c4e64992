// The semsec command line: train, link, ... Each command validates its arguments and its
// configuration up front and reports one clear error with a non-zero exit.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/cli_args.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/gs_isac_trainer.h"
#include "trainers/isac_schema.h"


namespace semsec {
namespace {

const char* kTopHelp = R"(semsec — GPU batch training for secure semantic communications

usage: semsec COMMAND [ARGS...]

commands:
  train CONFIG [key=value ...]   train and evaluate one SS-ISAC configuration
  link CONFIG [key=value ...]    link-level BER of QPSK/Alamouti schemes over an Eb/N0 grid
  help [COMMAND]                 this text, or the help of one command (with its config keys)

Run 'semsec COMMAND --help' for the options and every configuration key of a command.
)";

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

// Resolves the configuration of a command that may resume: a new run takes CONFIG and
// overrides; a resumed run takes RUN_DIR/config.yaml and refuses a different configuration.
config::Config resolve_config(const config::Schema& schema, const CliArgs& args, bool resume, const std::string& run_dir) {
  if (!resume) return config::Config::load(schema, args.positional.at(0), args.overrides);
  const std::string saved_path = fs::join(run_dir, "config.yaml");
  if (!fs::exists(saved_path)) fail("--resume {}: no config.yaml there; is it a semsec run directory?", run_dir);
  config::Config saved = config::Config::load(schema, saved_path, {});
  if (!args.positional.empty() || !args.overrides.empty()) {
    const config::Config given =
        config::Config::load(schema, args.positional.empty() ? saved_path : args.positional[0], args.overrides);
    for (const auto& key : schema.keys()) {
      if (!(given.get(key.path) == saved.get(key.path))) {
        fail("--resume {}: {} differs from the saved configuration ({}); a resumed run must use the same "
             "configuration",
             run_dir, key.path, saved_path);
      }
    }
  }
  return saved;
}

int cmd_train(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "train";
  spec.usage = "semsec train CONFIG [key.path=value ...] [--out DIR] [--device cpu|cuda[:N]] [--resume RUN_DIR]";
  spec.description =
      "Trains the general semantic ISAC system (eq. 1-9) on the configured data, evaluates the azimuth and image "
      "MSE at every test SNR and writes summary.csv into the run directory.";
  spec.optional_positional = {"CONFIG"};
  spec.options = {{"--out", "run directory (default runs/<experiment.name>/<time>)"},
                  {"--device", "cpu (default), cuda or cuda:N"},
                  {"--resume", "continue the interrupted run in RUN_DIR exactly where its checkpoint left off"}};
  const config::Schema schema = trainers::isac_schema();
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec) << "\nconfiguration keys (set in CONFIG or as key.path=value):\n" << schema.help_text();
    return 0;
  }
  const bool resume = !args.option("--resume").empty();
  if (!resume && args.positional.empty()) fail("semsec train: missing CONFIG (usage: {})", spec.usage);
  if (resume && !args.option("--out").empty()) fail("semsec train: --out and --resume exclude each other");
  std::string run_dir = args.option("--resume");
  if (resume && !fs::is_directory(run_dir)) fail("--resume {}: no such run directory", run_dir);
  const config::Config cfg = resolve_config(schema, args, resume, run_dir);
  const torch::Device device = parse_device(args.option("--device", "cpu"));
  if (!resume) {
    const std::string out = args.option("--out");
    if (!out.empty() && fs::exists(fs::join(out, "config.yaml"))) {
      fail("--out {}: already holds a run; continue it with '--resume {}' or choose another directory", out, out);
    }
    run_dir = make_run_dir(out, cfg.get_string("experiment.name"));
    write_file_atomic(fs::join(run_dir, "config.yaml"), cfg.to_yaml());
  }
  trainers::RunContext ctx;
  ctx.run_dir = run_dir;
  ctx.device = device;
  ctx.metrics = std::make_unique<trainers::MetricsLog>(fs::join(run_dir, "metrics.csv"));
  if (resume) ctx.metrics->load_existing();
  if (cfg.get_bool("output.tensorboard")) ctx.tb = std::make_unique<tb::EventWriter>(run_dir);
  log::info("run directory {} (device {})", run_dir, device.str());
  trainers::run_train(cfg, ctx);
  log::info("done: {}/summary.csv", run_dir);
  return 0;
}

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kTopHelp;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "semsec " << SEMSEC_VERSION << "\n";
    return 0;
  }
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "help") {
    if (rest.empty()) {
      std::cout << kTopHelp;
      return 0;
    }
    cmd = rest[0];
    rest = {"--help"};
  }
  if (cmd == "train") return cmd_train(rest);
  fail("unknown command '{}' (commands: train, link, help; see 'semsec --help')", cmd);
}

}  // namespace
}  // namespace semsec

int main(int argc, char** argv) {
  try {
    return semsec::dispatch(argc, argv);
  } catch (const semsec::Error& e) {
    std::cerr << "semsec: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "semsec: error: " << e.what_without_backtrace() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "semsec: error: " << e.what() << "\n";
    return 3;
  }
}
