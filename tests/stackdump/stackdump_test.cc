// In-process tests of the pieces: /proc parsing, symbolisation, and install + dumpNow into a
// pipe. Only InstallAndDumpIntoAPipe installs the handlers (install() holds for the process).
#include "stackdump/stackdump.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "dump_parser.h"
#include "stackdump/proc_threads.h"
#include "stackdump/symbolizer.h"

namespace stackhouse::stackdump {
namespace {

__attribute__((noinline)) int knownFunction(int x) {
  asm volatile("");
  return x * 3 + 1;
}

// libunwind.so exports _Unwind_* too; linking stackdump must not hand C++ exceptions to it.
TEST(Linking, ExceptionsStillUnwindThroughLibgcc) {
  void* raise = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException");
  ASSERT_NE(raise, nullptr);
  Dl_info info = {};
  ASSERT_NE(dladdr(raise, &info), 0);
  // libgcc_s, or AddressSanitizer's interceptor, which forwards to the next definition.
  EXPECT_EQ(std::string(info.dli_fname).find("libunwind"), std::string::npos) << info.dli_fname;
  EXPECT_THROW(throw std::runtime_error("unwinds"), std::runtime_error);
}

TEST(ProcThreads, ParsesStatus) {
  const std::string text =
      "Name:\tworker\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t10\nPid:\t12\n"
      "SigQ:\t0/127431\nSigPnd:\t0000000000000004\nShdPnd:\t0000000000000000\n"
      "SigBlk:\t0000000400000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000400000200\n";
  const detail::ThreadStatus status = detail::parseThreadStatus(text);
  ASSERT_TRUE(status.valid);
  EXPECT_EQ(status.state, 'S');
  EXPECT_TRUE(status.blocks(35));
  EXPECT_FALSE(status.blocks(34));
  EXPECT_TRUE(status.hasPending(3));
  EXPECT_FALSE(status.hasPending(35));
  EXPECT_FALSE(status.exited());
  EXPECT_TRUE(detail::parseThreadStatus("State:\tZ (zombie)\nSigPnd:\t0\nSigBlk:\t0\n").exited());
}

TEST(ProcThreads, RejectsGarbledStatus) {
  EXPECT_FALSE(detail::parseThreadStatus("").valid);
  EXPECT_FALSE(detail::parseThreadStatus("State:\tS\nSigPnd:\tzz\nSigBlk:\t0\n").valid);
  EXPECT_FALSE(detail::parseThreadStatus("State:\tS\nSigPnd:\t0\n").valid);
}

TEST(ProcThreads, ListsThisThreadWithItsName) {
  pthread_setname_np(pthread_self(), "unit-main");
  const auto tids = detail::listThreads();
  ASSERT_FALSE(tids.empty());
  EXPECT_EQ(tids.front(), getpid());
  EXPECT_TRUE(std::is_sorted(tids.begin() + 1, tids.end()));
  EXPECT_NE(std::find(tids.begin(), tids.end(), gettid()), tids.end());
  EXPECT_EQ(detail::readThreadName(gettid()), "unit-main");
  EXPECT_TRUE(detail::readThreadStatus(gettid()).valid);
  EXPECT_EQ(detail::readThreadName(0x7ffffff0), "");
}

TEST(Symbolizer, Demangles) {
  EXPECT_EQ(detail::demangle("_ZN10stackhouse3fooEi"), "stackhouse::foo(int)");
  EXPECT_EQ(detail::demangle("main"), "main");
  EXPECT_EQ(detail::demangle("_Znot valid"), "_Znot valid");
}

TEST(Symbolizer, NamesAKnownFunctionWithFileAndLine) {
  EXPECT_EQ(knownFunction(1), 4);
  detail::Symbolizer symbolizer;
  symbolizer.refresh();
  const auto pc = reinterpret_cast<std::uintptr_t>(&knownFunction);
  const detail::FrameDescription description = symbolizer.describe({pc, true});
  ASSERT_FALSE(description.locations.empty());
  const detail::Location& location = description.locations.back();
  EXPECT_NE(location.function.find("knownFunction(int)"), std::string::npos) << location.function;
  EXPECT_NE(location.file.find("stackdump_test.cc"), std::string::npos) << location.file;
  EXPECT_GT(location.line, 0);
  EXPECT_EQ(description.module, "stackdump_test");
}

TEST(Symbolizer, LeavesUnknownAddressesUnnamed) {
  detail::Symbolizer symbolizer;
  symbolizer.refresh();
  const detail::FrameDescription description = symbolizer.describe({0x10, true});
  ASSERT_EQ(description.locations.size(), 1U);
  EXPECT_EQ(description.locations[0].function, "");
  EXPECT_EQ(description.module, "");
}

TEST(Stackdump, NothingWorksBeforeInstall) {
  EXPECT_EQ(dumpSignal(), 0);
  EXPECT_FALSE(handlerIsOurs());
  EXPECT_FALSE(reinstall());
  EXPECT_FALSE(dumpNow());
  EXPECT_EQ(label(), "");
}

TEST(Stackdump, InstallAndDumpIntoAPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  unsetenv("STACKDUMP_LABEL");
  unsetenv("OTEL_SERVICE_NAME");
  pthread_setname_np(pthread_self(), "unit-main");
  Options options;
  options.role = "unit";
  options.outputFd = fds[1];
  ASSERT_TRUE(install(options));
  EXPECT_TRUE(install("ignored"));  // the second call changes nothing
  EXPECT_EQ(label(), "unit-" + std::to_string(getpid()));
  EXPECT_GT(dumpSignal(), SIGRTMIN);
  EXPECT_LE(dumpSignal(), SIGRTMAX);
  EXPECT_TRUE(handlerIsOurs());
  EXPECT_TRUE(reinstall());

  ASSERT_TRUE(dumpNow());
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  const auto dumps = testing::parseDumps(text);
  ASSERT_EQ(dumps.size(), 1U) << text;
  EXPECT_EQ(dumps[0].label, label());
  EXPECT_TRUE(dumps[0].wellFormed);
  EXPECT_EQ(dumps[0].reportedThreads, dumps[0].blocks);
  ASSERT_EQ(dumps[0].threads.count("unit-main"), 1U) << text;
  ASSERT_EQ(dumps[0].threads.count("stackdump"), 1U) << text;
  // This thread was inside dumpNow() when it was captured.
  bool inDumpNow = false;
  for (const std::string& frame : dumps[0].threads.at("unit-main").frames) {
    inDumpNow = inDumpNow || frame.find("stackhouse::stackdump::dumpNow()") != std::string::npos;
  }
  EXPECT_TRUE(inDumpNow) << text;
  close(fds[0]);
}

}  // namespace
}  // namespace stackhouse::stackdump
