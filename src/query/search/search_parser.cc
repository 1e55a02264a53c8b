#include "query/search/search_parser.h"

#include "common/json_writer.h"

namespace stackhouse::query::search {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// A character that ends an unquoted word: whitespace, parentheses and quotes. `:` ends a word that
// may be a field name, not a value (`url:http://x/y` is the field url and the value http://x/y).
bool endsWord(char c) { return isSpace(c) || c == '(' || c == ')' || c == '"'; }

// A word as written: its unescaped text, and whether its first / last character was an
// unescaped `*` (a wildcard) rather than a literal one.
struct Word {
  std::string text;
  bool leadingStar = false;
  bool trailingStar = false;
  bool escaped = false;  // some character was escaped: never a keyword
  int column = 1;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<NodePtr> parse() {
    skipSpace();
    if (atEnd()) return std::make_unique<Node>();
    auto root = parseOr(std::string());
    if (!root.isOk()) return root;
    skipSpace();
    if (!atEnd()) return unexpected();
    return root;
  }

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void skipSpace() {
    while (!atEnd() && isSpace(text_[pos_])) ++pos_;
  }

  // 1-based column of a byte offset, counted in code points (UTF-8 continuation bytes skipped).
  int columnAt(size_t offset) const {
    int column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
  }
  int column() const { return columnAt(pos_); }

  Status errorHere(std::string what) const {
    return invalidArgument(what + " at column " + std::to_string(column()));
  }
  Status unexpected() const {
    if (atEnd()) return errorHere("unexpected end of query");
    for (std::string_view keyword : {"AND", "OR", "NOT", "TO"}) {
      if (atKeyword(keyword)) return errorHere("unexpected '" + std::string(keyword) + "'");
    }
    // One whole code point, so that the message stays valid UTF-8.
    size_t len = 1;
    while (pos_ + len < text_.size() &&
           (static_cast<unsigned char>(text_[pos_ + len]) & 0xC0) == 0x80) {
      ++len;
    }
    return errorHere("unexpected '" + std::string(text_.substr(pos_, len)) + "'");
  }

  // A keyword is an upper-case word followed by a separator (or the end).
  bool atKeyword(std::string_view keyword) const {
    if (text_.substr(pos_, keyword.size()) != keyword) return false;
    const size_t after = pos_ + keyword.size();
    return after >= text_.size() || endsWord(text_[after]);
  }

  Status enter() {
    if (++depth_ > kMaxSearchDepth) {
      return errorHere("nesting deeper than " + std::to_string(kMaxSearchDepth));
    }
    return Status::ok();
  }

  static NodePtr combine(NodeKind kind, std::vector<NodePtr> parts, int column) {
    if (parts.size() == 1) return std::move(parts.front());
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->column = column;
    for (auto& p : parts) {
      // (a AND b) AND c is one AND of three: the tree says what the query means, not how it was
      // grouped, and the SQL stays flat.
      if (p->kind == kind) {
        for (auto& c : p->children) node->children.push_back(std::move(c));
      } else {
        node->children.push_back(std::move(p));
      }
    }
    return node;
  }

  Result<NodePtr> parseOr(const std::string& field) {
    const int start = column();
    std::vector<NodePtr> parts;
    for (;;) {
      auto part = parseAnd(field);
      if (!part.isOk()) return part;
      parts.push_back(std::move(part.value()));
      skipSpace();
      if (atKeyword("OR")) {
        pos_ += 2;
        skipSpace();
        continue;
      }
      break;
    }
    return combine(NodeKind::kOr, std::move(parts), start);
  }

  Result<NodePtr> parseAnd(const std::string& field) {
    const int start = column();
    std::vector<NodePtr> parts;
    for (;;) {
      auto part = parseUnary(field);
      if (!part.isOk()) return part;
      parts.push_back(std::move(part.value()));
      skipSpace();
      if (atEnd() || peek() == ')' || atKeyword("OR")) break;
      if (atKeyword("AND")) {
        pos_ += 3;
        skipSpace();
      }
    }
    return combine(NodeKind::kAnd, std::move(parts), start);
  }

