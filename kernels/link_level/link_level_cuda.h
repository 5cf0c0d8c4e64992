// CUDA launchers of the link-level kernels (link_level.cu): raw pointers and a stream, no torch,
// so the .cu file compiles without torch headers. Shapes and layouts as the CPU launchers in
// link_level.h; the caller checks arguments and the launch error (kernels/link_level/link_level_op.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/link_level/link_level.h"

namespace semsec::link {

void ber_blocks_cuda(int64_t n, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits, uint8_t* errors,
                     cudaStream_t stream);
void generate_channels_cuda(const ChannelArgs& c, double* h, cudaStream_t stream);
void transmit_cuda(const TransmitArgs& t, const uint8_t* bits, const double* h, const int64_t* beams, const double* tau,
                   uint8_t* rx_bits, double* gain, cudaStream_t stream);

}  // namespace semsec::link
