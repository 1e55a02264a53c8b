// Prints the search tree of each line of stdin as one line of JSON (or {"error": "..."}): the
// differential test against HyperDX's parser (tests/e2e/search_lucene.test.mjs) runs it.
#include <iostream>
#include <string>

#include "common/json_writer.h"
#include "query/search/search_parser.h"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto tree = stackhouse::query::search::parseSearch(line);
    if (tree.isOk()) {
      std::cout << stackhouse::query::search::toJson(*tree.value()) << "\n";
    } else {
      std::string out;
      stackhouse::JsonWriter w(out);
      w.beginObject().field("error", tree.status().message()).endObject();
      std::cout << out << "\n";
    }
  }
  return 0;
}
