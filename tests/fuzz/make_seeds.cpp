// Writes the seed corpora of the fuzz harnesses: valid files from the product's own writers and a
// few broken ones, each file a harness input (harness.h gives each harness's input layout).
//   cmake --build build --target fuzz_make_seeds && build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
// Inputs found by fuzzing that are not generated here are kept by hand (see README.md).
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <zlib.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/rundir.h"
#include "core/safetensors.h"
#include "datasets/idx.h"
#include "tests/fuzz/harness.h"
#include "trainers/engine/run_context.h"
#include "trainers/ss_isac/grid.h"
#include "trainers/ss_isac/schema.h"
#include "trainers/ss_isac/sweep.h"

namespace {

using semsec::fuzz::scratch_path;

std::string out_dir;

void put(const std::string& harness, const std::string& name, const std::string& bytes) {
  const std::string dir = out_dir + "/" + harness;
  ::mkdir(dir.c_str(), 0755);
  semsec::fuzz::write_bytes(dir + "/" + name, bytes.data(), bytes.size());
}

std::string slurp(const std::string& path) { return semsec::read_file(path); }

std::string with_prefix(char first, const std::string& rest) { return std::string(1, first) + rest; }

// --- config --------------------------------------------------------------------------------------

void config_seeds() {
  const semsec::config::Schema schema = semsec::trainers::isac_schema();
  put("config", "empty.yaml", "");
  put("config", "defaults.yaml", semsec::config::Config::defaults(schema).to_yaml());
  put("config", "small.yaml",
      "experiment:\n  name: \"a run\"\nseed: 7\ntrain:\n  lr: 2.5e-4\n  snr_db: -3.5\n"
      "eve:\n  hidden: [16, 8]\nchannel.beamformer: steer\n");
  put("config", "overrides.yaml",
      std::string("train:\n  lr: 0.001\n") + '\0' +
          "seed=3\ntrain.snr_db=10\neve.hidden=[4, 4]\nsecurity.arn_init='w.safetensors'\neve={hidden: [3], lr: 0.5}");
  put("config", "flow_strings.yaml",
      "{experiment: {name: 'x\\ty'}, security: {arn_init: \"/tmp/\\u00e9\\x01\", enabled: true}}\n");
  // Broken: unknown key, out of range, duplicate, wrong type, bad YAML, bad override.
  put("config", "bad_unknown_key.yaml", "train:\n  lrr: 1\n");
  put("config", "bad_range.yaml", "train:\n  lr: 11\n  adam_beta1: -0.5\n");
  put("config", "bad_duplicate.yaml", "seed: 1\nseed: 2\ntrain.lr: 1\ntrain: {lr: 2}\n");
  put("config", "bad_type.yaml", "eve:\n  hidden: 5\nseed: [1]\n");
  put("config", "bad_yaml.yaml", "train: [1, {\n  - &a *b\n\t: x\n");
  put("config", std::string("bad_override.yaml"), std::string("seed: 1\n") + '\0' + "noequals\n=5\nseed=0x10");
}

// --- idx -----------------------------------------------------------------------------------------

std::string idx_file(const std::vector<int64_t>& dims, bool gzip) {
  int64_t n = 1;
  for (const int64_t d : dims) n *= d;
  std::vector<uint8_t> data(static_cast<size_t>(n));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
  const std::string path = scratch_path(gzip ? "seed.gz" : "seed");
  semsec::data::write_idx(path, dims, data, gzip);
  return slurp(path);
}

std::string gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void idx_seeds() {
  const std::string images = idx_file({3, 4, 5}, false);
  const std::string labels = idx_file({6}, false);
  put("idx", "raw_images", with_prefix(0, images));
  put("idx", "raw_labels", with_prefix(0, labels));
  put("idx", "gz_images", with_prefix(1, idx_file({2, 7, 3}, true)));
  put("idx", "gz_labels", with_prefix(1, idx_file({9}, true)));
  put("idx", "zlib_images", with_prefix(3, images));  // the harness compresses it
  put("idx", "zlib_labels", with_prefix(3, labels));
  // An IDX file split into two gzip members (read as one), then a truncated stream.
  const std::string four = idx_file({4}, false);
  put("idx", "gz_two_members", with_prefix(1, gzip(four.substr(0, 6)) + gzip(four.substr(6))));
  const std::string gz = idx_file({4}, true);
  put("idx", "bad_gz_truncated", with_prefix(1, gz.substr(0, gz.size() / 2)));
  // Broken headers.
  put("idx", "bad_magic", with_prefix(0, std::string("\x01\x00\x08\x01\x00\x00\x00\x01\x05", 9)));
  put("idx", "bad_type", with_prefix(0, std::string("\x00\x00\x0d\x01\x00\x00\x00\x01\x05\x05\x05\x05", 12)));
  put("idx", "bad_zero_dim", with_prefix(0, std::string("\x00\x00\x08\x02\x00\x00\x00\x00\x00\x00\x00\x02", 12)));
  put("idx", "bad_absurd_dims",
      with_prefix(2, std::string("\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x10", 16)));
  put("idx", "bad_truncated", with_prefix(0, images.substr(0, images.size() - 3)));
  put("idx", "bad_trailing", with_prefix(2, labels + "xyz"));
}

// --- safetensors ---------------------------------------------------------------------------------

void safetensors_seeds() {
  const std::string path = scratch_path("seed.safetensors");
  auto write = [&](const std::string& name, const semsec::NamedTensorList& tensors,
                   const std::map<std::string, std::string>& meta) {
    semsec::write_safetensors(path, tensors, meta);
    put("safetensors", name, slurp(path));
  };
  write("empty", {}, {});
  write("one_f32", {{"arn.enc.fc0.weight", torch::arange(6, torch::kFloat32).reshape({1, 2, 3})}},
        {{"format", "semsec-weights-1"}});
  write("all_dtypes",
        {{"f64", torch::tensor({1.5, -2.0}, torch::kFloat64)},
         {"f16", torch::tensor({0.5f}, torch::kFloat16)},
         {"bf16", torch::tensor({3.0f, 4.0f}, torch::kBFloat16)},
         {"i64", torch::tensor({int64_t{-7}}, torch::kInt64)},
         {"i32", torch::tensor({1, 2, 3}, torch::kInt32)},
         {"i16", torch::tensor({5}, torch::kInt16)},
         {"i8", torch::tensor({-1, 1}, torch::kInt8)},
         {"u8", torch::tensor({255}, torch::kUInt8)},
         {"bool", torch::tensor({true, false})},
         {"scalar", torch::tensor(2.0f)},
         {"empty", torch::zeros({0, 3})}},
        {{"a", "1"}, {"b", "two"}});
  const std::string base = slurp(path);
  auto header_file = [](const std::string& json, const std::string& data) {
    std::string h = json;
    h.append((8 - h.size() % 8) % 8, ' ');
    const uint64_t n = h.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + h + data;
  };
  put("safetensors", "bad_truncated", base.substr(0, base.size() - 5));
  put("safetensors", "bad_short", std::string("\x10\x00\x00", 3));
  put("safetensors", "bad_huge_header", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  put("safetensors", "bad_offsets",
      header_file(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
          std::string(8, '\x01')));
  put("safetensors", "bad_shape_overflow",
      header_file(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                  std::string(8, 'x')));
  put("safetensors", "bad_bool", header_file(R"({"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", "\x01\x07"));
  put("safetensors", "bad_duplicate",
      header_file(
          R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
          "xy"));
  put("safetensors", "bad_metadata", header_file(R"({"__metadata__":{"k":1}})", ""));
}

// --- checkpoint ----------------------------------------------------------------------------------

void checkpoint_seeds() {
  const std::string path = scratch_path("seed.pt");
  auto save = [&](const std::string& name, const semsec::TensorMap& m) {
    semsec::save_tensors(path, m);
    put("checkpoint", name, slurp(path));
  };
  save("empty", {});
  save("stage", {{"stage.step", semsec::int_tensor(5)},
                 {"stage.total_steps", semsec::int_tensor(10)},
                 {"model.fc0.weight", torch::arange(6, torch::kFloat32).reshape({1, 2, 3})},
                 {"adam.v", torch::zeros({2}, torch::kFloat64)},
                 {"flags", torch::tensor({true, false})}});
  const std::string stage = slurp(path);
  save("bad_bool_bytes", {{"flags", torch::tensor({1, 7}, torch::kUInt8).view(torch::kBool)}});
  put("checkpoint", "bad_truncated", stage.substr(0, stage.size() / 2));
  put("checkpoint", "bad_not_zip", "PK\x03\x04 not really a zip archive");
  // A torch archive without semsec's index.
  torch::serialize::OutputArchive archive;
  archive.write("w", torch::ones({2, 2}));
  archive.save_to(path);
  put("checkpoint", "bad_no_index", slurp(path));
  // Index tensors a checkpoint can hold but save_tensors never writes: an expanded view (one
  // stored byte, 64 elements) and a strided one.
  auto with_index = [&](const std::string& name, const torch::Tensor& index) {
    torch::serialize::OutputArchive a;
    a.write("w", torch::ones({2}));
    a.write("__semsec_index__", index);
    a.save_to(path);
    put("checkpoint", name, slurp(path));
  };
  with_index("crash-expanded-index", torch::tensor({'w'}, torch::kUInt8).expand({64}));
  with_index("bad_strided_index", torch::tensor({'w', 'x', '\n', 'y'}, torch::kUInt8).slice(0, 0, 4, 2));
  // A tensor whose pickled shape reaches past its stored bytes: [5] float64 (40 bytes) edited to
  // [80] in data.pkl, whose sizes and strides are MARK BININT1 5 TUPLE, MARK BININT1 1 TUPLE.
  save("crash-tensor-past-storage", {{"w", torch::zeros({5}, torch::kFloat64)}});
  std::string bytes = slurp(path);
  const std::string from("(K\x05t(K\x01t", 8), to("(K\x50t(K\x01t", 8);
  const size_t at = bytes.find(from);
  if (at == std::string::npos || bytes.find(from, at + 1) != std::string::npos)
    throw std::runtime_error("make_seeds: the pickled shape of 'w' is not where expected");
  put("checkpoint", "crash-tensor-past-storage", bytes.replace(at, from.size(), to));
}

// --- csv -----------------------------------------------------------------------------------------

void csv_seeds() {
  const semsec::config::Config cfg = semsec::config::Config::defaults(semsec::trainers::isac_schema());
  std::vector<semsec::trainers::GridPoint> points(3, semsec::trainers::point_from_config(cfg));
  points[1].seed = 4;
  points[2].psr_db = -20;
  points[2].gamma_sen = 0.25;
  put("csv", "points", with_prefix(0, semsec::trainers::Grid(cfg, points).points_csv()));
  put("csv", "points_old", with_prefix(0, "point,seed,train_snr_db,lr,psr_db\n0,0,15,0.0001,-10\n1,1,15,0.0001,-5\n"));
  put("csv", "bad_points_column", with_prefix(0, "point,seed,lr\n0,1,2\n"));
  put("csv", "bad_points_psr", with_prefix(0, "seed,train_snr_db,psr_db\n0,15,x\n1,15\n"));

  semsec::trainers::SweepOptions sweep;
  sweep.sweep_dir = semsec::fuzz::scratch_dir();
  sweep.config_file = "configs/ss_isac.yaml";
  sweep.args = {"seed=0,1,2", "security.psr_db=[-10,-5],[0]", "train.lr=1e-3", "eve.hidden=[8, 4]"};
  semsec::trainers::save_sweep_record(sweep);
  put("csv", "sweep", with_prefix(1, slurp(sweep.sweep_dir + "/sweep.txt")));
  put("csv", "bad_sweep", with_prefix(1, "\nseed=1,,2\nnoequals\nseed=1,2\nseed=3,4\n"));

  const std::string metrics = scratch_path("metrics.csv");
  semsec::trainers::MetricsLog log(metrics);
  log.add("general", 10, 0, "loss", 0.25);
  log.add("general", 10, 1, "loss", -1e-9);
  log.add("security", 20, 0, "acc", 0.875);
  log.save();
  put("csv", "metrics", with_prefix(2, slurp(metrics)));
  put("csv", "metrics_cut", with_prefix(2, slurp(metrics) + "security,30,0,ac"));
  put("csv", "bad_metrics", with_prefix(2, "stage,step,point,term,value\ngeneral,x,0,loss,1\n"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  ::mkdir(out_dir.c_str(), 0755);
  config_seeds();
  idx_seeds();
  safetensors_seeds();
  checkpoint_seeds();
  csv_seeds();
  return 0;
}
