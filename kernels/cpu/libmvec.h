#pragma once
// glibc's vector math library (libmvec, linked with -lmvec): eight floats at once with
// AVX2. The names are the x86-64 vector ABI's ("d" = AVX2, "N8" = 8 lanes, "v" = vector
// argument). Both stay within a few ulp of libm's scalar logf and expf; logf, unlike
// oneDNN's eltwise log, is exact near 1.
#include <immintrin.h>

extern "C" __m256 _ZGVdN8v_logf(__m256 x);
extern "C" __m256 _ZGVdN8v_expf(__m256 x);
