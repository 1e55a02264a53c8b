#include "receivers/otlp/limit_counters.h"

#include <string>

namespace stackhouse::receivers {

namespace {

Counter& truncated(std::string_view receiver, std::string_view part) {
  return metrics().counter("stackhouse_receiver_attributes_truncated_total",
                           "Attribute keys or values cut to their length limit.",
                           {{"receiver", std::string(receiver)}, {"part", std::string(part)}});
}

}  // namespace

LimitCounters::LimitCounters(std::string_view receiver)
    : dropped_(metrics().counter("stackhouse_receiver_attributes_dropped_total",
                                 "Attributes dropped past the per-record attribute limit.",
                                 {{"receiver", std::string(receiver)}})),
      keysCut_(truncated(receiver, "key")),
      valuesCut_(truncated(receiver, "value")) {}

}  // namespace stackhouse::receivers
