// The attribution layer in one include: cgroup classification, its bounded cache, and the
// per-label value limiter. See each header for the contracts.
#pragma once

#include "attribution/cgroup_cache.h"
#include "attribution/cgroup_identity.h"
#include "attribution/cgroup_scope.h"
#include "attribution/label_limiter.h"
