// The hooks through which crisp::Storage gets device memory (declared in tensor/storage.hpp):
// every device tensor's buffer comes from the caching allocator, on the calling thread's stream.
#include "crisp/backend/cuda/caching_allocator.hpp"

namespace crisp::cuda::detail {

void* storage_alloc(size_t bytes, int device) {
  check_device_index(device, "Storage");
  return caching_allocator().allocate(bytes, device, current_stream());
}

void storage_free(void* ptr, size_t /*bytes*/, int /*device*/) noexcept { caching_allocator().deallocate(ptr); }

}  // namespace crisp::cuda::detail
