// The semsec command line: a table of commands (kCommands: name, synopsis, summary, run). Each
// command validates its arguments and its configuration up front and reports one clear error
// with a non-zero exit; the work itself lives in trainers/ and bench/.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench.h"
#include "cli/device.h"
#include "core/cli_args.h"
#include "core/config.h"
#include "core/distributed.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/clssr/experiment.h"
#include "trainers/link/link_command.h"
#include "trainers/ss_isac/export.h"
#include "trainers/ss_isac/grid.h"
#include "trainers/ss_isac/run.h"
#include "trainers/ss_isac/schema.h"
#include "trainers/ss_isac/sweep.h"
#include "trainers/ss_isac/sweep_command.h"

namespace semsec {
namespace {

// Resolves the configuration of a command that may resume: a new run takes CONFIG and
// overrides; a resumed run takes RUN_DIR/config.yaml and refuses a different configuration.
config::Config resolve_config(const config::Schema& schema, const CliArgs& args, bool resume,
                              const std::string& run_dir) {
  if (!resume) return config::Config::load(schema, args.positional.at(0), args.overrides);
  const std::string saved_path = fs::join(run_dir, "config.yaml");
  if (!fs::exists(saved_path)) fail("--resume {}: no config.yaml there; is it a semsec run directory?", run_dir);
  config::Config saved = config::Config::load(schema, saved_path, {});
  if (!args.positional.empty() || !args.overrides.empty()) {
    const config::Config given =
        config::Config::load(schema, args.positional.empty() ? saved_path : args.positional[0], args.overrides);
    for (const auto& key : schema.keys()) {
      if (!(given.get(key.path) == saved.get(key.path))) {
        fail(
            "--resume {}: {} differs from the saved configuration ({}); a resumed run must use the same "
            "configuration",
            run_dir, key.path, saved_path);
      }
    }
  }
  return saved;
}

// The run of a command that may resume (train, clssr): `--resume DIR` continues DIR with its
// config.yaml (refusing --out, and CONFIG or overrides that differ from it); a new run takes CONFIG
// and the overrides and a directory that holds no config.yaml yet (--out, or runs/NAME/TIME).
// Only reads and checks: the caller takes the directory (RunDirGuard).
struct ResumableRun {
  bool resume;
  std::string run_dir;
  config::Config cfg;
};

ResumableRun resumable_run(const std::string& command, const config::Schema& schema, const CliArgs& args,
                           const std::string& usage) {
  const bool resume = !args.option("--resume").empty();
  if (!resume && args.positional.empty()) fail("semsec {}: missing CONFIG (usage: {})", command, usage);
  if (resume && !args.option("--out").empty()) fail("semsec {}: --out and --resume exclude each other", command);
  std::string run_dir = args.option("--resume");
  if (resume && !fs::is_directory(run_dir)) fail("--resume {}: no such run directory", run_dir);
  config::Config cfg = resolve_config(schema, args, resume, run_dir);
  if (!resume) {
    const std::string out = args.option("--out");
    run_dir = new_run_dir(out, "config.yaml", cfg.get_string("experiment.name"),
                          fmt::format("continue it with '--resume {}' or ", out));
  }
  return ResumableRun{resume, std::move(run_dir), std::move(cfg)};
}

// What continues a run stopped by a signal: "semsec COMMAND --resume DIR [--device D]".
std::string resume_command(const std::string& command, const std::string& run_dir, torch::Device device) {
  return fmt::format("semsec {} --resume {}{}", command, run_dir,
                     device.is_cpu() ? std::string() : " --device " + device.str());
}

// A YAML scalar in double quotes (backslash and quote escaped).
std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int cmd_sweep(const std::vector<std::string>& argv);

int cmd_train(const std::vector<std::string>& argv_in) {
  // -m / --multirun (Hydra's spelling): the same arguments as a sweep.
  std::vector<std::string> argv;
  bool multirun = false;
  for (const std::string& a : argv_in) {
    if (a == "-m" || a == "--multirun") {
      multirun = true;
    } else {
      argv.push_back(a);
    }
  }
  if (multirun) return cmd_sweep(argv);
  CommandSpec spec;
  spec.name = "train";
  spec.usage =
      "semsec train CONFIG [key.path=value ...] [--out DIR] [--device auto|cpu|cuda[:N]] [--resume RUN_DIR]\n"
      "       semsec train -m CONFIG key.path=a,b ... (a sweep: the same as semsec sweep)";
  spec.description =
      "Trains the general semantic ISAC system (eq. 1-9) on the configured data, evaluates the azimuth and image "
      "MSE at every test SNR and writes summary.csv into the run directory.";
  spec.optional_positional = {"CONFIG"};
  spec.options = {{"--out", "run directory (default runs/<experiment.name>/<time>)"},
                  {"--device", "auto (default: a GPU when present, else cpu; or SEMSEC_DEVICE), cpu, cuda or cuda:N"},
                  {"--resume", "continue the interrupted run in RUN_DIR exactly where its checkpoint left off"}};
  const config::Schema schema = trainers::isac_schema();
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec) << "\nconfiguration keys (set in CONFIG or as key.path=value):\n"
              << schema.help_text();
    return 0;
  }
  {
    std::vector<trainers::SweepAxis> axes;
    std::vector<std::string> plain;
    trainers::split_sweep_args(args.overrides, axes, plain);
    if (!axes.empty()) {
      std::string given;
      for (const std::string& o : args.overrides) {
        if (config::parse_override(o).path == axes.front().key) given = o;
      }
      fail(
          "semsec train: '{}' lists several values (a sweep axis); run it with 'semsec train -m ...' or 'semsec "
          "sweep ...', or quote a single value that contains a comma ({}='\"a,b\"')",
          given, axes.front().key);
    }
  }
  const ResumableRun run = resumable_run("train", schema, args, spec.usage);
  const bool resume = run.resume;
  const std::string& run_dir = run.run_dir;
  const config::Config& cfg = run.cfg;
  const torch::Device device = device_option(args);
  // Everything above only read and checked; from here on the run directory is ours.
  const RunDirGuard guard(run_dir);
  if (!resume) {
    write_file_atomic(fs::join(run_dir, "config.yaml"), cfg.to_yaml());
    // The command line as given (Hydra's overrides.yaml): CONFIG, then every key=value.
    std::string record =
        fmt::format("config: {}\noverrides:{}\n", yaml_quote(args.positional[0]), args.overrides.empty() ? " []" : "");
    for (const std::string& o : args.overrides) record += fmt::format("  - {}\n", yaml_quote(o));
    write_file_atomic(fs::join(run_dir, "overrides.yaml"), record);
  }
  trainers::RunContext ctx = trainers::open_run(run_dir, device, resume, cfg.get_bool("output.tensorboard"));
  ctx.resume_command = resume_command("train", run_dir, device);
  interrupt::install();
  log::info("run directory {} (device {})", run_dir, device.str());
  trainers::run_train(cfg, ctx);
  log::info("done: {}/summary.csv", run_dir);
  return 0;
}

