// Torch-facing ISAC link: checks, CPU/CUDA dispatch, the autograd Functions (the whole link and its
// apply half) with the analytic backward, and the ATen reference composed from the same Philox
// draws. Beamformers and the mean sensing gain: isac_link_beam.cpp.
#include "kernels/isac_link/isac_link_op.h"

#include <cmath>
#include <limits>

#include "core/errors.h"
#include "kernels/device.h"
#include "kernels/isac_link/isac_link.h"
#include "kernels/isac_link/isac_link_cuda.h"
#include "kernels/isac_link/isac_link_raw.h"
#include "kernels/philox.h"

namespace semsec::kernels {

namespace {

constexpr double kPi = 3.141592653589793;

}  // namespace

IsacLinkArgs isac_link_args(const IsacLinkParams& p) {
  if (p.num_antennas < 1 || p.num_antennas > kIsacMaxAntennas) {
    fail("isac_link: num_antennas = {} out of range, expected 1..{}", p.num_antennas, kIsacMaxAntennas);
  }
  if (static_cast<int64_t>(p.w.size()) != p.num_antennas) {
    fail("isac_link: beamformer w has {} weights, expected num_antennas = {} (build it with make_beamformer)",
         p.w.size(), p.num_antennas);
  }
  if (!(p.si_residual_power >= 0.0) || !std::isfinite(p.si_residual_power)) {
    fail("isac_link: si_residual_power = {} must be finite and >= 0", p.si_residual_power);
  }
  if (!(p.ref_gain_bs > 0.0) || !std::isfinite(p.ref_gain_bs)) {
    fail("isac_link: ref_gain_bs = {} must be finite and > 0 (use mean_sensing_gain)", p.ref_gain_bs);
  }
  if (!std::isfinite(p.eve_snr_offset_db) || !std::isfinite(p.alpha.real()) || !std::isfinite(p.alpha.imag())) {
    fail("isac_link: eve_snr_offset_db = {} and alpha = ({}, {}) must be finite", p.eve_snr_offset_db, p.alpha.real(),
         p.alpha.imag());
  }
  IsacLinkArgs a{};
  a.num_antennas = static_cast<int32_t>(p.num_antennas);
  for (int64_t m = 0; m < p.num_antennas; ++m) {
    a.w_re[m] = p.w[m].real();
    a.w_im[m] = p.w[m].imag();
  }
  a.alpha_re = p.alpha.real();
  a.alpha_im = p.alpha.imag();
  a.si_power = p.si_residual_power;
  a.eve_snr_offset_db = p.eve_snr_offset_db;
  a.ref_gain_bs = p.ref_gain_bs;
  a.noise = p.noise ? 1 : 0;
  a.eval = p.eval ? 1 : 0;
  a.alpha_random_phase = p.alpha_random_phase ? 1 : 0;
  return a;
}

namespace {

// Checks of the channel's inputs against the G, B, dtype and device of `ref` ("z" or "phi", named
// in the messages); fills a's G, B, L.
void check_channel_inputs(const char* ref, int64_t num_grid, int64_t batch, int64_t length, torch::ScalarType dtype,
                          torch::Device device, const torch::Tensor& phi, const torch::Tensor& snr_db,
                          const torch::Tensor& seeds, const torch::Tensor& counter, IsacLinkArgs& a) {
  TORCH_CHECK(phi.defined() && snr_db.defined() && seeds.defined() && counter.defined(),
              "isac_link: undefined input tensor");
  TORCH_CHECK(phi.dim() == 2 && phi.size(0) == num_grid && phi.size(1) == batch, "isac_link: phi must be [G, B] = [",
              num_grid, ", ", batch, "], got ", phi.sizes());
  TORCH_CHECK(snr_db.dim() == 1 && snr_db.size(0) == num_grid, "isac_link: snr_db must be [G] = [", num_grid, "], got ",
              snr_db.sizes());
  TORCH_CHECK(seeds.dim() == 1 && seeds.size(0) == num_grid, "isac_link: seeds must be [G] = [", num_grid, "], got ",
              seeds.sizes());
  TORCH_CHECK(counter.numel() == 1, "isac_link: counter must hold one step, got shape ", counter.sizes());
  TORCH_CHECK(phi.scalar_type() == dtype && snr_db.scalar_type() == dtype, "isac_link: phi and snr_db must have ", ref,
              "'s dtype ", dtype, ", got ", phi.scalar_type(), " and ", snr_db.scalar_type());
  TORCH_CHECK(seeds.scalar_type() == torch::kLong && counter.scalar_type() == torch::kLong,
              "isac_link: seeds and counter must be int64, got ", seeds.scalar_type(), " and ", counter.scalar_type());
  for (const auto* t : {&phi, &snr_db, &seeds, &counter}) {
    TORCH_CHECK(t->device() == device, "isac_link: all inputs must be on ", ref, "'s device ", device,
                ", got a tensor on ", t->device());
  }
  TORCH_CHECK(device.is_cpu() || device.is_cuda(), "isac_link: unsupported device ", device);
  TORCH_CHECK(batch <= std::numeric_limits<uint32_t>::max(), "isac_link: batch ", batch,
              " exceeds the Philox sample counter (2^32)");
  TORCH_CHECK((length + 1) / 2 <= std::numeric_limits<uint32_t>::max(), "isac_link: length ", length,
              " exceeds the Philox block counter");
  a.num_grid = num_grid;
  a.batch = batch;
  a.length = length;
}

void check_real_dtype(const char* what, torch::ScalarType dtype) {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble, "isac_link: ", what,
              " must be float32 or float64, got ", dtype);
}

// Shape, dtype and device checks shared by isac_link and isac_link_reference; fills G, B, L.
void check_inputs(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                  const torch::Tensor& seeds, const torch::Tensor& counter, IsacLinkArgs& a) {
  TORCH_CHECK(z.defined(), "isac_link: undefined input tensor");
  TORCH_CHECK(z.dim() == 3, "isac_link: z must be [G, B, L], got ", z.sizes());
  check_real_dtype("z", z.scalar_type());
  check_channel_inputs("z", z.size(0), z.size(1), z.size(2), z.scalar_type(), z.device(), phi, snr_db, seeds, counter,
                       a);
}

IsacSample* sample_records(const torch::Tensor& samples) {
  return reinterpret_cast<IsacSample*>(samples.data_ptr<double>());
}

// The states of every sample at `counter` (generate): samples [G, B, kIsacSampleDoubles] float64
// and gains [G, B, 3, 2] of phi's dtype, on phi's device; inputs contiguous.
void generate_into(const IsacLinkArgs& a, const torch::Tensor& phi, const torch::Tensor& snr_db,
                   const torch::Tensor& seeds, const torch::Tensor& counter, const torch::Tensor& samples,
                   const torch::Tensor& gains) {
  on_device(
      phi.device(), "isac_link generate",
      [&] {
        const int64_t step = counter.data_ptr<int64_t>()[0];
        AT_DISPATCH_FLOATING_TYPES(phi.scalar_type(), "isac_link_generate_cpu", [&] {
          isac_link_generate_cpu<scalar_t>(a, phi.data_ptr<scalar_t>(), snr_db.data_ptr<scalar_t>(),
                                           seeds.data_ptr<int64_t>(), step, sample_records(samples),
                                           gains.data_ptr<scalar_t>());
        });
      },
      [&](CudaStream stream) {
        AT_DISPATCH_FLOATING_TYPES(phi.scalar_type(), "isac_link_generate_cuda", [&] {
          isac_link_generate_cuda<scalar_t>(a, phi.data_ptr<scalar_t>(), snr_db.data_ptr<scalar_t>(),
                                            seeds.data_ptr<int64_t>(), counter.data_ptr<int64_t>(),
                                            sample_records(samples), gains.data_ptr<scalar_t>(), stream);
        });
      });
}

// The symbols of z through the states `samples` with the noise draws at `counter` (apply).
void apply_into(const IsacLinkArgs& a, const torch::Tensor& z, const torch::Tensor& samples, const torch::Tensor& seeds,
                const torch::Tensor& counter, IsacLinkOut& out) {
  on_device(
      z.device(), "isac_link apply",
      [&] {
        const int64_t step = counter.data_ptr<int64_t>()[0];
        AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "isac_link_apply_cpu", [&] {
          isac_link_apply_cpu<scalar_t>(a, z.data_ptr<scalar_t>(), sample_records(samples), seeds.data_ptr<int64_t>(),
                                        step, out.y_bs.data_ptr<scalar_t>(), out.y_ue.data_ptr<scalar_t>(),
                                        out.y_eve.data_ptr<scalar_t>());
        });
      },
      [&](CudaStream stream) {
        AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "isac_link_apply_cuda", [&] {
          isac_link_apply_cuda<scalar_t>(a, z.data_ptr<scalar_t>(), sample_records(samples), seeds.data_ptr<int64_t>(),
                                         counter.data_ptr<int64_t>(), out.y_bs.data_ptr<scalar_t>(),
                                         out.y_ue.data_ptr<scalar_t>(), out.y_eve.data_ptr<scalar_t>(), stream);
        });
      });
}

