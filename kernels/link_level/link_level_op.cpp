// Torch-facing link level: argument checks, CPU/CUDA dispatch and the host-side geometry.
#include "kernels/link_level/link_level_op.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

#include "core/errors.h"
#include "kernels/device.h"
#include "kernels/link_level/link_level_cuda.h"

namespace semsec::link {

namespace {

// Blocks per BER launch: bounds the per-block error buffer (4 MiB) for any n_bits.
constexpr int64_t kBerChunkBlocks = int64_t{1} << 22;
constexpr int64_t kMaxBerBlocks = int64_t{1} << 32;  // the block index is one 32-bit counter word

struct SchemeEntry {
  Scheme scheme;
  const char* name;
};
constexpr SchemeEntry kSchemes[] = {
    {Scheme::kAwgn, "awgn"},
    {Scheme::kRayleigh, "rayleigh"},
    {Scheme::kAlamouti2x1, "alamouti_2x1"},
    {Scheme::kAlamouti2x2, "alamouti_2x2"},
    {Scheme::kBeamforming, "beamforming"},
    {Scheme::kBeamAlamouti, "beam_alamouti"},
};

void check_cuda_built(const torch::Device& device, const char* what) {
#ifndef SEMSEC_WITH_CUDA
  TORCH_CHECK(!device.is_cuda(), what, ": device is ", device, " but semsec was built without CUDA kernels");
#endif
}

void launch_ber(int64_t n, const BerArgs& args, const torch::Tensor& tx, const torch::Tensor& rx,
                const torch::Tensor& errors) {
  uint8_t* tx_ptr = tx.defined() ? tx.data_ptr<uint8_t>() : nullptr;
  uint8_t* rx_ptr = rx.defined() ? rx.data_ptr<uint8_t>() : nullptr;
  kernels::on_device(
      errors.device(), "link BER", [&] { ber_blocks_cpu(n, args, tx_ptr, rx_ptr, errors.data_ptr<uint8_t>()); },
      [&](kernels::CudaStream stream) {
        ber_blocks_cuda(n, args, tx_ptr, rx_ptr, errors.data_ptr<uint8_t>(), stream);
      });
}

}  // namespace

Scheme parse_scheme(const std::string& name) {
  for (const auto& e : kSchemes) {
    if (name == e.name) return e.scheme;
  }
  fail("unknown link scheme '{}': expected one of {}", name, fmt::join(scheme_names(), ", "));
}

std::string scheme_name(Scheme scheme) {
  for (const auto& e : kSchemes) {
    if (scheme == e.scheme) return e.name;
  }
  return fmt::format("scheme#{}", static_cast<int>(scheme));
}

const std::vector<std::string>& scheme_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : kSchemes) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

LinkShape link_shape(Scheme scheme, int bf_num_tx, int bf_num_rx, int num_beams) {
  if (num_beams < 1) fail("link: num_beams must be >= 1, got {}", num_beams);
  switch (scheme) {
    case Scheme::kAwgn:
    case Scheme::kRayleigh:
      return LinkShape{scheme, 1, 1, num_beams};
    case Scheme::kAlamouti2x1:
      return LinkShape{scheme, 2, 1, num_beams};
    case Scheme::kAlamouti2x2:
      return LinkShape{scheme, 2, 2, num_beams};
    case Scheme::kBeamforming:
      if (bf_num_tx < 1 || bf_num_tx > kMaxTx) fail("link: num_tx must be in [1, {}], got {}", kMaxTx, bf_num_tx);
      if (bf_num_rx < 1 || bf_num_rx > kMaxRx) fail("link: num_rx must be in [1, {}], got {}", kMaxRx, bf_num_rx);
      return LinkShape{scheme, bf_num_tx, bf_num_rx, num_beams};
    case Scheme::kBeamAlamouti:
      // Two Alamouti branches, each on its own sub-array of num_tx / 2 antennas.
      if (bf_num_tx < 2 || bf_num_tx > kMaxTx || bf_num_tx % 2 != 0) {
        fail("link: num_tx of beam_alamouti must be even in [2, {}] (two sub-arrays of num_tx / 2 antennas), got {}",
             kMaxTx, bf_num_tx);
      }
      if (bf_num_rx < 1 || bf_num_rx > 2) fail("link: num_rx of beam_alamouti must be 1 or 2, got {}", bf_num_rx);
      return LinkShape{scheme, bf_num_tx, bf_num_rx, num_beams};
  }
  fail("link: invalid scheme id {}", static_cast<int>(scheme));
}