int cmd_sweep(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "sweep";
  spec.usage =
      "semsec sweep CONFIG key.path=a,b,c [other.key=x,y ...] [key=value ...] [--out DIR] [--device D] [--shard I/N]\n"
      "       semsec sweep --resume DIR [--device D] [--shard I/N]\n"
      "       semsec sweep --merge DIR";
  spec.description = fmt::format(
      "Hydra-style multirun: trains the Cartesian product of the axes (key=a,b,c, key='range(start, stop[, step])' "
      "or key='choice(a, b)'). Points that differ only in "
      "grid keys ({}) train together as one grid-batched model (up to sweep.max_grid points; 0 sizes ensembles "
      "from free memory); other keys make separate ensembles. The plan (DIR/plan.csv) is fixed when the sweep "
      "starts. Writes one summary.csv for the whole sweep. With --shard I/N (several processes or machines on one "
      "shared DIR, e.g. a Slurm job array) this process trains the ensembles e with e mod N = I; the last shard to "
      "finish, or --merge, writes the summary. Under torchrun or srun (several processes) the ranks claim "
      "ensembles from the job's store, --device cuda means cuda:LOCAL_RANK, and rank 0 writes the summary.",
      trainers::grid_keys_text());
  spec.optional_positional = {"CONFIG"};
  spec.options = {{"--out", "sweep directory (default runs/<experiment.name>/<time>; required with --shard)"},
                  {"--device", "auto (default: a GPU when present, else cpu; or SEMSEC_DEVICE), cpu, cuda or cuda:N"},
                  {"--resume", "continue an interrupted sweep in DIR"},
                  {"--shard", "I/N: train only the ensembles e with e mod N = I, in a shared sweep directory"},
                  {"--merge", "write DIR/summary.csv from its finished ensembles (after --shard runs)"},
                  {"--store-timeout", "seconds a rank of a multi-process job waits for the job's store (default 300)"}};
  const config::Schema schema = trainers::isac_schema();
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec) << "\nconfiguration keys:\n" << schema.help_text();
    return 0;
  }
  trainers::SweepCommand c;
  c.usage = spec.usage;
  if (!args.positional.empty()) c.config_file = args.positional[0];
  c.args = args.overrides;
  c.out = args.option("--out");
  c.resume_dir = args.option("--resume");
  c.merge_dir = args.option("--merge");
  c.shard = args.option("--shard");
  const std::string timeout = args.option("--store-timeout", "300");
  const auto [ptr, ec] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), c.store_timeout_s);
  if (ec != std::errc() || ptr != timeout.data() + timeout.size() || c.store_timeout_s < 1) {
    fail("--store-timeout {}: expected a whole number of seconds, at least 1", timeout);
  }
  if (c.merge_dir.empty()) c.device = device_option(args);
  trainers::run_sweep_command(c);
  return 0;
}

