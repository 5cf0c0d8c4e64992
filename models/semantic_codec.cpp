// The CLSSR semantic codec: encoder, padded per-point codebooks, plain and noise-aware decoders.
#include "models/semantic_codec.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace semsec::models {
namespace {

// Module ids of the Philox init draws (kStreamInit); GridLinear uses 2*id and 2*id + 1 of
// the ids below, so these stay clear of the other models' ranges (0..175).
constexpr uint32_t kIdEncoder = 192, kIdDecoderPlain = 208, kIdDecoderAware = 224, kIdNoiseNet = 240;
constexpr uint32_t kInitCodebook = 2 * 240;  // the counter of the codebook's own draws

}  // namespace

void CodecSizes::validate() const {
  if (image_dim < 1) fail("codec.image_dim is {}; expected a positive pixel count", image_dim);
  if (hidden < 1) fail("codec.hidden is {}; expected a positive width", hidden);
  if (num_symbols < 1) fail("codec.num_symbols (n) is {}; expected a positive count", num_symbols);
  if (symbol_dim < 1) fail("codec.symbol_dim (k) is {}; expected a positive dimension", symbol_dim);
  if (b_min < 1 || b_min > 12) fail("codec.b_min is {}; expected 1 to 12 index bits", b_min);
  if (b_max < 1 || b_max > 12) fail("codec.b_max is {}; expected 1 to 12 index bits", b_max);
  if (b_max < b_min) fail("codec.b_max is {} but codec.b_min is {}; expected b_min <= b_max", b_max, b_min);
  if (noise_hidden < 0) fail("codec.noise_hidden is {}; expected 0 (constant noise) or a positive width", noise_hidden);
}

SemanticCodecImpl::SemanticCodecImpl(const CodecSizes& sizes, const std::vector<uint64_t>& seeds) : sizes_(sizes) {
  sizes_.validate();
  const int64_t num_points = sizes_.grid_size();
  if (static_cast<int64_t>(seeds.size()) != num_points)
    fail("SemanticCodec: {} seeds given; expected one per grid point, {} (b = {}..{})", seeds.size(), num_points,
         sizes_.b_min, sizes_.b_max);
  const int64_t n = sizes_.num_symbols, k = sizes_.symbol_dim, kmax = sizes_.max_codes();
  const std::vector<int64_t> enc_sizes = {sizes_.image_dim, sizes_.hidden, n * k};
  const std::vector<int64_t> dec_sizes = {n * k, sizes_.hidden, sizes_.image_dim};
  encoder = register_module("encoder", GridMlp(seeds, enc_sizes, Activation::kNone, kIdEncoder));
  decoder_plain = register_module("decoder_plain", GridMlp(seeds, dec_sizes, Activation::kSigmoid, kIdDecoderPlain));
  decoder_aware = register_module("decoder_aware", GridMlp(seeds, dec_sizes, Activation::kSigmoid, kIdDecoderAware));

  // Draws are indexed by element, so the valid rows of point g do not depend on how far the
  // codebook is padded (b_max of the grid it sits in).
  valid_ = torch::arange(kmax).unsqueeze(0) <
           torch::pow(2, torch::arange(sizes_.b_min, sizes_.b_max + 1, torch::kInt64)).unsqueeze(1);
  const torch::Tensor cb = philox_uniform(seeds, kmax * k, 1.0, kInitCodebook).view({num_points, kmax, k});
  codebook = register_parameter("codebook", cb * valid_.unsqueeze(-1).to(cb.dtype()));
  valid_ = register_buffer("valid_codes", valid_);
  semantic_noise = register_parameter("semantic_noise", torch::zeros({num_points, n, k}));
  if (sizes_.noise_hidden > 0) {
    noise_net = register_module(
        "noise_net", GridMlp(seeds, std::vector<int64_t>{n * k, sizes_.noise_hidden, n * k}, Activation::kNone,
                             kIdNoiseNet));
    torch::NoGradGuard no_grad;
    auto params = noise_net->named_parameters();
    params["fc1.weight"].zero_();  // Delta z(d) starts as the constant shift
    params["fc1.bias"].zero_();
  }
}

torch::Tensor SemanticCodecImpl::noise(const torch::Tensor& d) const {
  check_symbols(d, "noise");
  torch::Tensor dz = semantic_noise.unsqueeze(1);
  if (noise_net) {
    const auto shape = d.sizes();
    dz = dz + noise_net.ptr()->forward(d.flatten(2)).view(shape);
  }
  return dz.expand(d.sizes());
}

int64_t SemanticCodecImpl::bits(int64_t g) const {
  if (g < 0 || g >= grid_size())
    fail("SemanticCodec: grid point {} does not exist; expected 0 to {}", g, grid_size() - 1);
  return sizes_.b_min + g;
}

torch::Tensor SemanticCodecImpl::check_symbols(const torch::Tensor& t, const char* what) const {
  TORCH_CHECK(
      t.dim() == 4 && t.size(0) == grid_size() && t.size(2) == sizes_.num_symbols && t.size(3) == sizes_.symbol_dim,
      "SemanticCodec::", what, ": expected [G=", grid_size(), ", B, n=", sizes_.num_symbols, ", k=", sizes_.symbol_dim,
      "], got ", t.sizes());
  return t;
}

torch::Tensor SemanticCodecImpl::encode(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() == 3 && x.size(0) == grid_size() && x.size(2) == sizes_.image_dim,
              "SemanticCodec::encode: expected x [G=", grid_size(), ", B, D=", sizes_.image_dim, "], got ", x.sizes());
  return encoder.ptr()->forward(x).view({x.size(0), x.size(1), sizes_.num_symbols, sizes_.symbol_dim});
}