double ebn0_noise_std(double ebn0_db) {
  if (std::isnan(ebn0_db)) fail("link: Eb/N0 is NaN");
  if (ebn0_db == std::numeric_limits<double>::infinity()) return 0.0;
  const double ebn0 = std::pow(10.0, ebn0_db / 10.0);
  return std::sqrt(1.0 / (4.0 * ebn0));
}

BerBits ber_bits(const LinkShape& shape, double noise_std, int64_t n_blocks, uint64_t seed, uint32_t step,
                 torch::Device device, uint32_t sample_offset, uint32_t stream) {
  TORCH_CHECK(n_blocks >= 0, "ber_bits: n_blocks must be >= 0, got ", n_blocks);
  TORCH_CHECK(static_cast<int64_t>(sample_offset) + n_blocks <= kMaxBerBlocks, "ber_bits: blocks ", sample_offset,
              " + ", n_blocks, " exceed the 32-bit block counter");
  TORCH_CHECK(noise_std >= 0.0, "ber_bits: noise_std must be >= 0, got ", noise_std);
  check_cuda_built(device, "ber_bits");
  const auto opts = torch::TensorOptions().dtype(torch::kUInt8).device(device);
  BerBits out{torch::empty({kBitsPerBlock * n_blocks}, opts), torch::empty({kBitsPerBlock * n_blocks}, opts)};
  const auto errors = torch::empty({n_blocks}, opts);
  if (n_blocks == 0) return out;
  const BerArgs args{shape, noise_std, rng::make_key(seed), stream, step, sample_offset, 0};
  launch_ber(n_blocks, args, out.tx_bits, out.rx_bits, errors);
  return out;
}

std::vector<BerPoint> simulate_ber(const LinkShape& shape, const std::vector<double>& ebn0_db, int64_t n_bits,
                                   uint64_t seed, torch::Device device) {
  if (n_bits < 1) fail("simulate_ber: n_bits must be >= 1, got {}", n_bits);
  const int64_t n_blocks = (n_bits + kBitsPerBlock - 1) / kBitsPerBlock;
  if (n_blocks > kMaxBerBlocks)
    fail("simulate_ber: n_bits {} exceeds the maximum {}", n_bits, kBitsPerBlock * kMaxBerBlocks);
  check_cuda_built(device, "simulate_ber");
  const rng::Key key = rng::make_key(seed);
  const auto opts = torch::TensorOptions().dtype(torch::kUInt8).device(device);
  const auto errors = torch::empty({std::min(n_blocks, kBerChunkBlocks)}, opts);
  std::vector<BerPoint> points;
  points.reserve(ebn0_db.size());
  for (size_t k = 0; k < ebn0_db.size(); ++k) {
    const double sigma = ebn0_noise_std(ebn0_db[k]);
    // Chunk sums stay on the device; one host sync per Eb/N0 point.
    auto total = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    for (int64_t start = 0; start < n_blocks; start += kBerChunkBlocks) {
      const int64_t n = std::min(kBerChunkBlocks, n_blocks - start);
      const BerArgs args{shape, sigma, key, rng::kStreamLink, static_cast<uint32_t>(k), static_cast<uint32_t>(start),
                         0};
      const auto chunk = errors.narrow(0, 0, n);
      launch_ber(n, args, torch::Tensor(), torch::Tensor(), chunk);
      total += chunk.sum(torch::kInt64);
    }
    points.push_back(BerPoint{ebn0_db[k], total.item<int64_t>(), kBitsPerBlock * n_blocks});
  }
  return points;
}

std::vector<BerPoint> simulate_ber(const std::string& scheme, const std::vector<double>& ebn0_db, int64_t n_bits,
                                   uint64_t seed, torch::Device device) {
  return simulate_ber(link_shape(parse_scheme(scheme)), ebn0_db, n_bits, seed, device);
}

// ---------------------------------------------------------------------------------------------

LinkShape link_shape(const LinkConfig& cfg) { return link_shape(cfg.scheme, cfg.num_tx, cfg.num_rx, cfg.num_beams); }

int64_t num_receivers(const LinkConfig& cfg) { return 1 + static_cast<int64_t>(cfg.eves.size()); }

double dbm_to_watt(double dbm) { return std::pow(10.0, (dbm - 30.0) / 10.0); }

