// semsec's channel kernels as PyTorch operators (TORCH_LIBRARY), built as the shared library
// libsemsec_torch_ops.so that torch.ops.load_library loads (python/semsec/ops.py does it):
//
//   torch.ops.semsec.isac_link            the SS-ISAC link, fused, with autograd (CPU and CUDA kernels)
//   torch.ops.semsec.isac_link_backward   its analytic backward (CPU and CUDA kernels)
//   torch.ops.semsec.isac_link_reference  the same channel composed from ATen ops (reference)
//   torch.ops.semsec.isac_link_draws      the standard normals isac_link draws, from the same counters
//   torch.ops.semsec.make_beamformer      the beamformers of channel.beamformer, complex128 [M]
//   torch.ops.semsec.mean_sensing_gain    the value for ref_gain_bs
//   torch.ops.semsec.link_generate_channels / link_transmit
//                                         the CLSSR link level: channels, then bits sent, decided
//
// The ops call the functions semsec's trainers call (isac_link_raw.h, link_level_op.h), so the
// numbers are the same on the same counters. Dispatch: isac_link has one kernel per backend key
// (CPU, CUDA) and an Autograd kernel that records an autograd Function whose backward calls
// isac_link_backward through the dispatcher; the ops without tensor inputs (make_beamformer,
// link_generate_channels, ...) have one kernel for every backend.
#include <torch/library.h>
#include <torch/torch.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/isac_link/isac_link_op.h"
#include "kernels/isac_link/isac_link_raw.h"
#include "kernels/link_level/link_level_op.h"

namespace semsec::kernels {
namespace {

using Tensor4 = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

// The schema's scalar arguments of the ISAC link, after (z, phi, snr_db, seeds, counter, w).
struct IsacScalars {
  double alpha_re, alpha_im, si_residual_power, eve_snr_offset_db, ref_gain_bs;
  bool noise, eval, alpha_random_phase;
};

IsacLinkParams isac_params(const torch::Tensor& w_in, const IsacScalars& s) {
  TORCH_CHECK(w_in.defined() && w_in.dim() == 1, "semsec::isac_link: w must be a [M] beamformer (make_beamformer)");
  const auto w = w_in.to(torch::kCPU, torch::kComplexDouble).contiguous();
  IsacLinkParams p;
  p.num_antennas = w.size(0);
  p.w.resize(static_cast<size_t>(w.size(0)));
  const auto* data = w.data_ptr<c10::complex<double>>();
  for (size_t m = 0; m < p.w.size(); ++m) p.w[m] = {data[m].real(), data[m].imag()};
  p.alpha = {s.alpha_re, s.alpha_im};
  p.si_residual_power = s.si_residual_power;
  p.eve_snr_offset_db = s.eve_snr_offset_db;
  p.ref_gain_bs = s.ref_gain_bs;
  p.noise = s.noise;
  p.eval = s.eval;
  p.alpha_random_phase = s.alpha_random_phase;
  return p;
}

// An ISAC-link op over `fn` (isac_link_forward or isac_link_reference), with the schema's flat
// arguments. isac_link_op<isac_link_forward> is the backend kernel of semsec::isac_link, registered
// for CPU and for CUDA: the function picks the CPU loop or the CUDA kernel by z's device, as
// semsec's own path does.
using IsacFn = IsacLinkOut (*)(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                               const torch::Tensor&, const IsacLinkParams&);
template <IsacFn fn>
Tensor4 isac_link_op(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                     const torch::Tensor& seeds, const torch::Tensor& counter, const torch::Tensor& w, double alpha_re,
                     double alpha_im, double si_residual_power, double eve_snr_offset_db, double ref_gain_bs,
                     bool noise, bool eval, bool alpha_random_phase) {
  const IsacScalars s{alpha_re, alpha_im, si_residual_power, eve_snr_offset_db, ref_gain_bs,
                      noise,    eval,     alpha_random_phase};
  const IsacLinkOut o = fn(z, phi, snr_db, seeds, counter, isac_params(w, s));
  return {o.y_bs, o.y_ue, o.y_eve, o.gains};
}
constexpr auto isac_link_kernel = &isac_link_op<isac_link_forward>;

torch::Tensor isac_link_backward_kernel(const torch::Tensor& gains, const std::optional<torch::Tensor>& gy_bs,
                                        const std::optional<torch::Tensor>& gy_ue,
                                        const std::optional<torch::Tensor>& gy_eve) {
  return isac_link_backward(gains, gy_bs.value_or(torch::Tensor()), gy_ue.value_or(torch::Tensor()),
                            gy_eve.value_or(torch::Tensor()));
}

// Autograd: forward redispatches below the Autograd key to the backend kernel; backward calls the
// semsec::isac_link_backward op, so it too dispatches to the CPU or CUDA kernel.
class IsacLinkOp : public torch::autograd::Function<IsacLinkOp> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                                                const torch::Tensor& phi, const torch::Tensor& snr_db,
                                                const torch::Tensor& seeds, const torch::Tensor& counter,
                                                const torch::Tensor& w, IsacScalars s) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("semsec::isac_link", "")
                               .typed<decltype(isac_link_op<isac_link_forward>)>();
    const at::AutoDispatchBelowADInplaceOrView guard;
    auto [y_bs, y_ue, y_eve, gains] =
        op.call(z, phi, snr_db, seeds, counter, w, s.alpha_re, s.alpha_im, s.si_residual_power, s.eve_snr_offset_db,
                s.ref_gain_bs, s.noise, s.eval, s.alpha_random_phase);
    ctx->save_for_backward({gains});
    ctx->mark_non_differentiable({gains});
    return {y_bs, y_ue, y_eve, gains};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("semsec::isac_link_backward", "")
                               .typed<decltype(isac_link_backward_kernel)>();
    auto maybe = [](const torch::Tensor& g) { return g.defined() ? std::optional<torch::Tensor>(g) : std::nullopt; };
    const auto gains = ctx->get_saved_variables()[0];
    auto grad_z = op.call(gains, maybe(grad_outputs[0]), maybe(grad_outputs[1]), maybe(grad_outputs[2]));
    // One entry per forward argument: z, phi, snr_db, seeds, counter, w, the scalars.
    return {grad_z, {}, {}, {}, {}, {}, {}};
  }
};

