// main() for tests that open the embedded store: run the tests, then leave without running
// global destructors, which can crash while the engine's threads still run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(rc);
}