double path_loss(double d_m, double d0_m, double eta) { return std::pow(d_m / d0_m, -eta); }

double noise_floor_w(const LinkConfig& cfg) { return dbm_to_watt(cfg.n0_dbm_per_hz) * cfg.bandwidth_hz; }

namespace {

double distance(const Position& a, const Position& b) { return std::hypot(b.x_m - a.x_m, b.y_m - a.y_m); }

Position receiver_position(const LinkConfig& cfg, int64_t r) {
  return r == 0 ? cfg.user : cfg.eves[static_cast<size_t>(r - 1)];
}

std::string receiver_label(int64_t r) { return r == 0 ? std::string("user") : fmt::format("eve {}", r - 1); }

}  // namespace

void validate(const LinkConfig& cfg) {
  link_shape(cfg);
  if (num_receivers(cfg) > kMaxReceivers) {
    fail("link: at most {} eavesdroppers are supported, got {}", kMaxReceivers - 1, cfg.eves.size());
  }
  if (!(cfg.d0_m > 0.0)) fail("link: path-loss reference distance d0 must be > 0 m, got {}", cfg.d0_m);
  if (!(cfg.path_loss_exponent >= 0.0)) fail("link: path-loss exponent must be >= 0, got {}", cfg.path_loss_exponent);
  if (!(cfg.bandwidth_hz > 0.0)) fail("link: bandwidth must be > 0 Hz, got {}", cfg.bandwidth_hz);
  if (!std::isfinite(cfg.p_tx_dbm)) fail("link: transmit power must be finite, got {} dBm", cfg.p_tx_dbm);
  if (!std::isfinite(cfg.n0_dbm_per_hz)) fail("link: N0 must be finite, got {} dBm/Hz", cfg.n0_dbm_per_hz);
  if (!(cfg.rician_k >= 0.0) || !std::isfinite(cfg.rician_k)) fail("link: Rician K must be >= 0, got {}", cfg.rician_k);
  for (int64_t r = 0; r < num_receivers(cfg); ++r) {
    const Position p = receiver_position(cfg, r);
    if (!std::isfinite(p.x_m) || !std::isfinite(p.y_m) || !(distance(cfg.bs, p) > 0.0)) {
      fail("link: {} at ({}, {}) m must be a finite point away from the BS at ({}, {}) m", receiver_label(r), p.x_m,
           p.y_m, cfg.bs.x_m, cfg.bs.y_m);
    }
  }
}

std::vector<double> large_scale_gains(const LinkConfig& cfg) {
  validate(cfg);
  const double p_tx = dbm_to_watt(cfg.p_tx_dbm);
  const double p0 = noise_floor_w(cfg);
  std::vector<double> gains;
  for (int64_t r = 0; r < num_receivers(cfg); ++r) {
    const double d = distance(cfg.bs, receiver_position(cfg, r));
    gains.push_back(p_tx * path_loss(d, cfg.d0_m, cfg.path_loss_exponent) / p0);
  }
  return gains;
}

torch::Tensor beam_codebook(int num_tx, int num_beams, torch::Device device) {
  TORCH_CHECK(num_tx >= 1 && num_beams >= 1, "beam_codebook: num_tx and num_beams must be >= 1, got ", num_tx, ", ",
              num_beams);
  auto f = torch::empty({num_beams, num_tx, 2}, torch::kFloat64);
  auto acc = f.accessor<double, 3>();
  for (int k = 0; k < num_beams; ++k) {
    for (int n = 0; n < num_tx; ++n) {
      const Cplx w = beam_weight(k, num_beams, num_tx, n);
      acc[k][n][0] = w.re;
      acc[k][n][1] = w.im;
    }
  }
  return f.to(device);
}