IsacLinkOut empty_outputs(const IsacLinkArgs& a, const torch::TensorOptions& options) {
  IsacLinkOut out;
  out.y_bs = torch::empty({a.num_grid, a.batch, 2 * a.length}, options);
  out.y_ue = torch::empty_like(out.y_bs);
  out.y_eve = torch::empty_like(out.y_bs);
  return out;
}

// The fused forward: on the CPU one pass over chunks of samples (fading and noise drawn together),
// on CUDA generate then apply with the states in a workspace.
IsacLinkOut forward_impl(const torch::Tensor& z_in, const torch::Tensor& phi_in, const torch::Tensor& snr_in,
                         const torch::Tensor& seeds_in, const torch::Tensor& counter_in, const IsacLinkArgs& a) {
  const auto z = z_in.contiguous();
  const auto phi = phi_in.contiguous();
  const auto snr_db = snr_in.contiguous();
  const auto seeds = seeds_in.contiguous();
  const auto counter = counter_in.contiguous();
  IsacLinkOut out = empty_outputs(a, z.options());
  out.gains = torch::empty({a.num_grid, a.batch, 3, 2}, z.options());
  if (a.num_grid * a.batch == 0) return out;
  if (!z.device().is_cpu()) {
    const auto workspace = torch::empty({a.num_grid, a.batch, kIsacSampleDoubles}, z.options().dtype(torch::kDouble));
    generate_into(a, phi, snr_db, seeds, counter, workspace, out.gains);
    apply_into(a, z, workspace, seeds, counter, out);
    return out;
  }
  const int64_t step = counter.data_ptr<int64_t>()[0];
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "isac_link_forward_cpu", [&] {
    isac_link_forward_cpu<scalar_t>(a, z.data_ptr<scalar_t>(), phi.data_ptr<scalar_t>(), snr_db.data_ptr<scalar_t>(),
                                    seeds.data_ptr<int64_t>(), step, out.y_bs.data_ptr<scalar_t>(),
                                    out.y_ue.data_ptr<scalar_t>(), out.y_eve.data_ptr<scalar_t>(),
                                    out.gains.data_ptr<scalar_t>());
  });
  return out;
}

