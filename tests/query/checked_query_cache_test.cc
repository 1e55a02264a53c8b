#include "query/checked_query_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace stackhouse::query {
namespace {

TEST(CheckedQueryCache, FindsWhatWasInsertedPerDatabase) {
  CheckedQueryCache cache;
  EXPECT_FALSE(cache.find("otel", "SELECT 1"));
  cache.insert("otel", "SELECT 1", "SELECT 1 checked");
  ASSERT_TRUE(cache.find("otel", "SELECT 1"));
  EXPECT_EQ(*cache.find("otel", "SELECT 1"), "SELECT 1 checked");
  EXPECT_FALSE(cache.find("telemetry", "SELECT 1"));
  EXPECT_FALSE(cache.find("otel", "SELECT 1 "));
  // The database and the text cannot run into each other.
  EXPECT_FALSE(cache.find("ote", "lSELECT 1"));
  // A second insert of the same key keeps the first answer.
  cache.insert("otel", "SELECT 1", "other");
  EXPECT_EQ(*cache.find("otel", "SELECT 1"), "SELECT 1 checked");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(CheckedQueryCache, EvictsTheLeastRecentlyUsedPastItsEntries) {
  CheckedQueryCache cache(3, 1 << 20);
  cache.insert("otel", "a", "A");
  cache.insert("otel", "b", "B");
  cache.insert("otel", "c", "C");
  ASSERT_TRUE(cache.find("otel", "a"));  // a is now the most recent
  cache.insert("otel", "d", "D");        // evicts b
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.find("otel", "a"));
  EXPECT_FALSE(cache.find("otel", "b"));
  EXPECT_TRUE(cache.find("otel", "c"));
  EXPECT_TRUE(cache.find("otel", "d"));
}

TEST(CheckedQueryCache, StaysWithinItsBytesAndSkipsLargeTexts) {
  const size_t maxBytes = 16 * 1024;
  CheckedQueryCache cache(1000, maxBytes);
  // Larger than a sixteenth of the budget: never kept.
  cache.insert("otel", std::string(maxBytes / 16, 'x'), "y");
  EXPECT_EQ(cache.size(), 0u);
  for (int i = 0; i < 200; ++i) {
    const std::string sql = "SELECT " + std::to_string(i) + std::string(200, ' ');
    cache.insert("otel", sql, sql);
    EXPECT_LE(cache.bytes(), maxBytes);
  }
  EXPECT_GT(cache.size(), 0u);
  EXPECT_LT(cache.size(), 200u);
  // The newest is there, the oldest gone.
  EXPECT_TRUE(cache.find("otel", "SELECT 199" + std::string(200, ' ')));
  EXPECT_FALSE(cache.find("otel", "SELECT 0" + std::string(200, ' ')));
}

TEST(CheckedQueryCache, StatementsWithIdentifierParametersAreNotKeepable) {
  EXPECT_TRUE(CheckedQueryCache::keepable("SELECT {n:UInt64}, {s:String} FROM otel.otel_logs"));
  EXPECT_TRUE(CheckedQueryCache::keepable("SELECT {l:Array(String)}, 'identifier'"));
  EXPECT_FALSE(CheckedQueryCache::keepable("SELECT * FROM {t:Identifier}"));
  EXPECT_FALSE(CheckedQueryCache::keepable("SELECT * FROM otel.{t:Identifier} WHERE 1"));
  EXPECT_FALSE(CheckedQueryCache::keepable("SELECT {c:identifier} FROM otel.otel_logs"));
  EXPECT_FALSE(CheckedQueryCache::keepable("SELECT * FROM {t : IDENTIFIER }"));
  EXPECT_FALSE(CheckedQueryCache::keepable("SELECT 1 ::Identifier}"));  // only a cache entry lost
}

TEST(CheckedQueryCache, ZeroEntriesKeepsNothing) {
  CheckedQueryCache cache(0, 1 << 20);
  cache.insert("otel", "SELECT 1", "SELECT 1");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("otel", "SELECT 1"));
}

TEST(CheckedQueryCache, SharedByThreads) {
  CheckedQueryCache cache(64, 1 << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string sql = "SELECT " + std::to_string((i * 7 + t) % 100);
        if (auto hit = cache.find("otel", sql)) {
          EXPECT_EQ(*hit, sql + " checked");
        } else {
          cache.insert("otel", sql, sql + " checked");
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace stackhouse::query
