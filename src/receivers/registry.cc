#include <vector>

#include "receivers/prometheus/scrape_receiver.h"
#include "receivers/receiver_factory.h"

namespace stackhouse::receivers {

std::span<const ReceiverFactory> receiverFactories() {
  static const ReceiverFactory kFactories[] = {
      prometheus::prometheusFactory(),
  };
  return kFactories;
}

config::ReceiverKinds receiverKinds() {
  static const std::vector<const config::ReceiverKind*> kinds = [] {
    std::vector<const config::ReceiverKind*> out;
    for (const ReceiverFactory& factory : receiverFactories()) out.push_back(factory.section);
    return out;
  }();
  return kinds;
}

}  // namespace stackhouse::receivers
