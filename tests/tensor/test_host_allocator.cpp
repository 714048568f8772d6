// The caching host allocator behind Storage: reuse by size class, the idle-byte limit, the
// on/off switch, and that live-byte accounting ignores what is cached.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "crisp/tensor/host_allocator.hpp"
#include "crisp/tensor/storage.hpp"

namespace {

// Turns the cache on for one test (it is off by default under ASan) and restores the setting.
struct CacheOn {
  bool was = crisp::host_cache_enabled();
  int64_t limit = crisp::host_cache_limit();
  CacheOn() {
    crisp::set_host_cache_enabled(true);
    crisp::empty_host_cache();
  }
  ~CacheOn() {
    crisp::set_host_cache_limit(limit);
    crisp::set_host_cache_enabled(was);
  }
};

}  // namespace

TEST_CASE("host allocator: size classes", "[tensor][allocator]") {
  using A = crisp::detail::HostAllocator;
  CHECK(A::rounded(1) == 64);
  CHECK(A::rounded(64) == 64);
  CHECK(A::rounded(65) == 128);
  CHECK(A::rounded(A::kMinCached) == A::kMinCached);
  CHECK(A::rounded(A::kMinCached + 1) == 2 * A::kMinCached);
  CHECK(A::rounded(A::kHugePage + 1) == 2 * A::kHugePage);
}

TEST_CASE("host allocator: a freed large buffer is reused, not returned to the system", "[tensor][allocator]") {
  CacheOn on;
  const int64_t n = (int64_t(3) << 20) / 4;  // 3 MiB of floats: a 4 MiB class
  const auto before = crisp::host_cache_stats();
  const float* first = nullptr;
  {
    crisp::Storage<float> s(n);
    first = s.data();
    std::memset(s.data(), 0, static_cast<size_t>(n) * 4);
    CHECK(reinterpret_cast<uintptr_t>(first) % crisp::detail::HostAllocator::kHugePage == 0);
  }
  auto mid = crisp::host_cache_stats();
  CHECK(mid.cached_bytes - before.cached_bytes == int64_t(4) << 20);
  {
    crisp::Storage<float> s(n - 100);  // same class
    CHECK(s.data() == first);
    const auto after = crisp::host_cache_stats();
    CHECK(after.hits == mid.hits + 1);
    CHECK(after.cached_bytes == before.cached_bytes);
  }
  {
    crisp::Storage<double> s(n);  // 6 MiB: another class, not served from the 4 MiB block
    CHECK(static_cast<const void*>(s.data()) != static_cast<const void*>(first));
  }
  crisp::empty_host_cache();
  CHECK(crisp::host_cache_stats().cached_bytes == 0);
}

TEST_CASE("host allocator: live-byte accounting counts only live storages", "[tensor][allocator]") {
  CacheOn on;
  const int64_t live = crisp::detail::live_storage_bytes();
  {
    crisp::Storage<float> s(1 << 20);
    CHECK(crisp::detail::live_storage_bytes() == live + (int64_t(4) << 20));
  }
  CHECK(crisp::detail::live_storage_bytes() == live);
  CHECK(crisp::host_cache_stats().cached_bytes >= (int64_t(4) << 20));
}

TEST_CASE("host allocator: the idle limit and the off switch release memory", "[tensor][allocator]") {
  CacheOn on;
  crisp::set_host_cache_limit(int64_t(1) << 20);
  { crisp::Storage<float> s(1 << 20); }  // 4 MiB > limit: freed, not cached
  CHECK(crisp::host_cache_stats().cached_bytes == 0);
  { crisp::Storage<float> s(1 << 17); }  // 512 KiB: cached
  CHECK(crisp::host_cache_stats().cached_bytes == int64_t(512) << 10);
  CHECK_THROWS_AS(crisp::set_host_cache_limit(-1), crisp::ValueError);
  crisp::set_host_cache_enabled(false);
  CHECK(crisp::host_cache_stats().cached_bytes == 0);
  { crisp::Storage<float> s(1 << 17); }
  CHECK(crisp::host_cache_stats().cached_bytes == 0);
}

TEST_CASE("host allocator: small buffers bypass the cache", "[tensor][allocator]") {
  CacheOn on;
  const auto before = crisp::host_cache_stats();
  { crisp::Storage<float> s(1000); }
  const auto after = crisp::host_cache_stats();
  CHECK(after.cached_bytes == before.cached_bytes);
  CHECK(after.hits == before.hits);
  CHECK(after.misses == before.misses);
}

TEST_CASE("host allocator: HostVector, the kernels' scratch, reuses cached blocks", "[tensor][allocator]") {
  CacheOn on;
  const void* first = nullptr;
  {
    crisp::HostVector<float> v(100000, 1.f);  // 400 KB: a cached size class
    REQUIRE(v.size() == 100000);
    CHECK(v[99999] == 1.f);
    first = v.data();
    CHECK(reinterpret_cast<uintptr_t>(first) % 64 == 0);
  }
  const auto before = crisp::host_cache_stats();
  CHECK(before.cached_bytes >= 400000);
  {
    crisp::HostVector<float> w(100000, 2.f);
    CHECK(static_cast<const void*>(w.data()) == first);
    CHECK(w[0] == 2.f);
  }
  CHECK(crisp::host_cache_stats().hits == before.hits + 1);
  // Small vectors bypass the cache and still work.
  crisp::HostVector<double> small(3, 0.5);
  small.push_back(1.5);
  CHECK(small.size() == 4);
  CHECK(small[3] == 1.5);
}

TEST_CASE("host allocator: CRISP_CPU_CACHE_MB accepts whole MiB counts only", "[tensor][allocator]") {
  using A = crisp::detail::HostAllocator;
  int64_t mb = -1;
  CHECK(A::parse_cache_mb("0", mb));
  CHECK(mb == 0);
  CHECK(A::parse_cache_mb("4096", mb));
  CHECK(mb == 4096);
  for (const char* bad : {"", "abc", "-5", "12MB", " 12", "1e3", "99999999999999999999", "1099511627776"}) {
    INFO(bad);
    CHECK_FALSE(A::parse_cache_mb(bad, mb));
  }
  CHECK_FALSE(A::parse_cache_mb(nullptr, mb));
}
