// dtype.cuh: the floating element types of the model ops (folio_cuda_dtype), their conversions to and from fp32,
// and one dispatch helper from the runtime dtype to a compile-time type.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include <type_traits>

#include "folio_cuda.h"

namespace folio {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }

// x rounded to T's precision and read back (PyTorch's rounding of an intermediate result in T).
template <typename T>
__device__ __forceinline__ float round_to(float x) { return to_float(from_float<T>(x)); }

template <typename T>
struct type_tag {
    using type = T;
};

inline bool is_float_dtype(int32_t dtype) {
    return dtype == FOLIO_CUDA_DTYPE_F32 || dtype == FOLIO_CUDA_DTYPE_BF16 || dtype == FOLIO_CUDA_DTYPE_F16;
}

inline int32_t dtype_size(int32_t dtype) { return dtype == FOLIO_CUDA_DTYPE_F32 ? 4 : 2; }

// Calls f(type_tag<T>{}) for the C++ type of a floating dtype (is_float_dtype must hold):
//   return dispatch_float(dtype, [&](auto tag) { using T = typename decltype(tag)::type; ... });
template <typename F>
auto dispatch_float(int32_t dtype, F&& f) {
    if (dtype == FOLIO_CUDA_DTYPE_BF16) return f(type_tag<__nv_bfloat16>{});
    if (dtype == FOLIO_CUDA_DTYPE_F16) return f(type_tag<__half>{});
    return f(type_tag<float>{});
}

// The attention kernels' dispatch: calls f(type_tag<T>{}, std::integral_constant<int, HEAD_DIM>{}) for dtype F16 or
// BF16 and head_dim 64 or 128 (the caller has refused everything else):
//   return dispatch_attention(dtype, head_dim, [&](auto tag, auto dim) { launch<typename decltype(tag)::type,
//                                                                              decltype(dim)::value>(...); });
template <typename F>
auto dispatch_attention(int32_t dtype, int32_t head_dim, F&& f) {
    using D64 = std::integral_constant<int, 64>;
    using D128 = std::integral_constant<int, 128>;
    if (dtype == FOLIO_CUDA_DTYPE_BF16) {
        return head_dim == 128 ? f(type_tag<__nv_bfloat16>{}, D128{}) : f(type_tag<__nv_bfloat16>{}, D64{});
    }
    return head_dim == 128 ? f(type_tag<__half>{}, D128{}) : f(type_tag<__half>{}, D64{});
}

}  // namespace folio