torch::Tensor backward_impl(const torch::Tensor& gains_in, const torch::Tensor& gy_bs_in, const torch::Tensor& gy_ue_in,
                            const torch::Tensor& gy_eve_in) {
  const int64_t num_grid = gains_in.size(0), batch = gains_in.size(1);
  const auto gains = gains_in.contiguous();
  // Autograd hands zeros for unused outputs; make every gradient a dense row-major tensor.
  auto dense = [&](const torch::Tensor& g) { return g.defined() ? g.to(gains.dtype()).contiguous() : torch::Tensor(); };
  auto gy_bs = dense(gy_bs_in), gy_ue = dense(gy_ue_in), gy_eve = dense(gy_eve_in);
  const torch::Tensor& any = gy_bs.defined() ? gy_bs : (gy_ue.defined() ? gy_ue : gy_eve);
  TORCH_CHECK(any.defined(), "isac_link backward: no output gradient");
  const int64_t length = any.size(2) / 2;
  for (auto* g : {&gy_bs, &gy_ue, &gy_eve}) {
    if (!g->defined()) *g = torch::zeros_like(any);
  }
  auto grad_z = torch::empty({num_grid, batch, length}, gains.options());
  if (grad_z.numel() == 0) return grad_z;
  on_device(
      gains.device(), "isac_link backward",
      [&] {
        AT_DISPATCH_FLOATING_TYPES(gains.scalar_type(), "isac_link_backward_cpu", [&] {
          isac_link_backward_cpu<scalar_t>(num_grid, batch, length, gains.data_ptr<scalar_t>(),
                                           gy_bs.data_ptr<scalar_t>(), gy_ue.data_ptr<scalar_t>(),
                                           gy_eve.data_ptr<scalar_t>(), grad_z.data_ptr<scalar_t>());
        });
      },
      [&](CudaStream stream) {
        AT_DISPATCH_FLOATING_TYPES(gains.scalar_type(), "isac_link_backward_cuda", [&] {
          isac_link_backward_cuda<scalar_t>(num_grid, batch, length, gains.data_ptr<scalar_t>(),
                                            gy_bs.data_ptr<scalar_t>(), gy_ue.data_ptr<scalar_t>(),
                                            gy_eve.data_ptr<scalar_t>(), grad_z.data_ptr<scalar_t>(), stream);
        });
      });
  return grad_z;
}