Tensor4 isac_link_autograd(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                           const torch::Tensor& seeds, const torch::Tensor& counter, const torch::Tensor& w,
                           double alpha_re, double alpha_im, double si_residual_power, double eve_snr_offset_db,
                           double ref_gain_bs, bool noise, bool eval, bool alpha_random_phase) {
  const IsacScalars s{alpha_re, alpha_im, si_residual_power, eve_snr_offset_db, ref_gain_bs,
                      noise,    eval,     alpha_random_phase};
  auto outs = IsacLinkOp::apply(z, phi, snr_db, seeds, counter, w, s);
  return {outs[0], outs[1], outs[2], outs[3]};
}

Tensor4 isac_link_draws_op(const torch::Tensor& seeds, const torch::Tensor& counter, int64_t batch, int64_t length,
                           int64_t num_antennas, bool eval, bool alpha_random_phase) {
  IsacLinkParams p;
  p.num_antennas = num_antennas;
  p.w.assign(static_cast<size_t>(std::max<int64_t>(num_antennas, 0)), {0.0, 0.0});
  p.eval = eval;
  p.alpha_random_phase = alpha_random_phase;
  const IsacLinkDraws d = isac_link_draws(seeds, counter, batch, length, p);
  return {d.fading, d.noise_bs, d.noise_ue, d.noise_eve};
}

torch::Tensor make_beamformer_op(const std::string& kind, int64_t num_antennas, double steer_deg, double sector_lo_deg,
                                 double sector_hi_deg) {
  const auto w = make_beamformer(kind, num_antennas, steer_deg, {sector_lo_deg, sector_hi_deg});
  auto t = torch::empty({static_cast<int64_t>(w.size())}, torch::kComplexDouble);
  auto* p = t.data_ptr<c10::complex<double>>();
  for (size_t m = 0; m < w.size(); ++m) p[m] = {w[m].real(), w[m].imag()};
  return t;
}

