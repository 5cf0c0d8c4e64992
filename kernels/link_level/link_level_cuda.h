// CUDA launchers of the link-level kernels (link_level.cu): raw pointers and a stream, no torch,
// so the .cu file compiles without torch headers. Shapes and layouts as the CPU launchers in
// link_level.h; the caller checks arguments and the launch error (kernels/link_level/link_level_op.cpp).
#pragma once

#include <cstdint>

#include "kernels/cuda_stream.h"
#include "kernels/link_level/link_level.h"

namespace semsec::link {

void ber_blocks_cuda(int64_t n, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits, uint8_t* errors,
                     kernels::CudaStream stream);
void generate_channels_cuda(const ChannelArgs& c, double* h, kernels::CudaStream stream);
void transmit_cuda(const TransmitArgs& t, const uint8_t* bits, const double* h, const int64_t* beams, const double* tau,
                   uint8_t* rx_bits, double* gain, kernels::CudaStream stream);

}  // namespace semsec::link