  Result<NodePtr> parseUnary(const std::string& field) {
    skipSpace();
    const int start = column();
    bool negate = false;
    if (atKeyword("NOT")) {
      pos_ += 3;
      negate = true;
    } else if ((peek() == '-' || peek() == '!') && !atEnd() && pos_ + 1 < text_.size() &&
               !isSpace(peek(1)) && peek(1) != ')') {
      ++pos_;
      negate = true;
    }
    if (!negate) return parsePrimary(field);
    if (Status s = enter(); !s.isOk()) return s;
    skipSpace();
    auto inner = parseUnary(field);
    --depth_;
    if (!inner.isOk()) return inner;
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kNot;
    node->column = start;
    node->children.push_back(std::move(inner.value()));
    return node;
  }

  Result<NodePtr> parseGroup(const std::string& field) {
    ++pos_;  // (
    if (Status s = enter(); !s.isOk()) return s;
    skipSpace();
    if (peek() == ')') return unexpected();
    auto inner = parseOr(field);
    --depth_;
    if (!inner.isOk()) return inner;
    skipSpace();
    if (peek() != ')') {
      if (atEnd()) return errorHere("missing ')'");
      return unexpected();
    }
    ++pos_;
    return inner;
  }

  Result<NodePtr> parsePrimary(const std::string& field) {
    skipSpace();
    if (atEnd() || peek() == ')') return unexpected();
    if (atKeyword("AND") || atKeyword("OR")) return unexpected();
    if (peek() == '(') return parseGroup(field);
    const int start = column();
    if (peek() == '"') {
      auto phrase = readPhrase();
      if (!phrase.isOk()) return phrase.status();
      return term(field, MatchKind::kPhrase, std::move(phrase.value()), start);
    }
    Word word = readWord(/*stopAtColon=*/true);
    if (word.text.empty() && !word.leadingStar) return unexpected();
    if (peek() == ':' && !word.leadingStar && !word.trailingStar) {
      if (!field.empty()) return errorHere("a field inside a field group");
      ++pos_;
      return parseValue(word.text, start);
    }
    return wordTerm(field, std::move(word), start);
  }

  Result<NodePtr> parseValue(const std::string& field, int fieldColumn) {
    if (atEnd() || isSpace(peek())) return errorHere("missing value after ':'");
    if (peek() == '(') return parseGroup(field);
    if (peek() == '"') {
      auto phrase = readPhrase();
      if (!phrase.isOk()) return phrase.status();
      return term(field, MatchKind::kPhrase, std::move(phrase.value()), fieldColumn);
    }
    if (peek() == '[' || peek() == '{') return parseRange(field, fieldColumn);
    if (peek() == '>' || peek() == '<') {
      const bool greater = peek() == '>';
      ++pos_;
      const bool orEqual = peek() == '=';
      if (orEqual) ++pos_;
      Word word = readWord(false);
      if (word.text.empty()) return word.leadingStar ? unexpected() : errorHere("missing number");
      auto node = term(field, MatchKind::kCompare, std::move(word.text), fieldColumn);
      node->op = greater ? (orEqual ? CompareOp::kGe : CompareOp::kGt)
                         : (orEqual ? CompareOp::kLe : CompareOp::kLt);
      return node;
    }
    Word word = readWord(false);
    if (word.text.empty() && !word.leadingStar) return unexpected();
    if (word.text.empty()) return term(field, MatchKind::kPresent, "", fieldColumn);
    return wordTerm(field, std::move(word), fieldColumn);
  }

  Result<NodePtr> parseRange(const std::string& field, int fieldColumn) {
    const bool lowInclusive = peek() == '[';
    ++pos_;
    skipSpace();
    Word low = readRangeBound();
    skipSpace();
    if (!atKeyword("TO")) return low.text.empty() ? unexpected() : errorHere("expected TO");
    pos_ += 2;
    skipSpace();
    Word high = readRangeBound();
    skipSpace();
    if (peek() != ']' && peek() != '}') {
      return atEnd() ? errorHere("missing ']'") : unexpected();
    }
    const bool highInclusive = peek() == ']';
    ++pos_;
    if (low.text.empty() || high.text.empty()) return errorHere("a range needs two bounds");
    auto node = term(field, MatchKind::kRange, "", fieldColumn);
    node->low = std::move(low.text);
    node->high = std::move(high.text);
    node->lowInclusive = lowInclusive;
    node->highInclusive = highInclusive;
    return node;
  }