torch::Tensor SemanticCodecImpl::quantize(const torch::Tensor& d) const {
  check_symbols(d, "quantize");
  torch::NoGradGuard no_grad;
  const int64_t num_points = d.size(0), batch = d.size(1), n = d.size(2), k = d.size(3);
  const int64_t rows = batch * n, kmax = codebook.size(1);
  // Direct differences rather than |d|^2 - 2 d.e + |e|^2: exact nearest neighbours (no
  // cancellation), computed in chunks of rows so the [G, rows, K, k] temporary stays <= 64 MB.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / (num_points * kmax * k));
  const torch::Tensor flat = d.reshape({num_points, rows, 1, k});
  const torch::Tensor invalid = valid_.logical_not().unsqueeze(1);  // [G, 1, K]
  const torch::Tensor cb = codebook.unsqueeze(1);                   // [G, 1, K, k]
  std::vector<torch::Tensor> parts;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const torch::Tensor dist = (flat.narrow(1, r0, std::min(chunk, rows - r0)) - cb).square().sum(-1);
    parts.push_back(dist.masked_fill(invalid, INFINITY).argmin(-1));  // [G, rows chunk]
  }
  const torch::Tensor idx = parts.size() == 1 ? parts.front() : torch::cat(parts, 1);
  return idx.view({num_points, batch, n});
}

torch::Tensor SemanticCodecImpl::lookup(const torch::Tensor& idx) const {
  TORCH_CHECK(idx.dim() == 3 && idx.size(0) == grid_size() && idx.size(2) == sizes_.num_symbols &&
                  idx.scalar_type() == torch::kInt64,
              "SemanticCodec::lookup: expected int64 indices [G=", grid_size(), ", B, n=", sizes_.num_symbols,
              "], got ", idx.scalar_type(), " ", idx.sizes());
  const int64_t num_points = idx.size(0), batch = idx.size(1), n = idx.size(2), k = sizes_.symbol_dim;
  const torch::Tensor rows = idx.reshape({num_points, batch * n, 1}).expand({num_points, batch * n, k});
  return codebook.gather(1, rows).view({num_points, batch, n, k});
}

torch::Tensor SemanticCodecImpl::straight_through(const torch::Tensor& d) const {
  const torch::Tensor e = lookup(quantize(d));
  return d + (e - d).detach();
}

torch::Tensor SemanticCodecImpl::transmit_indices(const torch::Tensor& x, bool with_noise) const {
  torch::NoGradGuard no_grad;
  torch::Tensor d = encode(x);
  if (with_noise) d = d + noise(d);
  return quantize(d);
}

torch::Tensor SemanticCodecImpl::decode_plain(const torch::Tensor& q) const {
  check_symbols(q, "decode_plain");
  return decoder_plain.ptr()->forward(q.reshape({q.size(0), q.size(1), -1}));
}

torch::Tensor SemanticCodecImpl::decode_aware(const torch::Tensor& q) const {
  check_symbols(q, "decode_aware");
  return decoder_aware.ptr()->forward(q.reshape({q.size(0), q.size(1), -1}));
}

torch::Tensor SemanticCodecImpl::decode_point(int64_t g, const torch::Tensor& idx, bool aware) const {
  TORCH_CHECK(g >= 0 && g < grid_size() && idx.dim() == 2 && idx.size(1) == sizes_.num_symbols &&
                  idx.scalar_type() == torch::kInt64,
              "SemanticCodec::decode_point: point ", g, ", int64 indices [B, n=", sizes_.num_symbols,
              "] expected, got ", idx.scalar_type(), " ", idx.sizes());
  const torch::Tensor q = codebook[g].index_select(0, idx.flatten()).view({idx.size(0), -1});
  return (aware ? decoder_aware : decoder_plain).ptr()->forward_point(g, q);
}

void SemanticCodecImpl::copy_plain_to_aware() {
  torch::NoGradGuard no_grad;
  const auto from = decoder_plain->parameters();
  auto to = decoder_aware->parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

torch::Tensor indices_to_bits(const torch::Tensor& idx, int64_t b) {
  if (b < 1 || b > 62) fail("indices_to_bits: b is {}; expected 1 to 62 bits per index", b);
  TORCH_CHECK(idx.scalar_type() == torch::kInt64 && idx.dim() >= 1, "indices_to_bits: expected int64 [..., n], got ",
              idx.scalar_type(), " ", idx.sizes());
  const torch::Tensor shifts = torch::arange(b - 1, -1, -1, idx.options());  // MSB first
  const torch::Tensor bits = torch::bitwise_and(torch::bitwise_right_shift(idx.unsqueeze(-1), shifts), 1);
  std::vector<int64_t> shape = idx.sizes().vec();
  shape.back() *= b;
  return bits.to(torch::kUInt8).reshape(shape);
}

torch::Tensor bits_to_indices(const torch::Tensor& bits, int64_t b) {
  if (b < 1 || b > 62) fail("bits_to_indices: b is {}; expected 1 to 62 bits per index", b);
  TORCH_CHECK(bits.dim() >= 1 && bits.size(-1) % b == 0, "bits_to_indices: the last dimension (", bits.sizes(),
              ") must be a multiple of b = ", b);
  std::vector<int64_t> shape = bits.sizes().vec();
  shape.back() /= b;
  shape.push_back(b);
  const auto opts = bits.options().dtype(torch::kInt64);
  const torch::Tensor weights = torch::bitwise_left_shift(torch::ones({b}, opts), torch::arange(b - 1, -1, -1, opts));
  return (bits.ne(0).to(torch::kInt64).reshape(shape) * weights).sum(-1);
}

}  // namespace semsec::models