class IsacLinkFunction : public torch::autograd::Function<IsacLinkFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                                                const torch::Tensor& phi, const torch::Tensor& snr_db,
                                                const torch::Tensor& seeds, const torch::Tensor& counter,
                                                const IsacLinkArgs& a) {
    IsacLinkOut out = forward_impl(z, phi, snr_db, seeds, counter, a);
    ctx->save_for_backward({out.gains});
    ctx->mark_non_differentiable({out.gains});
    return {out.y_bs, out.y_ue, out.y_eve, out.gains};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto gains = ctx->get_saved_variables()[0];
    auto grad_z = backward_impl(gains, grad_outputs[0], grad_outputs[1], grad_outputs[2]);
    // One entry per forward argument: z, phi, snr_db, seeds, counter, args.
    return {grad_z, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// apply's autograd: z -> (y_bs, y_ue, y_eve) through fixed states; the backward needs only the gains.
class IsacApplyFunction : public torch::autograd::Function<IsacApplyFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z_in,
                                                const torch::Tensor& samples, const torch::Tensor& gains,
                                                const torch::Tensor& seeds, const torch::Tensor& counter,
                                                const IsacLinkArgs& a) {
    const auto z = z_in.contiguous();
    IsacLinkOut out = empty_outputs(a, z.options());
    if (a.num_grid * a.batch > 0) apply_into(a, z, samples, seeds, counter, out);
    ctx->save_for_backward({gains});
    return {out.y_bs, out.y_ue, out.y_eve};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto gains = ctx->get_saved_variables()[0];
    auto grad_z = backward_impl(gains, grad_outputs[0], grad_outputs[1], grad_outputs[2]);
    // One entry per forward argument: z, samples, gains, seeds, counter, args.
    return {grad_z, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor complex_vector(const std::vector<std::complex<double>>& v) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, torch::kComplexDouble);
  auto* p = t.data_ptr<c10::complex<double>>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = c10::complex<double>(v[i].real(), v[i].imag());
  return t;
}

}  // namespace

IsacLinkOut isac_link(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                      const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p) {
  IsacLinkArgs a = isac_link_args(p);
  check_inputs(z, phi, snr_db, seeds, counter, a);
  auto outs = IsacLinkFunction::apply(z, phi, snr_db, seeds, counter, a);
  return IsacLinkOut{outs[0], outs[1], outs[2], outs[3]};
}

