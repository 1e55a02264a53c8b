#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace stackhouse {

// How many CPUs this process can keep busy: the CPUs it may run on (its affinity mask), capped by
// its cgroup's CPU quota where one is set, as a container's CPU limit sets it. A pod limited to
// 2 CPUs on a 64-core node gets 2, where std::thread::hardware_concurrency() says 64. At least 1.
int usableCpus();

// The CPU limit of the cgroup that /proc/self/cgroup (`procSelfCgroup`) names, rounded up, or
// nullopt when there is none. cgroup v2: the smallest cpu.max quota of the cgroup and its
// ancestors ("150000 100000" is 1.5 CPUs, "max 100000" none); v1: cpu.cfs_quota_us over
// cpu.cfs_period_us of the cpu controller's cgroup. `read` returns a file's text, or "" when it
// cannot be read; paths are under /sys/fs/cgroup.
std::optional<int> cgroupCpuLimit(std::string_view procSelfCgroup,
                                  const std::function<std::string(const std::string&)>& read);

}  // namespace stackhouse
