#include "common/cpu.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <map>
#include <string>

namespace stackhouse {
namespace {

// A /sys/fs/cgroup of a few files; any other path reads as "".
struct FakeCgroupFs {
  std::map<std::string, std::string> files;
  std::string operator()(const std::string& path) const {
    const auto it = files.find(path);
    return it == files.end() ? "" : it->second;
  }
};

TEST(CgroupCpuLimit, V2QuotaIsRoundedUp) {
  FakeCgroupFs fs{{{"/sys/fs/cgroup/cpu.max", "150000 100000\n"}}};
  EXPECT_EQ(cgroupCpuLimit("0::/\n", fs), 2);
  fs.files["/sys/fs/cgroup/cpu.max"] = "200000 100000\n";
  EXPECT_EQ(cgroupCpuLimit("0::/\n", fs), 2);
  fs.files["/sys/fs/cgroup/cpu.max"] = "5000 100000\n";  // a twentieth of a CPU: still one
  EXPECT_EQ(cgroupCpuLimit("0::/\n", fs), 1);
}

TEST(CgroupCpuLimit, V2UnlimitedOrUnreadableIsNoLimit) {
  EXPECT_EQ(cgroupCpuLimit("0::/\n", FakeCgroupFs{{{"/sys/fs/cgroup/cpu.max", "max 100000\n"}}}),
            std::nullopt);
  EXPECT_EQ(cgroupCpuLimit("0::/\n", FakeCgroupFs{}), std::nullopt);
  EXPECT_EQ(cgroupCpuLimit("0::/\n", FakeCgroupFs{{{"/sys/fs/cgroup/cpu.max", "junk\n"}}}),
            std::nullopt);
  EXPECT_EQ(cgroupCpuLimit("", FakeCgroupFs{}), std::nullopt);
}

TEST(CgroupCpuLimit, V2TakesTheSmallestQuotaOfTheCgroupAndItsAncestors) {
  const FakeCgroupFs fs{{
      {"/sys/fs/cgroup/kubepods.slice/cpu.max", "400000 100000"},
      {"/sys/fs/cgroup/kubepods.slice/pod1/cpu.max", "300000 100000"},
      {"/sys/fs/cgroup/kubepods.slice/pod1/ctr/cpu.max", "max 100000"},
  }};
  EXPECT_EQ(cgroupCpuLimit("0::/kubepods.slice/pod1/ctr\n", fs), 3);
  EXPECT_EQ(cgroupCpuLimit("0::/kubepods.slice/\n", fs), 4);
}

TEST(CgroupCpuLimit, V2PathNotMountedInsideTheContainerFallsBackToTheRoot) {
  // Without a cgroup namespace the path is the host's, and the container sees its own cgroup at
  // the root of the mount.
  const FakeCgroupFs fs{{{"/sys/fs/cgroup/cpu.max", "250000 100000"}}};
  EXPECT_EQ(cgroupCpuLimit("0::/kubepods/burstable/pod9/abc\n", fs), 3);
}

TEST(CgroupCpuLimit, V1ReadsTheCpuControllersQuota) {
  const std::string self = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
  FakeCgroupFs fs{{
      {"/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us", "50000\n"},
      {"/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us", "100000\n"},
  }};
  EXPECT_EQ(cgroupCpuLimit(self, fs), 1);
  // Inside the container: only the mount's root.
  fs.files = {{"/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "350000\n"},
              {"/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n"}};
  EXPECT_EQ(cgroupCpuLimit(self, fs), 4);
  fs.files["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = "-1\n";
  EXPECT_EQ(cgroupCpuLimit(self, fs), std::nullopt);
  // A controller list that only contains "cpu" as part of a name is not the cpu controller.
  EXPECT_EQ(cgroupCpuLimit("3:cpuset:/\n",
                           FakeCgroupFs{{{"/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "100000"},
                                         {"/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000"}}}),
            std::nullopt);
}

TEST(CgroupCpuLimit, PathsThatClimbOutOfTheMountAreIgnored) {
  const FakeCgroupFs fs{{{"/sys/fs/cgroup/cpu.max", "100000 100000"},
                         {"/sys/fs/cgroup/../../etc/cpu.max", "100000 100000"}}};
  EXPECT_EQ(cgroupCpuLimit("0::/../../etc\n", fs), std::nullopt);
  EXPECT_EQ(cgroupCpuLimit("0::relative\n", fs), std::nullopt);
  EXPECT_EQ(cgroupCpuLimit("garbage without colons\n", fs), std::nullopt);
}

TEST(UsableCpus, AtLeastOneAndNoMoreThanTheAffinityMask) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int cpus = usableCpus();
  EXPECT_GE(cpus, 1);
  EXPECT_LE(cpus, CPU_COUNT(&set));
}

}  // namespace
}  // namespace stackhouse