IsacLinkState isac_link_generate(const torch::Tensor& phi_in, const torch::Tensor& snr_db, const torch::Tensor& seeds,
                                 const torch::Tensor& counter, int64_t length, const IsacLinkParams& p) {
  IsacLinkState st;
  st.args = isac_link_args(p);
  TORCH_CHECK(phi_in.defined() && phi_in.dim() == 2, "isac_link_generate: phi must be [G, B], got ",
              phi_in.defined() ? phi_in.sizes() : torch::IntArrayRef{});
  check_real_dtype("phi", phi_in.scalar_type());
  TORCH_CHECK(length >= 0, "isac_link_generate: length must be >= 0, got ", length);
  check_channel_inputs("phi", phi_in.size(0), phi_in.size(1), length, phi_in.scalar_type(), phi_in.device(), phi_in,
                       snr_db, seeds, counter, st.args);
  const auto phi = phi_in.contiguous();
  st.seeds = seeds.contiguous();
  st.counter = counter.reshape({1}).clone();  // the step of these draws, whatever the caller's counter does next
  st.samples = torch::empty({st.args.num_grid, st.args.batch, kIsacSampleDoubles}, phi.options().dtype(torch::kDouble));
  st.gains = torch::empty({st.args.num_grid, st.args.batch, 3, 2}, phi.options());
  if (st.args.num_grid * st.args.batch > 0) {
    generate_into(st.args, phi, snr_db.contiguous(), st.seeds, st.counter, st.samples, st.gains);
  }
  return st;
}

