// Per-label caps: the first N distinct values pass, later ones become "other", empty always passes.
#include <catch2/catch.hpp>

#include <string>

#include "attribution/cgroup_cache.h"
#include "attribution/label_limiter.h"

using namespace procevents::attribution;

TEST_CASE("the label limiter admits the first values and maps later ones to other", "[attribution]") {
  LabelLimiter limiter(2);
  CHECK(limiter.admit("nginx.service") == "nginx.service");
  CHECK(limiter.admit("cron.service") == "cron.service");
  CHECK(limiter.admit("sshd.service") == "other");
  CHECK(limiter.admit("sshd.service") == "other");  // each refusal counts
  CHECK(limiter.admit("nginx.service") == "nginx.service");
  CHECK(limiter.overflows() == 2);
  CHECK(limiter.size() == 2);
  CHECK(limiter.limit() == 2);
}

TEST_CASE("the empty label value always passes and takes no slot", "[attribution]") {
  LabelLimiter limiter(1);
  CHECK(limiter.admit("").empty());
  CHECK(limiter.size() == 0);
  CHECK(limiter.admit("a") == "a");
  CHECK(limiter.admit("").empty());  // a host process after the cap is reached stays unlabelled
  CHECK(limiter.overflows() == 0);

  LabelLimiter none(0);
  CHECK(none.admit("").empty());
  CHECK(none.admit("x") == kOverflowLabelValue);
  CHECK(none.overflows() == 1);
}

TEST_CASE("an admitted label value outlives the caller's string", "[attribution]") {
  LabelLimiter limiter(10);
  std::string_view kept;
  {
    std::string value = "docker-abc.scope";
    kept = limiter.admit(value);
    value.assign(value.size(), 'x');
  }
  CHECK(kept == "docker-abc.scope");
  // A real value that happens to be "other" is just a value.
  CHECK(limiter.admit("other") == "other");
  CHECK(limiter.overflows() == 0);
}

TEST_CASE("cache and label caps hold under a flood of distinct cgroups", "[attribution]") {
  CgroupCache cache(100);
  LabelLimiter units(50), containers(50), pods(20);
  std::size_t other_units = 0, other_containers = 0, other_pods = 0;
  for (int i = 0; i < 10000; ++i) {
    char uid[40];
    std::snprintf(uid, sizeof uid, "%08x-0000-4000-8000-%012x", i, i);
    std::string uid_systemd = uid;
    for (char& c : uid_systemd) c = c == '-' ? '_' : c;
    const std::string id = std::string(56, 'c') + std::to_string(20000000 + i);
    const std::string path = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_systemd +
                             ".slice/cri-containerd-" + id + ".scope";
    const CgroupIdentity& identity = cache.classify(path);
    REQUIRE(identity.pod_uid == uid);
    other_units += units.admit(identity.unit) == "other";
    other_containers += containers.admit(identity.container_id) == "other";
    other_pods += pods.admit(identity.pod_uid) == "other";
  }
  CHECK(cache.size() == 100);
  CHECK(units.size() == 50);
  CHECK(containers.size() == 50);
  CHECK(pods.size() == 20);
  CHECK(units.overflows() == 9950);
  CHECK(other_units == 9950);
  CHECK(other_containers == 9950);
  CHECK(other_pods == 9980);
}