double mean_sensing_gain_op(const torch::Tensor& w, double alpha_re, double alpha_im, double phi_lo, double phi_hi) {
  IsacScalars s{alpha_re, alpha_im, 0.0, 0.0, 1.0, true, false, false};
  return mean_sensing_gain(isac_params(w, s), phi_lo, phi_hi);
}

// ---------------------------------------------------------------------------------------------
// The CLSSR link level. A link is given by the fields of link::LinkConfig, flattened.

link::Position position(const std::vector<double>& xy, const char* name) {
  TORCH_CHECK(xy.size() == 2, "semsec link op: ", name, " must be [x_m, y_m], got ", xy.size(), " numbers");
  return {xy[0], xy[1]};
}

link::LinkConfig link_config(const std::string& scheme, int64_t num_tx, int64_t num_rx, int64_t num_beams,
                             const std::vector<double>& bs, const std::vector<double>& user,
                             const std::vector<double>& eves, double d0_m, double path_loss_exponent, double p_tx_dbm,
                             double bandwidth_hz, double n0_dbm_per_hz, double rician_k) {
  TORCH_CHECK(eves.size() % 2 == 0, "semsec link op: eves must be [x_1, y_1, x_2, y_2, ...], got ", eves.size(),
              " numbers");
  link::LinkConfig cfg;
  cfg.scheme = link::parse_scheme(scheme);
  cfg.num_tx = static_cast<int>(num_tx);
  cfg.num_rx = static_cast<int>(num_rx);
  cfg.num_beams = static_cast<int>(num_beams);
  cfg.bs = position(bs, "bs");
  cfg.user = position(user, "user");
  cfg.eves.clear();
  for (size_t i = 0; i < eves.size(); i += 2) cfg.eves.push_back({eves[i], eves[i + 1]});
  cfg.d0_m = d0_m;
  cfg.path_loss_exponent = path_loss_exponent;
  cfg.p_tx_dbm = p_tx_dbm;
  cfg.bandwidth_hz = bandwidth_hz;
  cfg.n0_dbm_per_hz = n0_dbm_per_hz;
  cfg.rician_k = rician_k;
  link::validate(cfg);
  return cfg;
}

uint32_t counter_arg(int64_t v, const char* name) {
  TORCH_CHECK(v >= 0 && v <= static_cast<int64_t>(UINT32_MAX), "semsec link op: ", name, " must be in [0, 2^32), got ",
              v);
  return static_cast<uint32_t>(v);
}

torch::Tensor link_generate_channels_op(const std::string& scheme, int64_t num_tx, int64_t num_rx, int64_t num_beams,
                                        const std::vector<double>& bs, const std::vector<double>& user,
                                        const std::vector<double>& eves, double d0_m, double path_loss_exponent,
                                        double p_tx_dbm, double bandwidth_hz, double n0_dbm_per_hz, double rician_k,
                                        int64_t num_samples, int64_t seed, int64_t step, c10::Device device,
                                        int64_t stream) {
  const auto cfg = link_config(scheme, num_tx, num_rx, num_beams, bs, user, eves, d0_m, path_loss_exponent, p_tx_dbm,
                               bandwidth_hz, n0_dbm_per_hz, rician_k);
  return link::generate_channels(cfg, num_samples, static_cast<uint64_t>(seed), counter_arg(step, "step"), device,
                                 counter_arg(stream, "stream"));
}