int cmd_export(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "export";
  spec.usage = "semsec export RUN_DIR [--out BASE] [--all] [--layout grid|torch] [--point G]";
  spec.description =
      "Writes the trained white-box ARN pair of RUN_DIR (with --all also the base system and Eve's classifier) as "
      "BASE.safetensors (with __metadata__: architecture, tau/PSR, train SNR, seed, version, naming scheme) and as "
      "BASE.pt, a name -> tensor dict that Python's torch.load reads. Default BASE: RUN_DIR/export/arn. --layout grid "
      "(the "
      "default) keeps the grid dimension (weight [G, in, out]); --layout torch writes one state dict per grid point "
      "named and shaped as nn.Sequential/nn.Linear modules (weight [out, in]) that python/semsec's modules load with "
      "strict=True, as BASE_p<g>.* (BASE.* for one point or --point G), each with BASE[_p<g>].check.safetensors: "
      "inputs and semsec's outputs of every exported network.";
  spec.positional = {"RUN_DIR"};
  spec.options = {{"--out", "output path without extension"},
                  {"--layout", "grid (default) or torch"},
                  {"--point", "with --layout torch: only this grid point (0-based)"}};
  spec.flags = {{"--all", "also export the base system and Eve's classifier"}};
  spec.takes_overrides = false;
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec);
    return 0;
  }
  const std::string run_dir = args.positional[0];
  const std::string base = args.option("--out", fs::join(fs::join(run_dir, "export"), "arn"));
  const std::string layout = args.option("--layout", "grid");
  if (layout != "grid" && layout != "torch") fail("--layout {}: expected grid or torch", layout);
  int64_t point = -1;
  if (!args.option("--point").empty()) {
    const std::string text = args.option("--point");
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), point);
    if (ec != std::errc() || ptr != text.data() + text.size() || point < 0) {
      fail("--point {}: expected a grid point index (0, 1, ...)", text);
    }
    if (layout != "torch") fail("--point {}: only with --layout torch (the grid layout holds every point)", text);
  }
  if (layout == "torch") {
    for (const trainers::ExportResult& r : trainers::export_run_torch(run_dir, base, args.flag("--all"), point)) {
      log::info("exported {} tensors to {} and {}", r.num_tensors, r.safetensors_path, r.state_dict_path);
    }
    return 0;
  }
  const trainers::ExportResult r = trainers::export_run(run_dir, base, args.flag("--all"));
  log::info("exported {} tensors to {} and {}", r.num_tensors, r.safetensors_path, r.state_dict_path);
  return 0;
}

// The shape of `link`: CONFIG [key=value ...] [--out DIR] [--device D] -> a new run
// directory with config.yaml, then `body`, whose main result file is `marker` (a directory that
// already holds it is refused).
int run_config_command(
    const CommandSpec& spec, const config::Schema& schema, const std::vector<std::string>& argv,
    const std::string& marker,
    const std::function<int(const config::Config&, const std::string&, torch::Device, const CliArgs&)>& body) {
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec) << "\nconfiguration keys:\n" << schema.help_text();
    return 0;
  }
  const config::Config cfg = config::Config::load(schema, args.positional[0], args.overrides);
  const torch::Device device = device_option(args);
  const std::string run_dir = new_run_dir(args.option("--out"), marker, cfg.get_string("experiment.name"), "");
  const RunDirGuard guard(run_dir);
  write_file_atomic(fs::join(run_dir, "config.yaml"), cfg.to_yaml());
  const int rc = body(cfg, run_dir, device, args);
  log::info("done: {}", fs::join(run_dir, marker));
  return rc;
}

