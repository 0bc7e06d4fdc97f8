#include "resp/request_parser.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// Counts the bytes requested from the global operator new, so tests can check that a parser
// does not allocate memory in proportion to what a request merely declares. The replacements
// are kept out of line: once inlined, GCC's -Wmismatched-new-delete cannot tell that this
// operator new is malloc-based and flags the free() in operator delete.
namespace {
std::atomic<size_t> g_allocated_bytes{0};

[[gnu::noinline]] void* CountedAllocate(size_t size) {
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

[[gnu::noinline]] void Release(void* p) { std::free(p); }
}  // namespace

[[gnu::noinline]] void* operator new(size_t size) {
  void* p = CountedAllocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
[[gnu::noinline]] void* operator new[](size_t size) {
  void* p = CountedAllocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
[[gnu::noinline]] void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocate(size);
}
[[gnu::noinline]] void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocate(size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { Release(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { Release(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { Release(p); }
[[gnu::noinline]] void operator delete[](void* p, size_t) noexcept { Release(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }

namespace keel::resp {
namespace {

using std::string_literals::operator""s;
using Args = std::vector<std::string>;

Args ToStrings(const std::vector<std::string_view>& views) {
  return Args(views.begin(), views.end());
}

// What a stream of bytes parsed to, the way a connection sees it.
struct Outcome {
  std::vector<Args> requests;  // the non-empty requests, in order
  size_t empty_requests = 0;   // requests skipped because they had no arguments
  std::string error;           // the protocol error that ended the stream, if any
  size_t leftover = 0;         // bytes buffered but not consumed at the end

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{requests:";
  for (const Args& r : o.requests) {
    os << " [";
    for (const std::string& a : r) os << '"' << a << "\" ";
    os << "]";
  }
  return os << ", empty: " << o.empty_requests << ", error: \"" << o.error
            << "\", leftover: " << o.leftover << "}";
}

// Feeds `input` to a fresh parser in chunks ending at `cuts` (ascending) and then at the end,
// as a connection does: bytes accumulate in a buffer, complete requests are erased from its
// front, and the buffer is copied to a new allocation before every call, so nothing the
// parser kept from an earlier call can point into it.
Outcome Feed(std::string_view input, const std::vector<size_t>& cuts, ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome outcome;
  std::string buffer;
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    buffer.append(input.substr(fed, end - fed));
    fed = end;
    while (true) {
      std::string moved(buffer);
      buffer.swap(moved);
      const ParseStatus status = parser.Parse(buffer);
      if (status == ParseStatus::kIncomplete) break;
      if (status == ParseStatus::kError) {
        outcome.error = parser.error();
        outcome.leftover = buffer.size();
        return outcome;
      }
      if (parser.args().empty()) {
        ++outcome.empty_requests;
      } else {
        outcome.requests.push_back(ToStrings(parser.args()));
      }
      buffer.erase(0, parser.consumed());
    }
  }
  outcome.leftover = buffer.size();
  return outcome;
}

Outcome FeedWhole(std::string_view input, ParserLimits limits = {}) {
  return Feed(input, {}, limits);
}

Outcome FeedByteByByte(std::string_view input, ParserLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return Feed(input, cuts, limits);
}

// The result of parsing one buffer with a fresh parser.
struct Single {
  ParseStatus status;
  Args args;
  size_t consumed;
  std::string error;
};

Single ParseOnce(std::string_view input, ParserLimits limits = {}) {
  RequestParser parser(limits);
  const ParseStatus status = parser.Parse(input);
  return Single{status, ToStrings(parser.args()), parser.consumed(), std::string(parser.error())};
}

std::string ErrorOf(std::string_view input, ParserLimits limits = {}) {
  const Single s = ParseOnce(input, limits);
  EXPECT_EQ(s.status, ParseStatus::kError) << "input: " << input;
  return s.error;
}

ParserLimits Unauthenticated() {
  ParserLimits limits;
  limits.authenticated = false;
  return limits;
}

// Anonymous memory whose pages can be made inaccessible, to prove that the parser does not
// read bytes it has already dealt with: touching a protected page kills the test.
class GuardedMemory {
 public:
  explicit GuardedMemory(size_t size)
      : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))),
        size_((size + page_ - 1) / page_ * page_) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~GuardedMemory() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  GuardedMemory(const GuardedMemory&) = delete;
  GuardedMemory& operator=(const GuardedMemory&) = delete;

  char* data() const { return base_; }
  size_t page() const { return page_; }
  // Makes the whole pages in [begin, end) inaccessible; both must be page multiples.
  bool Protect(size_t begin, size_t end) {
    return begin >= end || mprotect(base_ + begin, end - begin, PROT_NONE) == 0;
  }
  bool UnprotectAll() { return mprotect(base_, size_, PROT_READ | PROT_WRITE) == 0; }

 private:
  size_t page_;
  size_t size_;
  char* base_;
};

// ---------------------------------------------------------------------------------------------
// Multibulk requests

TEST(RequestParserTest, MultibulkRequestCompletesWithViewsIntoTheBuffer) {
  const std::string input = "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), ParseStatus::kComplete);
  EXPECT_EQ(ToStrings(parser.args()), (Args{"ECHO", "hello"}));
  EXPECT_EQ(parser.consumed(), input.size());
  EXPECT_EQ(parser.args()[0].data(), input.data() + 8);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 18);
}

TEST(RequestParserTest, BinaryArgumentsKeepNulAndCrlfBytes) {
  const std::string input = "*3\r\n$3\r\na\0b\r\n$4\r\n\r\n\r\n\r\n$0\r\n\r\n"s;
  const Single s = ParseOnce(input);
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.args, (Args{"a\0b"s, "\r\n\r\n", ""}));
  EXPECT_EQ(s.consumed, input.size());
}

TEST(RequestParserTest, PipelinedRequestsAreParsedOneAtATime) {
  const std::string input = "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  RequestParser parser;
  size_t offset = 0;
  std::vector<Args> seen;
  while (offset < input.size()) {
    ASSERT_EQ(parser.Parse(std::string_view(input).substr(offset)), ParseStatus::kComplete);
    seen.push_back(ToStrings(parser.args()));
    offset += parser.consumed();
  }
  EXPECT_EQ(seen, (std::vector<Args>{{"PING"}, {"PING"}, {"GET", "k"}}));
  EXPECT_EQ(offset, input.size());
}

TEST(RequestParserTest, EmptyMultibulkRequestsCompleteWithNoArguments) {
  for (const std::string input : {"*0\r\n", "*-1\r\n", "*-10\r\n"}) {
    const Single s = ParseOnce(input);
    EXPECT_EQ(s.status, ParseStatus::kComplete) << input;
    EXPECT_TRUE(s.args.empty()) << input;
    EXPECT_EQ(s.consumed, input.size()) << input;
  }
}

TEST(RequestParserTest, EmptyRequestsAreSkippedBetweenRealOnes) {
  const Outcome o = FeedWhole("*0\r\n\r\n*-1\r\nPING\r\n \t\r\n*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(o.requests, (std::vector<Args>{{"PING"}, {"PING"}}));
  EXPECT_EQ(o.empty_requests, 4u);
  EXPECT_EQ(o.leftover, 0u);
}

TEST(RequestParserTest, CountLineNeedsTheByteAfterItsCarriageReturn) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse("*1\r"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.Parse("*1\r\n$1\r"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.Parse("*1\r\n$1\r\nx\r"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.Parse("*1\r\n$1\r\nx\r\n"), ParseStatus::kComplete);
  EXPECT_EQ(ToStrings(parser.args()), (Args{"x"}));
}

TEST(RequestParserTest, ByteAfterCarriageReturnAndAfterBulkIsSkippedUnchecked) {
  // Redis does not check that '\r' is followed by '\n', nor that a bulk is followed by CRLF.
  const std::string input = "*2\rX$3\r\nfooXY$3\rZbar!!";
  const Single s = ParseOnce(input);
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.args, (Args{"foo", "bar"}));
  EXPECT_EQ(s.consumed, input.size());
}

TEST(RequestParserTest, LargestAcceptedCountIsIntMax) {
  EXPECT_EQ(ParseOnce("*2147483647\r\n").status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf("*2147483648\r\n"), "Protocol error: invalid multibulk length");
}

TEST(RequestParserTest, ZeroLengthBulkIsAnEmptyArgument) {
  const Single s = ParseOnce("*2\r\n$0\r\n\r\n$1\r\nx\r\n");
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.args, (Args{"", "x"}));
}

// ---------------------------------------------------------------------------------------------
// Protocol errors, with Redis's exact text

TEST(RequestParserTest, CountLineLongerThanInlineLimitIsAProtocolError) {
  const std::string just_fits = "*" + std::string(64 * 1024 - 1, '1');
  EXPECT_EQ(ParseOnce(just_fits).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf(just_fits + "1"), "Protocol error: too big mbulk count string");
  // Arriving byte by byte, under a small limit to keep the test quick.
  ParserLimits small;
  small.max_inline_len = 100;
  EXPECT_EQ(FeedByteByByte("*" + std::string(100, '1'), small).error,
            "Protocol error: too big mbulk count string");
}

TEST(RequestParserTest, LongCountLineAlreadyTerminatedIsAnInvalidLengthNotTooBig) {
  // Like Redis, the size limit applies only while no '\r' has been seen.
  EXPECT_EQ(ErrorOf("*" + std::string(70000, '1') + "\r\n"),
            "Protocol error: invalid multibulk length");
}

TEST(RequestParserTest, CountThatIsNotAStrictIntegerIsAProtocolError) {
  for (const std::string count : {"", "+1", "01", " 1", "1 ", "-0", "-", "1x", "0x10", "1.0",
                                  "99999999999999999999", "123456789012345678901"}) {
    EXPECT_EQ(ErrorOf("*" + count + "\r\n"), "Protocol error: invalid multibulk length")
        << "count: '" << count << "'";
  }
}

TEST(RequestParserTest, UnauthenticatedCountAboveTenIsAProtocolError) {
  EXPECT_EQ(ErrorOf("*11\r\n", Unauthenticated()),
            "Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(ParseOnce("*10\r\n", Unauthenticated()).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ParseOnce("*11\r\n").status, ParseStatus::kIncomplete);
  // The integer check comes first.
  EXPECT_EQ(ErrorOf("*2147483648\r\n", Unauthenticated()),
            "Protocol error: invalid multibulk length");
}

TEST(RequestParserTest, ElementNotStartingWithDollarIsAProtocolError) {
  EXPECT_EQ(ErrorOf("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            "Protocol error: expected '$', got 'f'");
  EXPECT_EQ(ErrorOf("*1\r\n:1\r\n"), "Protocol error: expected '$', got ':'");
  EXPECT_EQ(ErrorOf("*1\r\n\xff\r\n"), "Protocol error: expected '$', got '\xff'");
  // Redis turns CR and LF in error text into spaces.
  EXPECT_EQ(ErrorOf("*1\r\n\r\n"), "Protocol error: expected '$', got ' '");
  EXPECT_EQ(ErrorOf("*1\r\n\n$1\r\n"), "Protocol error: expected '$', got ' '");
}

TEST(RequestParserTest, WrongElementTypeIsOnlyReportedOnceItsLineIsComplete) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse("*1\r\nfoo"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.Parse("*1\r\nfoo\r\n"), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "Protocol error: expected '$', got 'f'");
}

TEST(RequestParserTest, BulkLengthLineLongerThanInlineLimitIsAProtocolError) {
  const std::string head = "*1\r\n";
  const std::string just_fits = head + "$" + std::string(64 * 1024 - 1, '1');
  EXPECT_EQ(ParseOnce(just_fits).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf(just_fits + "1"), "Protocol error: too big bulk count string");
  ParserLimits small;
  small.max_inline_len = 100;
  EXPECT_EQ(FeedByteByByte(head + "$" + std::string(100, '1'), small).error,
            "Protocol error: too big bulk count string");
}

TEST(RequestParserTest, BulkLengthThatIsNotAStrictIntegerIsAProtocolError) {
  for (const std::string len :
       {"", "-1", "+3", "03", " 3", "3 ", "-0", "3x", "99999999999999999999"}) {
    EXPECT_EQ(ErrorOf("*1\r\n$" + len + "\r\nabc\r\n"), "Protocol error: invalid bulk length")
        << "length: '" << len << "'";
  }
}

TEST(RequestParserTest, BulkLengthAboveLimitIsAProtocolError) {
  EXPECT_EQ(ParseOnce("*1\r\n$536870912\r\n").status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf("*1\r\n$536870913\r\n"), "Protocol error: invalid bulk length");
  ParserLimits small;
  small.max_bulk_len = 5;
  EXPECT_EQ(ParseOnce("*1\r\n$5\r\nhello\r\n", small).args, (Args{"hello"}));
  EXPECT_EQ(ErrorOf("*1\r\n$6\r\nhello!\r\n", small), "Protocol error: invalid bulk length");
}

TEST(RequestParserTest, TwoGigabyteDeclaredBulkIsAProtocolErrorUnderTheDefaultLimit) {
  EXPECT_EQ(ErrorOf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2147483648\r\nabc"),
            "Protocol error: invalid bulk length");
}

TEST(RequestParserTest, TwoGigabyteDeclaredBulkUnderARaisedLimitWaitsWithoutAllocating) {
  ParserLimits big;
  big.max_bulk_len = 4LL * 1024 * 1024 * 1024;
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2147483648\r\nabc";
  RequestParser parser(big);
  const size_t before = g_allocated_bytes.load();
  EXPECT_EQ(parser.Parse(input), ParseStatus::kIncomplete);
  EXPECT_LT(g_allocated_bytes.load() - before, 64u * 1024);
  EXPECT_EQ(parser.bytes_needed_hint(), input.size() - 3 + 2147483648u + 2);
}

TEST(RequestParserTest, UnauthenticatedBulkAbove16KiBIsAProtocolError) {
  EXPECT_EQ(ErrorOf("*1\r\n$16385\r\n", Unauthenticated()),
            "Protocol error: unauthenticated bulk length");
  EXPECT_EQ(ParseOnce("*1\r\n$16384\r\n", Unauthenticated()).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ParseOnce("*1\r\n$16385\r\n").status, ParseStatus::kIncomplete);
  // Above proto-max-bulk-len the invalid-length error wins, as in Redis.
  EXPECT_EQ(ErrorOf("*1\r\n$536870913\r\n", Unauthenticated()),
            "Protocol error: invalid bulk length");
}

TEST(RequestParserTest, NewLimitsApplyToTheRestOfAPartialRequest) {
  RequestParser parser(Unauthenticated());
  const std::string head = "*2\r\n$4\r\nAUTH\r\n";
  EXPECT_EQ(parser.Parse(head), ParseStatus::kIncomplete);
  parser.set_limits(ParserLimits{});
  EXPECT_EQ(parser.Parse(head + "$20000\r\n"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.limits().authenticated, true);
}

TEST(RequestParserTest, InlineLineLongerThanLimitIsAProtocolError) {
  const std::string just_fits(64 * 1024, 'A');
  EXPECT_EQ(ParseOnce(just_fits).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf(just_fits + "A"), "Protocol error: too big inline request");
  ParserLimits small;
  small.max_inline_len = 8;
  EXPECT_EQ(ErrorOf("GET keyabc", small), "Protocol error: too big inline request");
  EXPECT_EQ(FeedByteByByte("GET keyabc", small).error, "Protocol error: too big inline request");
  EXPECT_EQ(FeedByteByByte("GET key\r\n", small).requests, (std::vector<Args>{{"GET", "key"}}));
}

TEST(RequestParserTest, LongInlineLineThatIsAlreadyTerminatedIsAccepted) {
  // Like Redis, the limit applies only while no '\n' has been seen.
  const std::string arg(100 * 1024, 'v');
  const Single s = ParseOnce("SET k " + arg + "\r\n");
  ASSERT_EQ(s.status, ParseStatus::kComplete);
  EXPECT_EQ(s.args, (Args{"SET", "k", arg}));
}

TEST(RequestParserTest, UnbalancedQuotesAreAProtocolError) {
  for (const std::string line :
       {R"(SET "abc)", R"(SET 'abc)", R"(SET "a"b)", R"(SET 'a'b)", R"(SET "abc\")", R"(SET "abc\)",
        R"(SET 'it\')", "\"\"x", R"(SET "a""b")", "\"", "'"}) {
    EXPECT_EQ(ErrorOf(line + "\r\n"), "Protocol error: unbalanced quotes in request")
        << "line: " << line;
  }
}

TEST(RequestParserTest, ErrorIsStickyUntilReset) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("*x\r\n"), ParseStatus::kError);
  EXPECT_EQ(parser.Parse("PING\r\n"), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "Protocol error: invalid multibulk length");
  EXPECT_TRUE(parser.args().empty());
  parser.Reset();
  EXPECT_EQ(parser.error(), "");
  ASSERT_EQ(parser.Parse("PING\r\n"), ParseStatus::kComplete);
  EXPECT_EQ(ToStrings(parser.args()), (Args{"PING"}));
}

TEST(RequestParserTest, ResetForgetsAPartialRequest) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse("*2\r\n$3\r\nGET\r\n$5\r\nab"), ParseStatus::kIncomplete);
  parser.Reset();
  EXPECT_EQ(parser.bytes_needed_hint(), 0u);
  ASSERT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n"), ParseStatus::kComplete);
  EXPECT_EQ(ToStrings(parser.args()), (Args{"PING"}));
}

// Redis searches its NUL-terminated query buffer with strchr, so a NUL before a line's end
// hides the end: the request waits until the "too big" limit is crossed.
TEST(RequestParserTest, NulBeforeCountLineEndHidesTheLineLikeRedis) {
  const std::string input = "*1\0\r\n$4\r\nPING\r\n"s;
  EXPECT_EQ(ParseOnce(input).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf(input + std::string(64 * 1024, 'x')),
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf("*1\r\n$4\0\r\nPING\r\n"s + std::string(64 * 1024, 'x')),
            "Protocol error: too big bulk count string");
}

TEST(RequestParserTest, NulBeforeInlineLineEndHidesTheLineLikeRedis) {
  EXPECT_EQ(ParseOnce("PI\0NG\r\n"s).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ErrorOf("PI\0NG\r\n"s + std::string(64 * 1024, 'x')),
            "Protocol error: too big inline request");
}

TEST(RequestParserTest, NulAfterTheLineEndDoesNotMatter) {
  const Outcome o = FeedWhole("PING\r\n*1\r\n$1\r\n\0\r\n"s);
  EXPECT_EQ(o.requests, (std::vector<Args>{{"PING"}, {"\0"s}}));
}

// ---------------------------------------------------------------------------------------------
// Inline requests

TEST(RequestParserTest, InlineLineEndsAtNewlineWithOrWithoutCarriageReturn) {
  EXPECT_EQ(ParseOnce("PING\n").consumed, 5u);
  EXPECT_EQ(ParseOnce("PING\r\n").consumed, 6u);
  EXPECT_EQ(ParseOnce("PING\r\n").args, (Args{"PING"}));
  EXPECT_EQ(ParseOnce("PING\r\r\n").args, (Args{"PING"}));
  EXPECT_EQ(ParseOnce("a\rb\n").args, (Args{"a", "b"}));
  EXPECT_EQ(ParseOnce("PING\r").status, ParseStatus::kIncomplete);
}

TEST(RequestParserTest, BlankInlineLinesAreEmptyRequests) {
  for (const std::string line : {"\r\n", "\n", "   \r\n", "\t \v\f\n"}) {
    const Single s = ParseOnce(line);
    EXPECT_EQ(s.status, ParseStatus::kComplete);
    EXPECT_TRUE(s.args.empty());
    EXPECT_EQ(s.consumed, line.size());
  }
}

TEST(RequestParserTest, InlineArgumentsAreSeparatedByAnyWhitespace) {
  EXPECT_EQ(ParseOnce("  SET\tkey   value \r\n").args, (Args{"SET", "key", "value"}));
  // Vertical tab and form feed separate arguments only between them, like sdssplitargs.
  EXPECT_EQ(ParseOnce("\va\vb \fc\n").args, (Args{"a\vb", "c"}));
}

TEST(RequestParserTest, DoubleQuotesUnderstandCEscapes) {
  EXPECT_EQ(ParseOnce(R"(SET "a b" "x\ny\rz\tw\bv\au\\t\"s")"
                      "\r\n")
                .args,
            (Args{"SET", "a b", "x\ny\rz\tw\bv\au\\t\"s"}));
  // Any other escaped character stands for itself.
  EXPECT_EQ(ParseOnce(R"("\q\'\ ")"
                      "\n")
                .args,
            (Args{"q' "}));
}

TEST(RequestParserTest, DoubleQuotesUnderstandHexEscapes) {
  EXPECT_EQ(ParseOnce(R"("\x41\x4a\x7a" "\xff\x00\xAb")"
                      "\n")
                .args,
            (Args{"AJz", "\xff\0\xab"s}));
  // Without two hex digits, \x is an ordinary escape of 'x'.
  EXPECT_EQ(ParseOnce(R"("\x4" "\xg1" "\x")"
                      "\n")
                .args,
            (Args{"x4", "xg1", "x"}));
}

TEST(RequestParserTest, SingleQuotesOnlyUnderstandEscapedSingleQuote) {
  EXPECT_EQ(ParseOnce(R"('it\'s' 'a\nb' 'x\"y' '\x41')"
                      "\n")
                .args,
            (Args{"it's", R"(a\nb)", R"(x\"y)", R"(\x41)"}));
  EXPECT_EQ(ParseOnce(R"('say "hi"' "it's")"
                      "\n")
                .args,
            (Args{R"(say "hi")", "it's"}));
}

TEST(RequestParserTest, QuotesMayStartInsideAnArgument) {
  EXPECT_EQ(ParseOnce(R"(foo"bar baz" x'y z')"
                      "\n")
                .args,
            (Args{"foobar baz", "xy z"}));
}

TEST(RequestParserTest, EmptyQuotedStringsAreEmptyArguments) {
  EXPECT_EQ(ParseOnce(R"(SET "" '')"
                      "\r\n")
                .args,
            (Args{"SET", "", ""}));
}

TEST(RequestParserTest, ClosingQuoteMayBeFollowedByAnyWhitespace) {
  EXPECT_EQ(ParseOnce("\"a\"\vb 'c'\td\r\n").args, (Args{"a", "b", "c", "d"}));
  EXPECT_EQ(ParseOnce("\"a\"\r\r\n").args, (Args{"a"}));
}

TEST(RequestParserTest, PlainInlineArgumentsAreViewsIntoTheBuffer) {
  const std::string input = R"(SET "a key" 'va\'l')"
                            "\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), ParseStatus::kComplete);
  ASSERT_EQ(ToStrings(parser.args()), (Args{"SET", "a key", "va'l"}));
  EXPECT_EQ(parser.args()[0].data(), input.data());
  EXPECT_EQ(parser.args()[1].data(), input.data() + 5);  // quoted, but nothing unescaped
  const char* escaped = parser.args()[2].data();
  EXPECT_FALSE(escaped >= input.data() && escaped < input.data() + input.size());
}

TEST(RequestParserTest, UnescapedInlineArgumentsSurviveTheCallersBuffer) {
  RequestParser parser;
  {
    std::string input = R"(SET "\x41\x42" "c\nd")"
                        "\n";
    ASSERT_EQ(parser.Parse(input), ParseStatus::kComplete);
    input.assign(input.size(), '#');
  }
  EXPECT_EQ(parser.args()[1], "AB");
  EXPECT_EQ(parser.args()[2], "c\nd");
}

TEST(RequestParserTest, InlineIsChosenByAnyFirstByteOtherThanStar) {
  EXPECT_EQ(ParseOnce("$3\r\n").args, (Args{"$3"}));
  EXPECT_EQ(ParseOnce(" *1\r\n").args, (Args{"*1"}));
}

// ---------------------------------------------------------------------------------------------
// Incremental parsing

const std::string& PipelinedInput() {
  static const std::string* input = new std::string(
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n"  // a bulk holding CRLF
      "PING\r\n"
      "*0\r\n"
      "\r\n"
      R"(set "a b" 'c\'d' "\x41\n" plain)"
      "\n"
      "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
      "*-1\r\n"
      "  \t \n"
      "*1\r\n$3\r\na\0b\r\n"
      "GET key\n"s);
  return *input;
}

const Outcome& PipelinedExpected() {
  static const Outcome* expected = [] {
    auto* o = new Outcome;
    o->requests = {{"SET", "key", "va\r\nl"},
                   {"PING"},
                   {"set", "a b", "c'd", "A\n", "plain"},
                   {"ECHO", ""},
                   {"a\0b"s},
                   {"GET", "key"}};
    o->empty_requests = 4;
    return o;
  }();
  return *expected;
}

TEST(RequestParserTest, PipelinedInputParsesToTheExpectedRequests) {
  EXPECT_EQ(FeedWhole(PipelinedInput()), PipelinedExpected());
}

TEST(RequestParserTest, PipelinedInputFedOneByteAtATimeParsesIdentically) {
  EXPECT_EQ(FeedByteByByte(PipelinedInput()), PipelinedExpected());
}

TEST(RequestParserTest, PipelinedInputSplitAtAnySingleByteBoundaryParsesIdentically) {
  const std::string& input = PipelinedInput();
  for (size_t i = 1; i < input.size(); ++i) {
    ASSERT_EQ(Feed(input, {i}), PipelinedExpected()) << "split at " << i;
  }
}

TEST(RequestParserTest, ShortPipelineSplitAtEveryPairOfPositionsParsesIdentically) {
  const std::string input =
      "*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n"
      "PING x\r\n"
      "*1\r\n$1\r\n\0\r\n"
      R"("q\x00" 'w')"
      "\n"s;
  Outcome expected;
  expected.requests = {{"ECHO", "a\r\n"}, {"PING", "x"}, {"\0"s}, {"q\0"s, "w"}};
  ASSERT_EQ(FeedWhole(input), expected);
  for (size_t i = 1; i < input.size(); ++i) {
    for (size_t j = i + 1; j < input.size(); ++j) {
      ASSERT_EQ(Feed(input, {i, j}), expected) << "split at " << i << " and " << j;
    }
  }
}

TEST(RequestParserTest, ErrorsAreTheSameWhateverTheSplit) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PING\r\n*1x\r\n", "Protocol error: invalid multibulk length"},
      {"PING\r\n*1\r\n$1x\r\n", "Protocol error: invalid bulk length"},
      {"PING\r\n*2\r\n$1\r\na\r\n+x\r\n", "Protocol error: expected '$', got '+'"},
      {"PING\r\nSET \"x\r\n", "Protocol error: unbalanced quotes in request"},
  };
  for (const auto& [input, error] : cases) {
    const Outcome whole = FeedWhole(input);
    EXPECT_EQ(whole.error, error) << input;
    EXPECT_EQ(whole.requests, (std::vector<Args>{{"PING"}})) << input;
    EXPECT_EQ(FeedByteByByte(input), whole) << input;
  }
}

TEST(RequestParserTest, BytesNeededHintIsZeroOutsideABulk) {
  RequestParser parser;
  EXPECT_EQ(parser.bytes_needed_hint(), 0u);
  EXPECT_EQ(parser.Parse("*2\r\n$3"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.bytes_needed_hint(), 0u);
  EXPECT_EQ(parser.Parse("*2\r\n$3\r\nab"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.bytes_needed_hint(), 13u);
  EXPECT_EQ(parser.Parse("*2\r\n$3\r\nabc\r\n"), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.bytes_needed_hint(), 0u);
  EXPECT_EQ(parser.Parse("*2\r\n$3\r\nabc\r\n$1\r\nd\r\n"), ParseStatus::kComplete);
  EXPECT_EQ(parser.bytes_needed_hint(), 0u);
}

TEST(RequestParserTest, LargeBulkFedInChunksCompletesWithACorrectHint) {
  const size_t size = 10 * 1024 * 1024;
  std::string payload(size, 'v');
  for (size_t i = 0; i < size; i += 4093) payload[i] = static_cast<char>(i % 3 == 0 ? '\r' : 0);
  const std::string header = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10485760\r\n";
  std::string buffer = header;
  RequestParser parser;
  ASSERT_EQ(parser.Parse(buffer), ParseStatus::kIncomplete);
  const size_t hint = parser.bytes_needed_hint();
  EXPECT_EQ(hint, header.size() + size + 2);
  buffer.reserve(hint);
  for (size_t offset = 0; offset < size; offset += 1000) {
    buffer.append(payload, offset, 1000);
    ASSERT_EQ(parser.Parse(buffer), ParseStatus::kIncomplete);
    ASSERT_EQ(parser.bytes_needed_hint(), hint);
  }
  buffer.append("\r");
  ASSERT_EQ(parser.Parse(buffer), ParseStatus::kIncomplete);
  buffer.append("\n");
  ASSERT_EQ(parser.Parse(buffer), ParseStatus::kComplete);
  EXPECT_EQ(parser.consumed(), hint);
  ASSERT_EQ(parser.args().size(), 3u);
  EXPECT_EQ(parser.args()[2].data(), buffer.data() + header.size());  // not copied
  EXPECT_TRUE(parser.args()[2] == payload);
}

TEST(RequestParserTest, BulkPayloadBytesAreNeverRead) {
  // The payload sits on pages that are made inaccessible before it "arrives": a parser that
  // scanned it, once or on every call, would crash.
  const std::string header = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10485760\r\n";
  const std::string tail = "\r\n*1\r\n$4\r\nPING\r\n";
  const size_t payload = 10 * 1024 * 1024;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_EQ(payload % page, 0u);
  GuardedMemory memory(page + payload + page);
  ASSERT_NE(memory.data(), nullptr);
  char* start = memory.data() + page - header.size();
  std::memcpy(start, header.data(), header.size());
  std::memcpy(memory.data() + page + payload, tail.data(), tail.size());
  ASSERT_TRUE(memory.Protect(page, page + payload));
  const std::string_view all(start, header.size() + payload + tail.size());

  RequestParser parser;
  ASSERT_EQ(parser.Parse(all.substr(0, header.size())), ParseStatus::kIncomplete);
  for (size_t fed = header.size(); fed < header.size() + payload; fed += 65537) {
    ASSERT_EQ(parser.Parse(all.substr(0, fed)), ParseStatus::kIncomplete);
  }
  ASSERT_EQ(parser.Parse(all), ParseStatus::kComplete);
  ASSERT_EQ(parser.args().size(), 3u);
  EXPECT_EQ(parser.args()[2].data(), memory.data() + page);
  EXPECT_EQ(parser.args()[2].size(), payload);
  EXPECT_EQ(parser.consumed(), header.size() + payload + 2);
  ASSERT_EQ(parser.Parse(all.substr(parser.consumed())), ParseStatus::kComplete);
  EXPECT_EQ(ToStrings(parser.args()), (Args{"PING"}));
  EXPECT_TRUE(memory.UnprotectAll());
}

TEST(RequestParserTest, MillionElementMultibulkArrivingInPiecesIsNotRescanned) {
  // After each call, every page before the element in progress is made inaccessible: a parser
  // that went back over bytes it had already parsed would crash.
  constexpr size_t kCount = 1000000;
  const std::string header = "*1000000\r\n";
  const std::string element = "$1\r\nx\r\n";
  const size_t total = header.size() + kCount * element.size();
  GuardedMemory memory(total);
  ASSERT_NE(memory.data(), nullptr);
  char* data = memory.data();
  std::memcpy(data, header.data(), header.size());
  for (size_t i = 0; i < kCount; ++i) {
    std::memcpy(data + header.size() + i * element.size(), element.data(), element.size());
  }
  const std::string_view all(data, total);

  RequestParser parser;
  size_t protected_end = 0;
  size_t fed = 0;
  ParseStatus status = ParseStatus::kIncomplete;
  while (status == ParseStatus::kIncomplete) {
    fed = std::min(total, fed + 4099);
    status = parser.Parse(all.substr(0, fed));
    if (status != ParseStatus::kIncomplete || fed <= header.size()) continue;
    const size_t in_progress =
        header.size() + (fed - header.size()) / element.size() * element.size();
    const size_t boundary = in_progress / memory.page() * memory.page();
    ASSERT_TRUE(memory.Protect(protected_end, boundary));
    protected_end = std::max(protected_end, boundary);
  }
  ASSERT_EQ(status, ParseStatus::kComplete);
  EXPECT_EQ(fed, total);
  EXPECT_EQ(parser.consumed(), total);
  ASSERT_TRUE(memory.UnprotectAll());
  ASSERT_EQ(parser.args().size(), kCount);
  EXPECT_EQ(parser.args().front(), "x");
  EXPECT_EQ(parser.args().back(), "x");
  EXPECT_EQ(parser.args()[12345].data(), data + header.size() + 12345 * element.size() + 4);
}

TEST(RequestParserTest, MillionElementHeaderWithNoBodyCostsLittleMemory) {
  for (const std::string header : {"*1000000\r\n", "*2147483647\r\n"}) {
    RequestParser parser;
    const size_t before = g_allocated_bytes.load();
    EXPECT_EQ(parser.Parse(header), ParseStatus::kIncomplete);
    EXPECT_EQ(parser.Parse(header + "$3\r\nGET\r\n$1\r\nk\r\n"), ParseStatus::kIncomplete);
    EXPECT_LT(g_allocated_bytes.load() - before, 64u * 1024) << header;
  }
}

TEST(RequestParserTest, ParserIsReusableAfterAHugeRequest) {
  std::string input = "*100000\r\n";
  for (int i = 0; i < 100000; ++i) input += "$1\r\na\r\n";
  input += "*1\r\n$4\r\nPING\r\n";
  const Outcome o = FeedWhole(input);
  ASSERT_EQ(o.requests.size(), 2u);
  EXPECT_EQ(o.requests[0].size(), 100000u);
  EXPECT_EQ(o.requests[1], (Args{"PING"}));
}

}  // namespace
}  // namespace keel::resp