torch::Tensor generate_channels(const LinkConfig& cfg, int64_t num_samples, uint64_t seed, uint32_t step,
                                torch::Device device, uint32_t stream) {
  validate(cfg);
  TORCH_CHECK(num_samples >= 0 && num_samples <= std::numeric_limits<uint32_t>::max(),
              "generate_channels: num_samples must be in [0, 2^32), got ", num_samples);
  check_cuda_built(device, "generate_channels");
  const LinkShape shape = link_shape(cfg);
  const int64_t num_r = num_receivers(cfg);
  ChannelArgs args{};
  args.shape = shape;
  args.key = rng::make_key(seed);
  args.stream = stream;
  args.step = step;
  args.num_samples = num_samples;
  args.receivers.count = static_cast<int32_t>(num_r);
  args.receivers.los_w = std::sqrt(cfg.rician_k / (cfg.rician_k + 1.0));
  args.receivers.nlos_w = std::sqrt(1.0 / (cfg.rician_k + 1.0));
  const std::vector<double> g = large_scale_gains(cfg);
  for (int64_t r = 0; r < num_r; ++r) {
    const Position p = receiver_position(cfg, r);
    args.receivers.r[r] = Receiver{std::sqrt(g[static_cast<size_t>(r)]), (p.y_m - cfg.bs.y_m) / distance(cfg.bs, p)};
  }
  auto h = torch::empty({num_r, num_samples, shape.num_rx, shape.num_tx, 2},
                        torch::TensorOptions().dtype(torch::kFloat64).device(device));
  if (num_samples == 0) return h;
  kernels::on_device(
      device, "generate_channels", [&] { generate_channels_cpu(args, h.data_ptr<double>()); },
      [&](kernels::CudaStream stream) { generate_channels_cuda(args, h.data_ptr<double>(), stream); });
  return h;
}

namespace {

void check_channels(const LinkShape& shape, int64_t num_r, const torch::Tensor& h, const char* what) {
  TORCH_CHECK(h.scalar_type() == torch::kFloat64, what, ": h must be float64, got ", h.scalar_type());
  TORCH_CHECK(
      h.dim() == 5 && h.size(0) == num_r && h.size(2) == shape.num_rx && h.size(3) == shape.num_tx && h.size(4) == 2,
      what, ": h must be [", num_r, ", N, ", shape.num_rx, ", ", shape.num_tx, ", 2], got ", h.sizes());
}

}  // namespace

torch::Tensor beam_gains(const LinkConfig& cfg, const torch::Tensor& h) {
  validate(cfg);
  const LinkShape shape = link_shape(cfg);
  check_channels(shape, num_receivers(cfg), h, "beam_gains");
  const auto hc = torch::view_as_complex(h.contiguous());  // [R, N, Nr, Nt]
  const int64_t num_r = h.size(0);
  const int64_t n = h.size(1);
  if (shape.scheme == Scheme::kBeamforming) {
    const auto f = torch::view_as_complex(beam_codebook(shape.num_tx, shape.num_beams, h.device()));  // [B, Nt]
    const auto g = torch::matmul(hc, f.transpose(0, 1));                                              // [R, N, Nr, B]
    return torch::abs(g).square().sum(2);
  }
  if (shape.scheme == Scheme::kBeamAlamouti) {
    const int m_size = beam_size(shape);
    const auto f = torch::view_as_complex(beam_codebook(m_size, shape.num_beams, h.device()));  // [B, M]
    const auto sub = hc.reshape({num_r, n, shape.num_rx, 2, m_size});  // sub-array i = antennas iM .. iM+M-1
    const auto g = torch::matmul(sub, f.transpose(0, 1));              // [R, N, Nr, 2, B]
    return 0.5 * torch::abs(g).square().sum({2, 3});
  }
  torch::Tensor per_sample;
  if (is_alamouti(shape.scheme)) {
    per_sample = 0.5 * torch::abs(hc).square().sum({2, 3});
  } else {
    per_sample = torch::abs(hc.select(3, 0)).square().sum(2);
  }
  return per_sample.unsqueeze(2).expand({num_r, n, shape.num_beams}).contiguous();
}

