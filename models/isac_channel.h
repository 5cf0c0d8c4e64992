// The SS-ISAC channel of a grid as one object: the link's parameters (built once from the
// configuration's channel section), the grid points' Philox keys and the step counter, on one
// device. It owns what every call of the ISAC link shares, so an experiment only says which step
// and which streams (training or evaluation); the draws stay a function of (seed, step, sample,
// element), as kernels/isac_link/isac_link_op.h describes.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "kernels/isac_link/isac_link_op.h"

namespace semsec::models {

class IsacChannel {
 public:
  IsacChannel() = default;
  // `params` validated here (errors name the field); one seed per grid point.
  IsacChannel(kernels::IsacLinkParams params, const std::vector<uint64_t>& seeds, torch::Device device);

  // The step whose draws the next calls use. Written in place: a captured CUDA graph reads the
  // counter at a fixed address and replays with the new step.
  void set_step(int64_t step);
  // The link at the current step for codewords z [G, B, L], azimuths phi [G, B] and SNRs [G]:
  // the training streams, or the evaluation streams when `eval`. Differentiable w.r.t. z.
  kernels::IsacLinkOut operator()(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                  bool eval) const;
  // The same in two halves (kernels/isac_link/isac_link_op.h): the channel of the current step for
  // codewords of length L, then codewords through it. One state applied to several z gives them
  // common draws, and apply(z, generate(...)) equals operator() bit for bit.
  kernels::IsacLinkState generate(const torch::Tensor& phi, const torch::Tensor& snr_db, int64_t length,
                                  bool eval) const;
  static kernels::IsacLinkOut apply(const torch::Tensor& z, const kernels::IsacLinkState& state) {
    return kernels::isac_link_apply(z, state);
  }

  const kernels::IsacLinkParams& params() const { return params_; }
  const torch::Tensor& seeds() const { return seeds_; }  // [G] int64 on the device

 private:
  kernels::IsacLinkParams params_for(bool eval) const;

  kernels::IsacLinkParams params_;
  torch::Tensor seeds_, counter_;
};

}  // namespace semsec::models