std::tuple<torch::Tensor, torch::Tensor> link_transmit_op(
    const std::string& scheme, int64_t num_tx, int64_t num_rx, int64_t num_beams, const std::vector<double>& bs,
    const std::vector<double>& user, const std::vector<double>& eves, double d0_m, double path_loss_exponent,
    double p_tx_dbm, double bandwidth_hz, double n0_dbm_per_hz, double rician_k, const torch::Tensor& bits,
    const torch::Tensor& h, const torch::Tensor& beams, const torch::Tensor& tau, int64_t seed, int64_t step,
    int64_t stream, const std::optional<torch::Tensor>& sample_ids) {
  const auto cfg = link_config(scheme, num_tx, num_rx, num_beams, bs, user, eves, d0_m, path_loss_exponent, p_tx_dbm,
                               bandwidth_hz, n0_dbm_per_hz, rician_k);
  auto out = link::transmit(cfg, bits, h, beams, tau, static_cast<uint64_t>(seed), counter_arg(step, "step"),
                            counter_arg(stream, "stream"), sample_ids.value_or(torch::Tensor()));
  return {out.rx_bits, out.gain};
}

}  // namespace
}  // namespace semsec::kernels

#define SEMSEC_ISAC_ARGS                                                                                  \
  "Tensor z, Tensor phi, Tensor snr_db, Tensor seeds, Tensor counter, Tensor w, float alpha_re=1.0, "     \
  "float alpha_im=0.0, float si_residual_power=0.0, float eve_snr_offset_db=0.0, float ref_gain_bs=1.0, " \
  "bool noise=True, bool eval=False, bool alpha_random_phase=False"
// stream=8 is rng::kStreamLink (kernels/philox.h), the stream semsec's CLSSR runs draw from.
#define SEMSEC_LINK_ARGS                                                                                    \
  "str scheme, int num_tx, int num_rx, int num_beams, float[] bs, float[] user, float[] eves, float d0_m, " \
  "float path_loss_exponent, float p_tx_dbm, float bandwidth_hz, float n0_dbm_per_hz, float rician_k"

namespace {
using namespace semsec::kernels;
}  // namespace

TORCH_LIBRARY(semsec, m) {
  m.def("isac_link(" SEMSEC_ISAC_ARGS ") -> (Tensor y_bs, Tensor y_ue, Tensor y_eve, Tensor gains)");
  m.def("isac_link_backward(Tensor gains, Tensor? gy_bs, Tensor? gy_ue, Tensor? gy_eve) -> Tensor");
  m.def("isac_link_reference(" SEMSEC_ISAC_ARGS ") -> (Tensor y_bs, Tensor y_ue, Tensor y_eve, Tensor gains)",
        &isac_link_op<isac_link_reference>);
  m.def(
      "isac_link_draws(Tensor seeds, Tensor counter, int batch, int length, int num_antennas, bool eval=False, "
      "bool alpha_random_phase=False) -> (Tensor fading, Tensor noise_bs, Tensor noise_ue, Tensor noise_eve)",
      &isac_link_draws_op);
  m.def(
      "make_beamformer(str kind, int num_antennas, float steer_deg=0.0, float sector_lo_deg=-20.0, "
      "float sector_hi_deg=20.0) -> Tensor",
      &make_beamformer_op);
  m.def("mean_sensing_gain(Tensor w, float alpha_re, float alpha_im, float phi_lo, float phi_hi) -> float",
        &mean_sensing_gain_op);
  m.def("link_generate_channels(" SEMSEC_LINK_ARGS
        ", int num_samples, int seed, int step, Device device, int stream=8) -> Tensor",
        &link_generate_channels_op);
  m.def("link_transmit(" SEMSEC_LINK_ARGS
        ", Tensor bits, Tensor h, Tensor beams, Tensor tau, int seed, int step, int stream=8, "
        "Tensor? sample_ids=None) -> (Tensor rx_bits, Tensor gain)");
}

TORCH_LIBRARY_IMPL(semsec, CPU, m) {
  m.impl("isac_link", isac_link_kernel);
  m.impl("isac_link_backward", &isac_link_backward_kernel);
  m.impl("link_transmit", &link_transmit_op);
}

TORCH_LIBRARY_IMPL(semsec, CUDA, m) {
  m.impl("isac_link", isac_link_kernel);
  m.impl("isac_link_backward", &isac_link_backward_kernel);
  m.impl("link_transmit", &link_transmit_op);
}

TORCH_LIBRARY_IMPL(semsec, Autograd, m) { m.impl("isac_link", &isac_link_autograd); }