int cmd_link(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "link";
  spec.usage = "semsec link CONFIG [key.path=value ...] [--out DIR] [--device auto|cpu|cuda[:N]]";
  spec.description =
      "Monte-Carlo bit error rate of QPSK over AWGN and SISO Rayleigh, of Alamouti 2x1 / 2x2, transmit "
      "beamforming and beamformed Alamouti over an Eb/N0 grid, next to the closed-form BER; writes link.csv "
      "(scheme,ebn0_db,ber,n_bits,bit_errors,ber_theory).";
  spec.positional = {"CONFIG"};
  spec.options = {{"--out", "run directory (default runs/<experiment.name>/<time>)"},
                  {"--device", "auto (default: a GPU when present, else cpu; or SEMSEC_DEVICE), cpu, cuda or cuda:N"}};
  return run_config_command(spec, trainers::link_schema(), argv, "link.csv",
                            [](const config::Config& cfg, const std::string& run_dir, torch::Device device,
                               const CliArgs&) { return trainers::run_link(cfg, run_dir, device); });
}

int cmd_clssr(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "clssr";
  spec.usage =
      "semsec clssr CONFIG [key.path=value ...] [--out DIR] [--device auto|cpu|cuda[:N]] [--python PY]\n"
      "       semsec clssr --resume RUN_DIR [--device D] [--python PY]";
  spec.description =
      "The CLSSR paper end to end: trains the semantic codec (one per index width b, with learnable semantic "
      "noise), then for every method (cl_ss, pl_ss: policy iteration learning the beam and b of each task from "
      "its own interaction with simulated links; ao, ao_stat: alternating optimisation with exact or statistical "
      "CSI of the Eves), antenna set (mimo, miso) and noise factor tau scores the allocator. Writes codec.csv, "
      "episodes.csv (task reliability per episode, Fig. 2), summary.csv (CLSSR per tau, Fig. 3), codec.ckpt, "
      "metrics.csv (the codec's training curves) and fig2.png / fig3.png when python with matplotlib is available.";
  spec.optional_positional = {"CONFIG"};
  spec.options = {{"--out", "run directory (default runs/<experiment.name>/<time>)"},
                  {"--device", "auto (default: a GPU when present, else cpu; or SEMSEC_DEVICE), cpu, cuda or cuda:N"},
                  {"--python", "python with matplotlib for the figures (default: the build's venv)"},
                  {"--resume",
                   "continue the interrupted run in RUN_DIR: the codec from its checkpoints, the agents "
                   "from the start"}};
  const config::Schema schema = trainers::clssr_schema();
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec) << "\nconfiguration keys:\n" << schema.help_text();
    return 0;
  }
  const ResumableRun run = resumable_run("clssr", schema, args, spec.usage);
  const torch::Device device = device_option(args);
  const RunDirGuard guard(run.run_dir);
  if (!run.resume) write_file_atomic(fs::join(run.run_dir, "config.yaml"), run.cfg.to_yaml());
  trainers::ClssrOptions o;
  o.python = args.option("--python", SEMSEC_PYTHON_EXE);
  o.source_dir = SEMSEC_SOURCE_DIR;
  o.resume = run.resume;
  o.resume_command = resume_command("clssr", run.run_dir, device);
  interrupt::install();  // the codec stages and the agent loops stop at the next step or episode
  const int rc = trainers::run_clssr(run.cfg, run.run_dir, device, o);
  log::info("done: {}", fs::join(run.run_dir, "summary.csv"));
  return rc;
}

