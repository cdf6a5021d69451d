// The bounded path -> identity cache: counting, FIFO eviction, bounds under a flood.
#include <catch2/catch.hpp>

#include <string>

#include "attribution/cgroup_cache.h"

using namespace procevents::attribution;

TEST_CASE("the cgroup cache classifies once per path and counts hits and misses", "[attribution]") {
  CgroupCache cache(8);
  const CgroupIdentity& first = cache.classify("/system.slice/nginx.service");
  CHECK(first.unit == "nginx.service");
  const CgroupIdentity& again = cache.classify(std::string("/system.slice/nginx.service"));
  CHECK(&again == &first);  // the same entry, not a new classification
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);
  CHECK(cache.evictions() == 0);
  CHECK(cache.size() == 1);
  CHECK(cache.capacity() == 8);
}

TEST_CASE("a full cgroup cache evicts the oldest path first", "[attribution]") {
  CgroupCache cache(3);
  (void)cache.classify("/a.service");
  (void)cache.classify("/b.service");
  (void)cache.classify("/c.service");
  (void)cache.classify("/a.service");  // a hit does not refresh: FIFO, not LRU
  CHECK(cache.classify("/d.service").unit == "d.service");
  CHECK(cache.evictions() == 1);
  CHECK(cache.size() == 3);
  const std::uint64_t misses = cache.misses();
  (void)cache.classify("/b.service");  // still there
  (void)cache.classify("/c.service");
  CHECK(cache.misses() == misses);
  CHECK(cache.classify("/a.service").unit == "a.service");  // was evicted: classified again
  CHECK(cache.misses() == misses + 1);
  CHECK(cache.evictions() == 2);  // and b, the oldest now, made room
  CHECK(cache.classify("/c.service").unit == "c.service");
  CHECK(cache.classify("/d.service").unit == "d.service");
  CHECK(cache.misses() == misses + 1);
}

TEST_CASE("a cgroup cache of capacity 0 still holds one path", "[attribution]") {
  CgroupCache cache(0);
  CHECK(cache.capacity() == 1);
  CHECK(cache.classify("/x.service").unit == "x.service");
  CHECK(cache.classify("/y.service").unit == "y.service");
  CHECK(cache.size() == 1);
  CHECK(cache.evictions() == 1);
  CHECK(cache.classify("/y.service").unit == "y.service");
  CHECK(cache.hits() == 1);
}

TEST_CASE("the cgroup cache stays bounded and correct under a flood of distinct cgroups", "[attribution]") {
  CgroupCache cache(100);
  for (int i = 0; i < 20000; ++i) {
    const std::string id = std::string(56, 'a') + std::to_string(10000000 + i);  // 64 hex digits
    const std::string path = "/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011/" + id;
    const CgroupIdentity& identity = cache.classify(path);
    REQUIRE(identity.container_id == id);
    REQUIRE(identity.path == path);
    REQUIRE(cache.size() <= 100);
  }
  CHECK(cache.misses() == 20000);
  CHECK(cache.evictions() == 20000 - 100);
  CHECK(cache.hits() == 0);
}