IsacLinkOut isac_link_apply(const torch::Tensor& z, const IsacLinkState& state) {
  const IsacLinkArgs& a = state.args;
  TORCH_CHECK(state.samples.defined() && state.gains.defined() && state.seeds.defined() && state.counter.defined(),
              "isac_link_apply: empty state (make it with isac_link_generate)");
  TORCH_CHECK(z.defined() && z.dim() == 3 && z.size(0) == a.num_grid && z.size(1) == a.batch && z.size(2) == a.length,
              "isac_link_apply: z must be [G, B, L] = [", a.num_grid, ", ", a.batch, ", ", a.length,
              "] as the state was generated for, got ", z.defined() ? z.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(z.scalar_type() == state.gains.scalar_type(), "isac_link_apply: z must have the state's dtype ",
              state.gains.scalar_type(), ", got ", z.scalar_type());
  TORCH_CHECK(z.device() == state.samples.device(), "isac_link_apply: z must be on the state's device ",
              state.samples.device(), ", got ", z.device());
  auto outs = IsacApplyFunction::apply(z, state.samples, state.gains, state.seeds, state.counter, a);
  return IsacLinkOut{outs[0], outs[1], outs[2], state.gains};
}

IsacLinkOut isac_link_forward(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                              const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p) {
  IsacLinkArgs a = isac_link_args(p);
  check_inputs(z, phi, snr_db, seeds, counter, a);
  return forward_impl(z, phi, snr_db, seeds, counter, a);
}

torch::Tensor isac_link_backward(const torch::Tensor& gains, const torch::Tensor& gy_bs, const torch::Tensor& gy_ue,
                                 const torch::Tensor& gy_eve) {
  TORCH_CHECK(gains.defined() && gains.dim() == 4 && gains.size(2) == 3 && gains.size(3) == 2,
              "isac_link_backward: gains must be [G, B, 3, 2]");
  TORCH_CHECK(gains.scalar_type() == torch::kFloat || gains.scalar_type() == torch::kDouble,
              "isac_link_backward: gains must be float32 or float64, got ", gains.scalar_type());
  int64_t width = -1;  // 2L, the same for every defined gradient
  for (const auto* g : {&gy_bs, &gy_ue, &gy_eve}) {
    if (!g->defined()) continue;
    if (width < 0) width = g->dim() == 3 ? g->size(2) : -1;
    TORCH_CHECK(g->dim() == 3 && g->size(0) == gains.size(0) && g->size(1) == gains.size(1) && g->size(2) % 2 == 0 &&
                    g->size(2) == width,
                "isac_link_backward: output gradients must be [G, B, 2L] = [", gains.size(0), ", ", gains.size(1),
                ", 2L], got ", g->sizes());
    TORCH_CHECK(g->device() == gains.device(), "isac_link_backward: gradients must be on the gains' device ",
                gains.device(), ", got ", g->device());
  }
  return backward_impl(gains, gy_bs, gy_ue, gy_eve);
}

IsacLinkDraws isac_link_draws(const torch::Tensor& seeds_in, const torch::Tensor& counter_in, int64_t batch,
                              int64_t length, const IsacLinkParams& p) {
  TORCH_CHECK(seeds_in.dim() == 1 && seeds_in.scalar_type() == torch::kLong,
              "isac_link_draws: seeds must be int64 [G], got ", seeds_in.scalar_type(), " ", seeds_in.sizes());
  TORCH_CHECK(counter_in.numel() == 1 && counter_in.scalar_type() == torch::kLong,
              "isac_link_draws: counter must be one int64");
  TORCH_CHECK(batch >= 0 && length >= 0, "isac_link_draws: batch ", batch, " and length ", length, " must be >= 0");
  isac_link_args(p);  // validates num_antennas
  const auto seeds = seeds_in.to(torch::kCPU).contiguous();
  const auto step = static_cast<uint32_t>(counter_in.to(torch::kCPU).item<int64_t>());
  const int64_t num_grid = seeds.size(0), m = p.num_antennas;
  const int64_t per_sample = 2 * m + 2 + (p.alpha_random_phase ? 2 : 0);
  const uint32_t offset = p.eval ? static_cast<uint32_t>(rng::kStreamEvalOffset) : 0u;
  IsacLinkDraws d;
  d.fading = torch::empty({num_grid, batch, per_sample}, torch::kDouble);
  d.noise_bs = torch::empty({num_grid, batch, length, 2}, torch::kDouble);
  d.noise_ue = torch::empty_like(d.noise_bs);
  d.noise_eve = torch::empty_like(d.noise_bs);
  auto* fading = d.fading.data_ptr<double>();
  for (int64_t g = 0; g < num_grid; ++g) {
    const rng::Key key = rng::make_key(static_cast<uint64_t>(seeds.data_ptr<int64_t>()[g]));
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t i = g * batch + b;
      float n[4];
      for (int64_t k = 0; k < per_sample; ++k) {  // normal k sits in block k / 4, slot k % 4
        if (k % 4 == 0) {
          rng::normal4f(
              rng::draw(key, rng::kStreamFading + offset, step, static_cast<uint32_t>(b), static_cast<uint32_t>(k / 4)),
              n);
        }
        fading[i * per_sample + k] = n[k % 4];
      }
      const std::pair<torch::Tensor*, uint32_t> noises[] = {
          {&d.noise_bs, rng::kStreamNoiseBs}, {&d.noise_ue, rng::kStreamNoiseUe}, {&d.noise_eve, rng::kStreamNoiseEve}};
      for (const auto& [t, stream] : noises) {
        auto* out = t->data_ptr<double>() + i * length * 2;
        for (int64_t l = 0; l < length; ++l) {  // symbol l: block l / 2, slots 2 (l % 2) and 2 (l % 2) + 1
          if (l % 2 == 0) {
            rng::normal4f(rng::draw(key, stream + offset, step, static_cast<uint32_t>(b), static_cast<uint32_t>(l / 2)),
                          n);
          }
          out[2 * l] = n[2 * (l % 2)];
          out[2 * l + 1] = n[2 * (l % 2) + 1];
        }
      }
    }
  }
  return d;
}

