// The capability gate (find_package(warden COMPONENTS policy), warden::policy): tier policies,
// per-plugin grants, quotas, signatures and I/O schemas around a Plugin (docs/policy.md).
#pragma once

#include "policy/gate.h"
