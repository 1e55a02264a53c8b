#include "common/thread_name.h"

#include <pthread.h>

#include <string>

namespace stackhouse {

void setThreadName(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace stackhouse