IsacLinkOut isac_link_reference(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p) {
  IsacLinkArgs a = isac_link_args(p);
  check_inputs(z, phi, snr_db, seeds, counter, a);
  const int64_t num_grid = a.num_grid, batch = a.batch, length = a.length, m = p.num_antennas;
  const auto dev = z.device();
  const auto real = torch::TensorOptions().dtype(torch::kDouble).device(dev);
  const IsacLinkDraws d = isac_link_draws(seeds, counter, batch, length, p);
  const auto fading = d.fading.to(dev);
  const auto w = complex_vector(p.w).to(dev);
  const c10::complex<double> alpha(p.alpha.real(), p.alpha.imag());

  // Sensing: alpha a^H(phi) w, a(phi)_m = exp(j pi m sin phi).
  const auto sin_phi = torch::sin(phi.to(torch::kDouble)).unsqueeze(-1);  // [G,B,1]
  const auto phase = -kPi * torch::arange(m, real) * sin_phi;             // [G,B,M]
  const auto conj_a = torch::polar(torch::ones_like(phase), phase);
  auto sens = (conj_a * w).sum(-1) * alpha;  // [G,B]
  if (p.alpha_random_phase) {                // alpha e^{j theta}, e^{j theta} = (n_2M+2 + j n_2M+3) / |.|
    const auto u = torch::complex(fading.select(-1, 2 * m + 2), fading.select(-1, 2 * m + 3));
    sens = sens * u / u.abs();
  }
  // Fading: h ~ CN(0, I_M), h' = h^H w; residual SI ~ CN(0, rho).
  const auto h = torch::complex(fading.slice(-1, 0, 2 * m, 2), fading.slice(-1, 1, 2 * m, 2)) / std::sqrt(2.0);
  const auto h_eff = (h.conj() * w).sum(-1);  // [G,B]
  const auto s_si =
      torch::complex(fading.select(-1, 2 * m), fading.select(-1, 2 * m + 1)) * std::sqrt(0.5 * p.si_residual_power);
  const auto snr = torch::pow(10.0, snr_db.to(torch::kDouble) / 10.0).unsqueeze(-1);  // [G,1]
  const auto snr_eve = torch::pow(10.0, (snr_db.to(torch::kDouble) + p.eve_snr_offset_db) / 10.0).unsqueeze(-1);
  const auto c_ue = h_eff.conj() / (h_eff.abs().square() + 1.0 / snr);
  const auto s_bs = sens + s_si;
  const auto s_ue = c_ue * h_eff;
  const auto s_eve = sens;

  // Noise CN(0, s2) per symbol, s2 = gain * P_s / snr with P_s = 1 / L.
  const double symbol_power = 1.0 / static_cast<double>(length);
  auto noise = [&](const torch::Tensor& draws, const torch::Tensor& var) {
    if (!p.noise) return torch::zeros({num_grid, batch, length}, real.dtype(torch::kComplexDouble));
    const auto n = draws.to(dev);
    const auto sigma = torch::sqrt(var / 2.0).unsqueeze(-1);  // [G,1,1]
    return torch::complex(n.select(-1, 0), n.select(-1, 1)) * sigma;
  };
  const auto n_bs = noise(d.noise_bs, p.ref_gain_bs * symbol_power / snr);
  const auto n_ue = noise(d.noise_ue, symbol_power / snr);
  const auto n_eve = noise(d.noise_eve, p.ref_gain_bs * symbol_power / snr_eve);

  const auto zd = z.to(torch::kDouble);
  auto out_of = [&](const torch::Tensor& y) {
    return torch::view_as_real(y).reshape({num_grid, batch, 2 * length}).to(z.scalar_type());
  };
  IsacLinkOut out;
  out.y_bs = out_of(s_bs.unsqueeze(-1) * zd + n_bs);
  out.y_ue = out_of(s_ue.unsqueeze(-1) * zd + c_ue.unsqueeze(-1) * n_ue);
  out.y_eve = out_of(s_eve.unsqueeze(-1) * zd + n_eve);
  out.gains = torch::view_as_real(torch::stack({s_bs, s_ue, s_eve}, -1)).to(z.scalar_type()).contiguous();
  return out;
}

}  // namespace semsec::kernels
