// The element-wise, reduction, softmax, dropout, normalisation, pooling, pad / resize and
// optimiser-step kernels (kernels/*.cu) run by the CUDA emulation against their CPU twins: the
// same checks as the device test (tests/backend/cuda/kernel_checks.hpp) on shapes small enough
// for one std::thread per CUDA thread, yet covering broadcasting, strided outputs, NaNs, every
// pad mode, dilation / ceil-mode windows, the multi-block and chunked reductions and the
// multi-chunk dropout mask.
#include <catch2/catch.hpp>

#include "../cuda/kernel_checks.hpp"

namespace kc = crisp::kernel_checks;

TEMPLATE_TEST_CASE("emulated element-wise kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_elementwise<TestType>(5, 7, 1);
}

TEMPLATE_TEST_CASE("emulated reduction and index kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_reduce<TestType>(3, 5, 7, 3);
  kc::check_reduce<TestType>(2, 3, 70, 4);     // reductions over 70..210 elements: one block per output
  kc::check_sum_long<TestType>(3, 20000, 5);  // chunked: three 8192-element chunks per output
}

TEMPLATE_TEST_CASE("emulated softmax and dropout-mask kernels match their CPU twins", "[cuda-emulated]", float,
                   double) {
  kc::check_softmax_dropout<TestType>(2, 5, 3, 40001, 6);  // the mask spans three 16384-element chunks
}

TEMPLATE_TEST_CASE("emulated normalisation kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_norm<TestType>(2, 3, 5, 8);
}

TEMPLATE_TEST_CASE("emulated pooling kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_pool<TestType>(2, 7, 9, 10);
}

TEMPLATE_TEST_CASE("emulated pad and resize kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_pad_resize<TestType>(2, 5, 6, 12);
}

TEMPLATE_TEST_CASE("emulated optimiser-step kernels match their CPU twins", "[cuda-emulated]", float, double) {
  kc::check_optim<TestType>(100, 14);
}