int cmd_bench(const std::vector<std::string>& argv) {
  CommandSpec spec;
  spec.name = "bench";
  spec.usage =
      "semsec bench [--quick] [--device auto|cpu|cuda[:N]] [--out DIR] [--python PY] [--only GROUPS] [--grids LIST]";
  spec.description =
      "Measures side by side in one run: the fused channel kernel vs the same channel in ATen ops, the semsec "
      "general and ARN training steps vs the plain PyTorch script bench/baseline.py, grids of G = 1, 4, 16, 64 vs "
      "G sequential runs, the FLOP floor, and make_batch and link-level BER throughput (io). Prints medians and "
      "ratios and writes DIR/bench.csv.";
  spec.options = {
      {"--device", "auto (default: a GPU when present, else cpu; or SEMSEC_DEVICE), cpu, cuda or cuda:N"},
      {"--out", "directory for bench.csv (default .)"},
      {"--python", "python with torch for the baseline (default: the build's venv)"},
      {"--only", "comma-separated groups to run: channel, loss, steps, grids, floor, io, store (default all)"},
      {"--grids", "comma-separated grid sizes G for the grids group (default 1,4,16,64; --quick on a CPU 1,4)"}};
  spec.flags = {{"--quick", "fewer repetitions and grids"}};
  spec.takes_overrides = false;
  const CliArgs args = parse_cli(spec, argv);
  if (args.help) {
    std::cout << command_help(spec);
    return 0;
  }
  bench::BenchOptions o;
  o.device = device_option(args);
  o.quick = args.flag("--quick");
  o.out_dir = args.option("--out", ".");
  o.python = args.option("--python", SEMSEC_PYTHON_EXE);
  o.source_dir = SEMSEC_SOURCE_DIR;
  auto split = [](const std::string& text) {
    std::vector<std::string> items;
    for (size_t start = 0; start < text.size();) {
      const size_t comma = std::min(text.find(',', start), text.size());
      if (comma > start) items.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return items;
  };
  const std::vector<std::string> groups{"channel", "loss", "steps", "grids", "floor", "io", "store"};
  for (const std::string& g : split(args.option("--only", ""))) {
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) {
      fail("--only {}: unknown group; expected a comma-separated list of channel, loss, steps, grids, floor, io, store",
           g);
    }
    o.only.push_back(g);
  }
  for (const std::string& g : split(args.option("--grids", ""))) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), value);
    if (ec != std::errc() || end != g.data() + g.size() || value < 1 || value > 4096) {
      fail("--grids {}: expected a comma-separated list of grid sizes, integers from 1 to 4096", g);
    }
    if (std::find(o.grids.begin(), o.grids.end(), value) != o.grids.end()) {
      fail("--grids {}: listed twice (each grid size is one set of rows in bench.csv)", g);
    }
    o.grids.push_back(value);
  }
  return bench::run_bench(o);
}

int cmd_help(const std::vector<std::string>& argv);

// Every command: its name, its synopsis and summary for the top-level help, and what runs it.
struct Command {
  const char* name;
  const char* synopsis;
  const char* summary;
  int (*run)(const std::vector<std::string>& argv);
};

const Command kCommands[] = {
    {"train", "CONFIG [key=value ...]", "train and evaluate one SS-ISAC configuration", cmd_train},
    {"sweep", "CONFIG key=a,b,c ...", "train a whole grid (Cartesian product) as grid-batched ensembles", cmd_sweep},
    {"export", "RUN_DIR [--out BASE]", "trained ARNs (and --all: base system, Eve) as safetensors + torch state dict",
     cmd_export},
    {"link", "CONFIG [key=value ...]", "link-level BER of QPSK/Alamouti schemes over an Eb/N0 grid", cmd_link},
    {"clssr", "CONFIG [key=value ...]", "cross-layer semantic security: codec, RL allocator, baselines (Fig. 2/3)",
     cmd_clssr},
    {"bench", "[--quick] [--device D]", "side-by-side benchmarks (bench.csv)", cmd_bench},
    {"help", "[COMMAND]", "this text, or the help of one command (with its config keys)", cmd_help},
};

std::string top_help() {
  std::string s =
      "semsec — GPU batch training for secure semantic communications\n\nusage: semsec COMMAND "
      "[ARGS...]\n\ncommands:\n";
  for (const Command& c : kCommands)
    s += fmt::format("  {:<31}{}\n", fmt::format("{} {}", c.name, c.synopsis), c.summary);
  return s + "\nRun 'semsec COMMAND --help' for the options and every configuration key of a command.\n";
}

const Command* find_command(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  std::string names;
  for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
  fail("unknown command '{}' (commands: {}; see 'semsec --help')", name, names);
}

int cmd_help(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    std::cout << top_help();
    return 0;
  }
  return find_command(argv[0])->run({"--help"});
}

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << top_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "semsec " << SEMSEC_VERSION << "\n";
    return 0;
  }
  return find_command(args[0])->run(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace
}  // namespace semsec

int main(int argc, char** argv) {
  semsec::keep_freed_memory();
  try {
    return semsec::dispatch(argc, argv);
  } catch (const semsec::interrupt::Interrupted& e) {
    std::cerr << "semsec: " << e.what() << "\n";
    return 128 + e.signal();
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