LinkOutput transmit(const LinkConfig& cfg, const torch::Tensor& bits_in, const torch::Tensor& h_in,
                    const torch::Tensor& beams_in, const torch::Tensor& tau_in, uint64_t seed, uint32_t step,
                    uint32_t stream, const torch::Tensor& sample_ids_in) {
  validate(cfg);
  const LinkShape shape = link_shape(cfg);
  const int64_t num_r = num_receivers(cfg);
  TORCH_CHECK(bits_in.dim() == 2, "transmit: bits must be [N, num_bits], got ", bits_in.sizes());
  TORCH_CHECK(bits_in.scalar_type() == torch::kUInt8, "transmit: bits must be uint8, got ", bits_in.scalar_type());
  const int64_t n = bits_in.size(0);
  const int64_t num_bits = bits_in.size(1);
  TORCH_CHECK(num_bits <= kBitsPerBlock * kMaxBlocksPerSample, "transmit: at most ",
              kBitsPerBlock * kMaxBlocksPerSample, " bits per sample, got ", num_bits);
  TORCH_CHECK(n <= std::numeric_limits<uint32_t>::max(), "transmit: at most 2^32 - 1 samples, got ", n);
  check_channels(shape, num_r, h_in, "transmit");
  TORCH_CHECK(h_in.size(1) == n, "transmit: h has ", h_in.size(1), " samples but bits has ", n);
  TORCH_CHECK(beams_in.scalar_type() == torch::kInt64 && beams_in.dim() == 1 && beams_in.size(0) == n,
              "transmit: beams must be int64 [", n, "], got ", beams_in.scalar_type(), " ", beams_in.sizes());
  TORCH_CHECK(tau_in.scalar_type() == torch::kFloat64 && tau_in.dim() == 1 && tau_in.size(0) == n,
              "transmit: tau must be float64 [", n, "], got ", tau_in.scalar_type(), " ", tau_in.sizes());
  const auto device = bits_in.device();
  TORCH_CHECK(h_in.device() == device && beams_in.device() == device && tau_in.device() == device,
              "transmit: bits, h, beams and tau must be on one device, got ", device, ", ", h_in.device(), ", ",
              beams_in.device(), ", ", tau_in.device());
  const bool with_ids = sample_ids_in.defined();
  TORCH_CHECK(!with_ids || (sample_ids_in.scalar_type() == torch::kInt64 && sample_ids_in.dim() == 1 &&
                            sample_ids_in.size(0) == n),
              "transmit: sample_ids must be int64 [", n, "], got ", sample_ids_in.scalar_type(), " ",
              sample_ids_in.sizes());  // the message is only built when with_ids holds
  TORCH_CHECK(!with_ids || sample_ids_in.device() == device, "transmit: sample_ids must be on ", device, ", got ",
              sample_ids_in.device());
  check_cuda_built(device, "transmit");
  const auto bits = bits_in.contiguous();
  const auto sample_ids = with_ids ? sample_ids_in.contiguous() : torch::Tensor();
  const auto h = h_in.contiguous();
  const auto beams = beams_in.contiguous();
  const auto tau = tau_in.contiguous();

  LinkOutput out{torch::empty({num_r, n, num_bits}, bits.options()), torch::empty({num_r, n}, tau.options())};
  if (n == 0) return out;
  // One host sync checks both value ranges; a bad beam would read outside the codebook and a
  // negative tau would turn the noise into NaN.
  const auto bad =
      torch::stack({((beams < 0) | (beams >= shape.num_beams)).any(), (tau < 0).any().logical_or(tau.isnan().any()),
                    with_ids ? ((sample_ids < 0) | (sample_ids > static_cast<int64_t>(UINT32_MAX))).any()
                             : torch::zeros({}, beams.options().dtype(torch::kBool))})
          .cpu();
  TORCH_CHECK(!bad[0].item<bool>(), "transmit: every beam index must be in [0, ", shape.num_beams, ")");
  TORCH_CHECK(!bad[1].item<bool>(), "transmit: every tau must be >= 0");
  TORCH_CHECK(!bad[2].item<bool>(), "transmit: every sample id must be in [0, 2^32)");

  TransmitArgs args{};
  args.shape = shape;
  args.key = rng::make_key(seed);
  args.stream = stream;
  args.step = step;
  args.num_receivers = num_r;
  args.num_samples = n;
  args.num_bits = num_bits;
  args.num_blocks = (num_bits + kBitsPerBlock - 1) / kBitsPerBlock;
  args.sample_ids = with_ids ? sample_ids.data_ptr<int64_t>() : nullptr;
  if (num_bits == 0) {
    // No bits to send: the gains are still well defined, so compute them with one zero-bit block.
    args.num_blocks = 1;
  }
  kernels::on_device(
      device, "transmit",
      [&] {
        transmit_cpu(args, bits.data_ptr<uint8_t>(), h.data_ptr<double>(), beams.data_ptr<int64_t>(),
                     tau.data_ptr<double>(), out.rx_bits.data_ptr<uint8_t>(), out.gain.data_ptr<double>());
      },
      [&](kernels::CudaStream stream) {
        transmit_cuda(args, bits.data_ptr<uint8_t>(), h.data_ptr<double>(), beams.data_ptr<int64_t>(),
                      tau.data_ptr<double>(), out.rx_bits.data_ptr<uint8_t>(), out.gain.data_ptr<double>(), stream);
      });
  return out;
}

}  // namespace semsec::link