  Word readRangeBound() {
    Word w;
    w.column = column();
    while (!atEnd() && !isSpace(peek()) && peek() != ']' && peek() != '}') {
      if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
      w.text += text_[pos_++];
    }
    return w;
  }

  Result<std::string> readPhrase() {
    const size_t open = pos_;
    ++pos_;
    std::string out;
    while (!atEnd() && peek() != '"') {
      if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += text_[pos_++];
    }
    if (atEnd()) {
      return invalidArgument("unterminated quote at column " + std::to_string(columnAt(open)));
    }
    ++pos_;
    return out;
  }

  Word readWord(bool stopAtColon) {
    Word w;
    w.column = column();
    bool lastWasWildcard = false;
    while (!atEnd() && !endsWord(peek()) && !(stopAtColon && peek() == ':')) {
      char c = text_[pos_++];
      if (c == '\\' && !atEnd()) {
        w.text += text_[pos_++];
        w.escaped = true;
        lastWasWildcard = false;
        continue;
      }
      if (c == '*' && w.text.empty() && !w.leadingStar) {
        w.leadingStar = true;
        continue;
      }
      w.text += c;
      lastWasWildcard = c == '*';
    }
    if (lastWasWildcard) {
      w.text.pop_back();
      w.trailingStar = true;
    }
    return w;
  }

  static NodePtr term(const std::string& field, MatchKind match, std::string value, int column) {
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kTerm;
    node->field = field;
    node->match = match;
    node->value = std::move(value);
    node->column = column;
    return node;
  }

  static NodePtr wordTerm(const std::string& field, Word word, int column) {
    if (word.text.empty()) {
      // A lone `*`: everything (free text), or presence of a field.
      if (field.empty()) {
        auto all = std::make_unique<Node>();
        all->column = column;
        return all;
      }
      return term(field, MatchKind::kPresent, "", column);
    }
    MatchKind match = MatchKind::kWord;
    if (word.leadingStar && word.trailingStar) {
      match = MatchKind::kSubstring;
    } else if (word.leadingStar) {
      match = MatchKind::kSuffix;
    } else if (word.trailingStar) {
      match = MatchKind::kPrefix;
    }
    return term(field, match, std::move(word.text), column);
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

const char* kindName(NodeKind k) {
  switch (k) {
    case NodeKind::kAll: return "all";
    case NodeKind::kAnd: return "and";
    case NodeKind::kOr: return "or";
    case NodeKind::kNot: return "not";
    case NodeKind::kTerm: return "term";
  }
  return "?";
}

const char* matchName(MatchKind m) {
  switch (m) {
    case MatchKind::kWord: return "word";
    case MatchKind::kPhrase: return "phrase";
    case MatchKind::kPrefix: return "prefix";
    case MatchKind::kSuffix: return "suffix";
    case MatchKind::kSubstring: return "substring";
    case MatchKind::kPresent: return "present";
    case MatchKind::kCompare: return "compare";
    case MatchKind::kRange: return "range";
  }
  return "?";
}

const char* opName(CompareOp op) {
  switch (op) {
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
  }
  return "?";
}

void writeNode(JsonWriter& w, const Node& n) {
  w.beginObject();
  w.field("type", kindName(n.kind));
  if (n.kind == NodeKind::kTerm) {
    w.field("field", n.field);
    w.field("match", matchName(n.match));
    if (n.match == MatchKind::kRange) {
      w.field("low", n.low);
      w.field("high", n.high);
      w.field("lowInclusive", n.lowInclusive);
      w.field("highInclusive", n.highInclusive);
    } else {
      w.field("value", n.value);
    }
    if (n.match == MatchKind::kCompare) w.field("op", opName(n.op));
  } else if (!n.children.empty()) {
    w.key("children").beginArray();
    for (const auto& c : n.children) writeNode(w, *c);
    w.endArray();
  }
  w.endObject();
}

}  // namespace

Result<NodePtr> parseSearch(std::string_view text) {
  if (text.size() > kMaxSearchQueryBytes) {
    return invalidArgument("the query is " + std::to_string(text.size()) + " bytes; the limit is " +
                           std::to_string(kMaxSearchQueryBytes));
  }
  return Parser(text).parse();
}

std::string toJson(const Node& node) {
  std::string out;
  JsonWriter w(out);
  writeNode(w, node);
  return out;
}

}  // namespace stackhouse::query::search
