// Every CUDA kernel launcher against its CPU twin on a real device (kernel_checks.hpp, also run
// emulated on the CPU by tests/backend/cuda_emulated/), float and double, on shapes large enough
// to span many blocks and the multi-block reduction paths; and the cuBLAS batched GEMM against
// cpu::gemm_batched. Without a device every case prints SKIPPED and passes.
#include <catch2/catch.hpp>

#include "crisp/backend/cpu/matmul.hpp"
#include "crisp/backend/cuda/matmul.hpp"
#include "cuda_test_util.hpp"
#include "kernel_checks.hpp"

namespace kc = crisp::kernel_checks;

TEMPLATE_TEST_CASE("CUDA element-wise kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_elementwise<TestType>(37, 53, 1);
  kc::check_elementwise<TestType>(300, 1000, 2);
}

TEMPLATE_TEST_CASE("CUDA reduction and index kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_reduce<TestType>(3, 5, 7, 3);
  kc::check_reduce<TestType>(4, 300, 129, 4);       // block reductions
  kc::check_sum_long<TestType>(3, 1000003, 5);      // few outputs, long reductions: split into chunks
}

TEMPLATE_TEST_CASE("CUDA softmax and dropout-mask kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_softmax_dropout<TestType>(3, 17, 5, 40001, 6);
  kc::check_softmax_dropout<TestType>(64, 1000, 1, 1 << 20, 7);
}

TEMPLATE_TEST_CASE("CUDA normalisation kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_norm<TestType>(2, 3, 7, 8);
  kc::check_norm<TestType>(16, 32, 4096, 9);  // batch norm of 16 x 32 x 64 x 64
}

TEMPLATE_TEST_CASE("CUDA pooling kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_pool<TestType>(3, 7, 9, 10);
  kc::check_pool<TestType>(64, 33, 47, 11);
}

TEMPLATE_TEST_CASE("CUDA pad and resize kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_pad_resize<TestType>(2, 5, 6, 12);
  kc::check_pad_resize<TestType>(48, 31, 45, 13);
}

TEMPLATE_TEST_CASE("CUDA optimiser-step kernels match their CPU twins", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  kc::check_optim<TestType>(1000, 14);
  kc::check_optim<TestType>(300001, 15);
}

TEMPLATE_TEST_CASE("cuBLAS batched GEMM matches cpu::gemm_batched", "[cuda]", float, double) {
  CRISP_CUDA_TEST_OR_SKIP();
  using T = TestType;
  crisp::Generator gen(16);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (bool uniform : {true, false}) {
        crisp::GemmBatch g;
        g.M = 37, g.N = 19, g.K = 23, g.trans_a = ta, g.trans_b = tb;
        g.lda = (ta ? g.M : g.K) + 3, g.ldb = (tb ? g.K : g.N) + 1;
        const int64_t batch = 5, sa = (ta ? g.K : g.M) * g.lda, sb = (tb ? g.N : g.K) * g.ldb;
        for (int64_t i = 0; i < batch; ++i) {
          g.offset_a.push_back(uniform ? i * sa : (i % 2) * sa);  // not uniform: a broadcast-like repeat
          g.offset_b.push_back(i * sb);
        }
        const auto a = kc::random<T>(size_t(batch * sa), gen), b = kc::random<T>(size_t(batch * sb), gen);
        std::vector<T> c(size_t(batch * g.M * g.N));
        crisp::cpu::gemm_batched<T>(g, a.data(), b.data(), c.data());
        kc::Buf<T> da(a), db(b), dc(c.size());
        dc.poison();
        crisp::cuda::gemm_batched<T>(g, da.get(), db.get(), dc.get());
        INFO("trans_a " << ta << " trans_b " << tb << (uniform ? " strided-batched" : " per product"));
        kc::check_close(dc.host(), c, kc::tol<T>(), "gemm_batched");
      }
}
