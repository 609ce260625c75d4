// The built-in function library (jsonata-js 2.x semantics). Each function receives its
// arguments already validated against its signature (context substitution, array wrapping).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>
#include <unordered_set>

#include "common/base64.h"
#include "common/utf8.h"
#include "expr/evaluator.h"

namespace canonry::expr {

// Defined in datetime.cpp.
Val fn_from_millis(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_to_millis(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_now(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_millis(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_format_integer(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_parse_integer(Evaluator& ev, Val* args, int nargs, Val context);
Val fn_format_number(Evaluator& ev, Val* args, int nargs, Val context);

namespace {

Val arg(Val* args, int nargs, int i) {
  return i < nargs ? args[i] : Val();
}

// A user number made safe to convert to an integer type (NaN gives `low`).
double saturate(double d, double low, double high) {
  if (!(d >= low)) return low;
  return d > high ? high : d;
}

std::string to_s(Evaluator& ev, Val v) {
  if (v.undef()) return "undefined";
  Val s = ev.string_of(v);
  return std::string(s.sv());
}

// ---- aggregation ----
Val fn_sum(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  double total = 0;
  for (uint32_t i = 0; i < a.arr->size; ++i) total += a.arr->data[i].num;
  return Val::number(total);
}

Val fn_count(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return Val::number(0);
  return Val::number(a.arr->size);
}

Val fn_max(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef() || a.arr->size == 0) return Val();
  double m = a.arr->data[0].num;
  for (uint32_t i = 1; i < a.arr->size; ++i) m = std::max(m, a.arr->data[i].num);
  return Val::number(m);
}

Val fn_min(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef() || a.arr->size == 0) return Val();
  double m = a.arr->data[0].num;
  for (uint32_t i = 1; i < a.arr->size; ++i) m = std::min(m, a.arr->data[i].num);
  return Val::number(m);
}

Val fn_average(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef() || a.arr->size == 0) return Val();
  double total = 0;
  for (uint32_t i = 0; i < a.arr->size; ++i) total += a.arr->data[i].num;
  return Val::number(total / a.arr->size);
}

// ---- strings ----
Val fn_string(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val pretty = arg(args, nargs, 1);
  return ev.string_of(a, pretty.is_bool() && pretty.b);
}

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<uint8_t>(s[j]) & 0xC0) == 0x80) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

double to_integer(double d) {
  if (std::isnan(d)) return 0;
  return std::trunc(d);
}

Val fn_substring(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  auto cps = code_points(s.sv());
  double len = static_cast<double>(cps.size());
  double start = to_integer(arg(args, nargs, 1).num);
  Val lv = arg(args, nargs, 2);
  if (len + start < 0) start = 0;
  double end = len;
  if (!lv.undef()) {
    double length = to_integer(lv.num);
    if (lv.num <= 0) return Val::string("");
    end = start >= 0 ? start + length : len + start + length;
  }
  // Array#slice semantics
  if (start < 0) start = std::max(0.0, len + start);
  if (end < 0) end = std::max(0.0, len + end);
  start = std::min(start, len);
  end = std::min(end, len);
  std::string out;
  for (double i = start; i < end; ++i) out += cps[static_cast<size_t>(i)];
  return ev.str(out);
}

Val fn_substring_before(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  Val c = arg(args, nargs, 1);
  if (s.undef()) return s;
  if (c.undef()) return s;
  size_t idx = s.sv().find(c.sv());
  if (idx == std::string_view::npos) return s;
  return ev.str(s.sv().substr(0, idx));
}

Val fn_substring_after(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  Val c = arg(args, nargs, 1);
  if (s.undef()) return s;
  if (c.undef()) return s;
  size_t idx = s.sv().find(c.sv());
  if (idx == std::string_view::npos) return s;
  return ev.str(s.sv().substr(idx + c.len));
}

uint32_t decode_cp(std::string_view s, size_t& i) {
  uint32_t cp;
  if (utf8_decode(s, i, cp)) return cp;
  return static_cast<uint8_t>(s[i++]);  // strings are valid UTF-8; a stray byte stands for itself
}

uint32_t case_map(uint32_t cp, bool upper) {
  if (upper) {
    if (cp >= 'a' && cp <= 'z') return cp - 32;
    if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)) return cp - 32;
    if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 32;
    if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
    if (cp >= 0x100 && cp <= 0x17F && (cp & 1)) return cp - 1;
  } else {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 32;
    if (cp >= 0x391 && cp <= 0x3A9) return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x100 && cp <= 0x17F && !(cp & 1)) return cp + 1;
  }
  return cp;
}

Val change_case(Evaluator& ev, Val s, bool upper) {
  if (s.undef()) return s;
  std::string_view v = s.sv();
  bool ascii = true;
  for (char c : v) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    // the common case, written straight into the arena
    char* out = static_cast<char*>(ev.arena().allocate(v.size() + 1, 1));
    for (size_t k = 0; k < v.size(); ++k) {
      char c = v[k];
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      out[k] = c;
    }
    return Val::string(std::string_view(out, v.size()));
  }
  std::string out;
  out.reserve(s.len);
  size_t i = 0;
  while (i < v.size()) utf8_append(out, case_map(decode_cp(v, i), upper));
  return ev.str(out);
}

Val fn_lowercase(Evaluator& ev, Val* args, int nargs, Val) {
  return change_case(ev, arg(args, nargs, 0), false);
}
Val fn_uppercase(Evaluator& ev, Val* args, int nargs, Val) {
  return change_case(ev, arg(args, nargs, 0), true);
}

Val fn_length(Evaluator&, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  return Val::number(static_cast<double>(utf8_length(s.sv())));
}

Val fn_trim(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::string_view v = s.sv();
  size_t b = 0, e = v.size();
  while (b < e && is_ws(v[b])) ++b;
  while (e > b && is_ws(v[e - 1])) --e;
  bool inner = false;
  for (size_t k = b; k + 1 < e && !inner; ++k) {
    inner = is_ws(v[k]) && (v[k] != ' ' || is_ws(v[k + 1]));
  }
  // Nothing to collapse inside: the result is a slice of the argument.
  if (!inner) return Val::string(v.substr(b, e - b));
  std::string out;
  bool in_space = false;
  for (char c : s.sv()) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      in_space = true;
    } else {
      if (in_space) out += ' ';
      in_space = false;
      out += c;
    }
  }
  if (in_space) out += ' ';
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return ev.str(out);
}

Val fn_pad(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  double width = to_integer(arg(args, nargs, 1).num);
  Val cv = arg(args, nargs, 2);
  std::string ch = cv.undef() || cv.len == 0 ? " " : std::string(cv.sv());
  double pad = std::fabs(width) - static_cast<double>(utf8_length(s.sv()));
  if (pad <= 0) return s;
  // JavaScript cannot make strings this long either (RangeError); fail instead of exhausting memory
  if (pad > (1 << 29)) return ev.fail("D3001", -1, format_number_js(width));
  auto cps = code_points(ch);
  std::string padding;
  for (size_t i = 0; i < static_cast<size_t>(pad); ++i) padding += cps[i % cps.size()];
  std::string out = width > 0 ? std::string(s.sv()) + padding : padding + std::string(s.sv());
  return ev.str(out);
}

// ---- regular expressions ----
struct MatchInfo {
  std::string_view match;
  size_t start;  // code points
  size_t end;
  size_t byte_start;
  size_t byte_end;
  std::vector<Val> groups;
};

size_t cp_index(std::string_view s, size_t byte) {
  return utf8_length(s.substr(0, byte));
}

// Runs a matcher (a regex or a function behaving like one) over `subject`, collecting up to
// `limit` matches (-1: all). Returns false on error.
bool collect_matches(Evaluator& ev, Val matcher, std::string_view subject, int64_t limit,
                     std::vector<MatchInfo>& out) {
  if (!matcher.is_fn()) return true;
  Function* f = matcher.fn;
  if (f->kind == FnKind::kRegex) {
    const RE2& re = *f->regex;
    int ngroups = re.NumberOfCapturingGroups();
    std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups) + 1);
    size_t pos = 0;
    bool first = true;
    while (limit < 0 || static_cast<int64_t>(out.size()) < limit) {
      if (!first && pos >= subject.size()) break;
      if (!re.Match(subject, pos, subject.size(), RE2::UNANCHORED, groups.data(), ngroups + 1)) {
        break;
      }
      MatchInfo m;
      m.byte_start = static_cast<size_t>(groups[0].data() - subject.data());
      m.byte_end = m.byte_start + groups[0].size();
      if (!first && m.byte_start == m.byte_end) {
        ev.fail("D1004", f->node ? f->node->position : -1,
                std::string(f->node ? f->node->text : ""));
        return false;
      }
      m.match = subject.substr(m.byte_start, m.byte_end - m.byte_start);
      m.start = cp_index(subject, m.byte_start);
      m.end = m.start + utf8_length(m.match);
      for (int g = 1; g <= ngroups; ++g) {
        if (groups[g].data() == nullptr) {
          m.groups.push_back(Val::string(""));
        } else {
          m.groups.push_back(Val::string(std::string_view(groups[g].data(), groups[g].size())));
        }
      }
      out.push_back(std::move(m));
      first = false;
      pos = out.back().byte_end;
    }
    return true;
  }
  Val s = Val::string(subject);
  Val result = ev.apply(matcher, &s, 1, Val());
  while (!ev.failed() && result.is_obj() &&
         (limit < 0 || static_cast<int64_t>(out.size()) < limit)) {
    const Val* match = Evaluator::get(result.obj, "match");
    const Val* start = Evaluator::get(result.obj, "start");
    const Val* end = Evaluator::get(result.obj, "end");
    const Val* groups = Evaluator::get(result.obj, "groups");
    const Val* next = Evaluator::get(result.obj, "next");
    if (!(start && start->is_num()) && !(end && end->is_num()) && !(groups && groups->is_arr()) &&
        !(next && next->is_fn())) {
      ev.fail("T1010");
      return false;
    }
    MatchInfo m;
    m.match = match && match->is_str() ? match->sv() : std::string_view();
    m.start = start && start->is_num() ? static_cast<size_t>(saturate(start->num, 0, 1e15)) : 0;
    m.end = end && end->is_num() ? static_cast<size_t>(saturate(end->num, 0, 1e15))
                                 : m.start + utf8_length(m.match);
    m.byte_start = utf8_offset(subject, m.start);
    m.byte_end = utf8_offset(subject, m.end);
    if (groups && groups->is_arr()) {
      for (uint32_t i = 0; i < groups->arr->size; ++i) m.groups.push_back(groups->arr->data[i]);
    }
    out.push_back(std::move(m));
    if (!next || !next->is_fn()) break;
    result = ev.apply(*next, nullptr, 0, Val());
  }
  if (!ev.failed() && !result.undef() && !result.is_obj() && out.empty()) {
    ev.fail("T1010");
  }
  return !ev.failed();
}

Val match_object(Evaluator& ev, const MatchInfo& m) {
  Object* o = ev.new_object(3);
  ev.set(o, "match", ev.str(m.match));
  ev.set(o, "index", Val::number(static_cast<double>(m.start)));
  Array* groups = ev.new_array(static_cast<uint32_t>(m.groups.size()));
  for (Val g : m.groups) ev.push(groups, g.is_str() ? ev.str(g.sv()) : g);
  ev.set(o, "groups", Val::array(groups));
  return Val::object(o);
}

Val fn_match(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  Val lim = arg(args, nargs, 2);
  if (lim.is_num() && lim.num < 0) return ev.fail("D3040", -1, format_number_js(lim.num));
  Array* result = ev.new_seq();
  if (lim.undef() || lim.num > 0) {
    std::vector<MatchInfo> matches;
    if (!collect_matches(ev, arg(args, nargs, 1), s.sv(),
                         lim.undef() ? -1 : static_cast<int64_t>(saturate(lim.num, 0, 1e15)),
                         matches)) {
      return Val();
    }
    for (const MatchInfo& m : matches) ev.push(result, match_object(ev, m));
  }
  return Val::array(result);
}

Val fn_contains(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  Val token = arg(args, nargs, 1);
  if (s.undef() || token.undef()) return Val();
  if (token.is_str()) return Val::boolean(s.sv().find(token.sv()) != std::string_view::npos);
  std::vector<MatchInfo> matches;
  if (!collect_matches(ev, token, s.sv(), 1, matches)) return Val();
  return Val::boolean(!matches.empty());
}

Val fn_replace(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  Val pattern = arg(args, nargs, 1);
  Val replacement = arg(args, nargs, 2);
  Val lim = arg(args, nargs, 3);
  if (pattern.is_str() && pattern.len == 0) return ev.fail("D3010", -1, "");
  if (lim.is_num() && lim.num < 0) return ev.fail("D3011", -1, format_number_js(lim.num));
  if (replacement.undef()) return ev.fail("T0410", -1, "", "3");
  int64_t limit = lim.undef() ? -1 : static_cast<int64_t>(saturate(lim.num, 0, 1e15));
  std::string_view str = s.sv();
  if (limit == 0) return s;
  std::string result;
  if (pattern.is_str()) {
    size_t pos = 0;
    int64_t count = 0;
    size_t idx = str.find(pattern.sv(), pos);
    std::string repl = replacement.is_str() ? std::string(replacement.sv()) : std::string();
    while (idx != std::string_view::npos && (limit < 0 || count < limit)) {
      result += str.substr(pos, idx - pos);
      result += repl;
      pos = idx + pattern.len;
      ++count;
      idx = str.find(pattern.sv(), pos);
    }
    result += str.substr(pos);
    return ev.str(result);
  }
  std::vector<MatchInfo> matches;
  if (!collect_matches(ev, pattern, str, limit, matches)) return Val();
  if (matches.empty()) return s;
  size_t pos = 0;
  for (const MatchInfo& m : matches) {
    result += str.substr(pos, m.byte_start - pos);
    if (replacement.is_str()) {
      std::string_view r = replacement.sv();
      size_t p = 0;
      size_t idx = r.find('$', p);
      while (idx != std::string_view::npos && p < r.size()) {
        result += r.substr(p, idx - p);
        p = idx + 1;
        char d = p < r.size() ? r[p] : '\0';
        if (d == '$') {
          result += '$';
          ++p;
        } else if (d == '0') {
          result += m.match;
          ++p;
        } else {
          size_t ngroups = m.groups.size();
          int max_digits =
              ngroups == 0
                  ? 1
                  : static_cast<int>(std::floor(std::log10(static_cast<double>(ngroups)))) + 1;
          auto parse = [&](int digits) -> int {
            int v = 0;
            int n = 0;
            for (size_t k = p; k < r.size() && n < digits && r[k] >= '0' && r[k] <= '9'; ++k, ++n) {
              v = v * 10 + (r[k] - '0');
            }
            return n == 0 ? -1 : v;
          };
          int index = parse(max_digits);
          if (max_digits > 1 && index > static_cast<int>(ngroups)) index = parse(max_digits - 1);
          if (index >= 0) {
            if (ngroups > 0 && index >= 1 && static_cast<size_t>(index) <= ngroups) {
              Val g = m.groups[index - 1];
              if (g.is_str()) result += g.sv();
            }
            p += std::to_string(index).size();
          } else {
            result += '$';
          }
        }
        idx = r.find('$', p);
      }
      if (p < r.size()) result += r.substr(p);
    } else {
      Val mo = match_object(ev, m);
      Val replaced = ev.apply(replacement, &mo, 1, Val());
      if (ev.failed()) return Val();
      if (!replaced.is_str()) return ev.fail("D3012", -1, to_s(ev, replaced));
      result += replaced.sv();
    }
    pos = m.byte_end;
  }
  result += str.substr(pos);
  return ev.str(result);
}

Val fn_split(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  Val sep = arg(args, nargs, 1);
  Val lim = arg(args, nargs, 2);
  if (lim.is_num() && lim.num < 0) return ev.fail("D3020", -1, format_number_js(lim.num));
  int64_t limit = lim.undef() ? -1 : static_cast<int64_t>(saturate(lim.num, 0, 1e15));
  Array* result = ev.new_array();
  if (limit == 0) return Val::array(result);
  std::string_view str = s.sv();
  auto full = [&]() { return limit >= 0 && static_cast<int64_t>(result->size) >= limit; };
  if (sep.is_str()) {
    if (sep.len == 0) {
      for (std::string_view cp : code_points(str)) {
        if (full()) break;
        ev.push(result, ev.str(cp));
      }
      return Val::array(result);
    }
    size_t pos = 0;
    for (;;) {
      if (full()) break;
      size_t idx = str.find(sep.sv(), pos);
      if (idx == std::string_view::npos) {
        ev.push(result, ev.str(str.substr(pos)));
        break;
      }
      ev.push(result, ev.str(str.substr(pos, idx - pos)));
      pos = idx + sep.len;
    }
    return Val::array(result);
  }
  std::vector<MatchInfo> matches;
  if (!collect_matches(ev, sep, str, limit, matches)) return Val();
  size_t pos = 0;
  for (const MatchInfo& m : matches) {
    ev.push(result, ev.str(str.substr(pos, m.byte_start - pos)));
    pos = m.byte_end;
  }
  if (!full()) ev.push(result, ev.str(str.substr(pos)));
  return Val::array(result);
}

Val fn_join(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  Val sep = arg(args, nargs, 1);
  std::string out;
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    if (i && sep.is_str()) out += sep.sv();
    out += a.arr->data[i].sv();
  }
  return ev.str(out);
}

// ---- numbers ----
bool matches_decimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t d = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == d) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == f) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == e) return false;
  }
  return i == s.size();
}

Val fn_number(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  if (a.is_num()) return a;
  if (a.is_bool()) return Val::number(a.b ? 1 : 0);
  if (a.is_str()) {
    std::string_view s = a.sv();
    if (matches_decimal(s)) {
      double d = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec == std::errc() && std::isfinite(d)) return Val::number(d);
    }
    if (s.size() > 2 && s[0] == '0') {
      int base = 0;
      char k = s[1];
      if (k == 'x' || k == 'X') base = 16;
      if (k == 'o' || k == 'O') base = 8;
      if (k == 'b' || k == 'B') base = 2;
      if (base) {
        double v = 0;
        bool ok = true;
        for (size_t i = 2; i < s.size(); ++i) {
          char c = static_cast<char>(std::tolower(s[i]));
          int digit = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99);
          if (digit >= base) {
            ok = false;
            break;
          }
          v = v * base + digit;
        }
        if (ok) return Val::number(v);
      }
    }
  }
  return ev.fail("D3030", -1, to_s(ev, a), "1");
}

Val fn_floor(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  return a.undef() ? a : Val::number(std::floor(a.num));
}
Val fn_ceil(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  return a.undef() ? a : Val::number(std::ceil(a.num));
}
Val fn_abs(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  return a.undef() ? a : Val::number(std::fabs(a.num));
}
Val fn_sqrt(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  if (a.num < 0) return ev.fail("D3060", -1, format_number_js(a.num));
  return Val::number(std::sqrt(a.num));
}
Val fn_power(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val b = arg(args, nargs, 1);
  if (a.undef()) return a;
  double r = std::pow(a.num, b.num);
  if (!std::isfinite(r))
    return ev.fail("D3061", -1, format_number_js(a.num), format_number_js(b.num));
  return Val::number(r);
}

// Shifts the decimal point of `d` by `shift` places through its decimal text, as jsonata-js
// does (`+(mantissa + 'e' + exponent)`), so that 1.005 shifted by 2 is exactly 100.5.
double shift_decimal(double d, int shift) {
  if (!std::isfinite(d)) return d;
  // The shortest digits that read back as d, with the exponent moved.
  char buf[64];
  auto res = std::to_chars(buf, buf + 40, d, std::chars_format::scientific);
  char* e = std::find(buf, res.ptr, 'e');
  int exp = 0;
  std::from_chars(e + 1 + (e[1] == '+' ? 1 : 0), res.ptr, exp);
  auto tail = std::to_chars(e + 1, buf + sizeof buf, exp + shift);
  double out = 0;
  std::from_chars(buf, tail.ptr, out);
  return out;
}

Val fn_round(Evaluator&, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  Val p = arg(args, nargs, 1);
  int precision = p.is_num() ? static_cast<int>(saturate(p.num, -400, 400)) : 0;
  double x = a.num;
  if (precision) x = shift_decimal(x, precision);
  double r = std::floor(x + 0.5);
  double diff = r - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  if (precision) r = shift_decimal(r, -precision);
  if (r == 0) r = 0;
  return Val::number(r);
}

Val fn_random(Evaluator&, Val*, int, Val) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return Val::number(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

Val fn_format_base(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  Val r = arg(args, nargs, 1);
  int radix = r.undef() ? 10 : static_cast<int>(saturate(r.num, -1, 99));
  if (radix < 2 || radix > 36) return ev.fail("D3100", -1, std::to_string(radix));
  if (!std::isfinite(a.num)) return ev.fail("D1001", -1, format_number_js(a.num));
  Val rounded_args[1] = {a};
  Val rounded = fn_round(ev, rounded_args, 1, Val());
  double v = rounded.num;
  bool neg = v < 0;
  v = std::fabs(v);
  std::string digits;
  if (v == 0) digits = "0";
  while (v >= 1) {
    int d = static_cast<int>(std::fmod(v, radix));
    digits += static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    v = std::floor(v / radix);
  }
  if (neg) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return ev.str(digits);
}

// ---- booleans ----
Val fn_boolean(Evaluator& ev, Val* args, int nargs, Val) {
  return ev.boolean(arg(args, nargs, 0));
}
Val fn_not(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  return Val::boolean(!ev.truthy(a));
}
Val fn_exists(Evaluator&, Val* args, int nargs, Val) {
  return Val::boolean(!arg(args, nargs, 0).undef());
}

// ---- higher order ----
Val call_hof(Evaluator& ev, Val fn, Val a1, Val a2, Val a3, Val a4 = Val()) {
  int n = ev.arity(fn);
  Val args[4] = {a1, a2, a3, a4};
  if (n < 1) n = 1;
  if (n > 4) n = 4;
  if (fn.is_fn() && fn.fn->kind == FnKind::kBuiltin) {
    // builtins take what they declare; extra arguments would fail their signature
    return ev.apply(fn, args, n, Val());
  }
  return ev.apply(fn, args, n, Val());
}

Val fn_map(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (a.undef()) return a;
  Array* result = ev.new_seq(a.arr->size);
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    Val r = call_hof(ev, f, a.arr->data[i], Val::number(i), a);
    if (ev.failed()) return Val();
    if (!r.undef()) ev.push(result, r);
  }
  return Val::array(result);
}

Val fn_filter(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (a.undef()) return a;
  Array* result = ev.new_seq();
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    Val r = call_hof(ev, f, a.arr->data[i], Val::number(i), a);
    if (ev.failed()) return Val();
    if (ev.truthy(r)) ev.push(result, a.arr->data[i]);
  }
  return Val::array(result);
}

Val fn_single(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (a.undef()) return a;
  bool found = false;
  Val result;
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    bool positive = true;
    if (!f.undef()) {
      Val r = call_hof(ev, f, a.arr->data[i], Val::number(i), a);
      if (ev.failed()) return Val();
      positive = ev.truthy(r);
    }
    if (positive) {
      if (found) return ev.fail("D3138", -1, "", std::to_string(i));
      result = a.arr->data[i];
      found = true;
    }
  }
  if (!found) return ev.fail("D3139");
  return result;
}

Val fn_reduce(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  Val init = arg(args, nargs, 2);
  if (a.undef()) return a;
  int n = ev.arity(f);
  if (n < 2) return ev.fail("D3050", -1, "", "1");
  Val result;
  uint32_t index;
  if (init.undef() && a.arr->size > 0) {
    result = a.arr->data[0];
    index = 1;
  } else {
    result = init;
    index = 0;
  }
  for (; index < a.arr->size; ++index) {
    Val call_args[4] = {result, a.arr->data[index], Val::number(index), a};
    result = ev.apply(f, call_args, std::min(n, 4), Val());
    if (ev.failed()) return Val();
  }
  return result;
}

Val fn_zip(Evaluator& ev, Val* args, int nargs, Val) {
  Array* result = ev.new_array();
  if (nargs == 0) return Val::array(result);
  uint32_t length = UINT32_MAX;
  for (int i = 0; i < nargs; ++i) {
    length = std::min(length, args[i].is_arr() ? args[i].arr->size : 0u);
  }
  for (uint32_t i = 0; i < length; ++i) {
    Array* tuple = ev.new_array(static_cast<uint32_t>(nargs));
    for (int k = 0; k < nargs; ++k) ev.push(tuple, args[k].arr->data[i]);
    ev.push(result, Val::array(tuple));
  }
  return Val::array(result);
}

Val fn_sift(Evaluator& ev, Val* args, int nargs, Val) {
  Val o = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (o.undef()) return o;
  Object* result = ev.new_object();
  for (uint32_t i = 0; i < o.obj->size; ++i) {
    const Member& m = o.obj->data[i];
    Val r = call_hof(ev, f, m.value, Val::string(m.key), o);
    if (ev.failed()) return Val();
    if (ev.truthy(r)) ev.set(result, m.key, m.value);
  }
  if (result->size == 0) return Val();
  return Val::object(result);
}

Val fn_each(Evaluator& ev, Val* args, int nargs, Val) {
  Val o = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (o.undef()) return o;
  Array* result = ev.new_seq();
  for (uint32_t i = 0; i < o.obj->size; ++i) {
    const Member& m = o.obj->data[i];
    Val r = call_hof(ev, f, m.value, Val::string(m.key), o);
    if (ev.failed()) return Val();
    if (!r.undef()) ev.push(result, r);
  }
  return Val::array(result);
}

// ---- objects and arrays ----
Val fn_keys(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Array* result = ev.new_seq();
  auto add_keys = [&](Object* o, std::unordered_set<std::string_view>* seen) {
    for (uint32_t i = 0; i < o->size; ++i) {
      if (seen && !seen->insert(o->data[i].key).second) continue;
      ev.push(result, Val::string(o->data[i].key));
    }
  };
  if (a.is_arr()) {
    std::unordered_set<std::string_view> seen;
    for (uint32_t i = 0; i < a.arr->size; ++i) {
      if (a.arr->data[i].is_obj()) add_keys(a.arr->data[i].obj, &seen);
    }
  } else if (a.is_obj()) {
    add_keys(a.obj, nullptr);
  }
  if (result->size == 0) return Val();
  return Val::array(result);
}

Val lookup_value(Evaluator& ev, Val input, std::string_view key) {
  if (!ev.stack_ok()) return Val();
  if (input.is_arr()) {
    Array* result = ev.new_seq();
    for (uint32_t i = 0; i < input.arr->size; ++i) {
      Val r = lookup_value(ev, input.arr->data[i], key);
      if (r.undef()) continue;
      if (r.is_arr()) {
        for (uint32_t j = 0; j < r.arr->size; ++j) ev.push(result, r.arr->data[j]);
      } else {
        ev.push(result, r);
      }
    }
    return Val::array(result);
  }
  if (input.is_obj()) {
    const Val* v = Evaluator::get(input.obj, key);
    return v ? *v : Val();
  }
  return Val();
}

Val fn_lookup(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val k = arg(args, nargs, 1);
  if (k.undef()) return Val();
  Val r = lookup_value(ev, a, k.sv());
  if (r.is_arr() && r.arr->sequence) {
    if (r.arr->size == 0) return Val();
    if (r.arr->size == 1) return r.arr->data[0];
  }
  return r;
}

Val fn_append(Evaluator& ev, Val* args, int nargs, Val) {
  return ev.flatten_append(arg(args, nargs, 0), arg(args, nargs, 1));
}

Val spread(Evaluator& ev, Val v) {
  if (!ev.stack_ok()) return Val();
  if (v.is_arr()) {
    Val result = Val::array(ev.new_seq());
    for (uint32_t i = 0; i < v.arr->size; ++i) {
      result = ev.flatten_append(result, spread(ev, v.arr->data[i]));
    }
    return result;
  }
  if (v.is_obj()) {
    Array* result = ev.new_seq(v.obj->size);
    for (uint32_t i = 0; i < v.obj->size; ++i) {
      Object* o = ev.new_object(1);
      ev.set(o, v.obj->data[i].key, v.obj->data[i].value);
      ev.push(result, Val::object(o));
    }
    return Val::array(result);
  }
  return v;
}

Val fn_spread(Evaluator& ev, Val* args, int nargs, Val) {
  return spread(ev, arg(args, nargs, 0));
}

Val fn_merge(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  Object* result = ev.new_object();
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    Val o = a.arr->data[i];
    for (uint32_t k = 0; k < o.obj->size; ++k)
      ev.set(result, o.obj->data[k].key, o.obj->data[k].value);
  }
  return Val::object(result);
}

Val fn_reverse(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  if (a.arr->size <= 1) return a;
  Array* result = ev.new_array(a.arr->size);
  for (uint32_t i = a.arr->size; i-- > 0;) ev.push(result, a.arr->data[i]);
  return Val::array(result);
}

Val fn_error(Evaluator& ev, Val* args, int nargs, Val) {
  Val m = arg(args, nargs, 0);
  ev.fail("D3137", -1, m.is_str() ? std::string(m.sv()) : "$error() function evaluated");
  return Val();
}

Val fn_assert(Evaluator& ev, Val* args, int nargs, Val) {
  Val c = arg(args, nargs, 0);
  Val m = arg(args, nargs, 1);
  if (!c.is_bool()) return ev.fail("T0410", -1, "", "1");
  if (!c.b) {
    ev.fail("D3141", -1, m.is_str() ? std::string(m.sv()) : "$assert() statement failed");
  }
  return Val();
}

Val fn_type(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  switch (a.kind) {
    case Kind::kUndefined:
      return Val();
    case Kind::kNull:
      return Val::string("null");
    case Kind::kBool:
      return Val::string("boolean");
    case Kind::kNumber:
      return Val::string("number");
    case Kind::kString:
      return Val::string("string");
    case Kind::kArray:
      return Val::string("array");
    case Kind::kObject:
      return Val::string("object");
    case Kind::kFunction:
      return Val::string("function");
  }
  (void)ev;
  return Val();
}

// Merge sort with jsonata-js's comparator convention: `swap(a, b)` true means b goes first.
template <typename Swap>
bool merge_sort(std::vector<Val>& items, Swap swap) {
  if (items.size() <= 1) return true;
  size_t mid = items.size() / 2;
  std::vector<Val> left(items.begin(), items.begin() + mid);
  std::vector<Val> right(items.begin() + mid, items.end());
  if (!merge_sort(left, swap) || !merge_sort(right, swap)) return false;
  size_t i = 0, j = 0, k = 0;
  while (i < left.size() && j < right.size()) {
    int s = swap(left[i], right[j]);
    if (s < 0) return false;
    if (s) {
      items[k++] = right[j++];
    } else {
      items[k++] = left[i++];
    }
  }
  while (i < left.size()) items[k++] = left[i++];
  while (j < right.size()) items[k++] = right[j++];
  return true;
}

Val fn_sort(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  Val f = arg(args, nargs, 1);
  if (a.undef()) return a;
  if (a.arr->size <= 1) return a;
  std::vector<Val> items(a.arr->data, a.arr->data + a.arr->size);
  bool ok;
  if (f.undef()) {
    bool all_num = true, all_str = true;
    for (Val v : items) {
      all_num &= v.is_num();
      all_str &= v.is_str();
    }
    if (!all_num && !all_str) return ev.fail("D3070", -1, "", "1");
    ok = merge_sort(items, [](Val x, Val y) -> int {
      if (x.is_num()) return x.num > y.num;
      return x.sv() > y.sv();
    });
  } else {
    ok = merge_sort(items, [&](Val x, Val y) -> int {
      Val call_args[2] = {x, y};
      Val r = ev.apply(f, call_args, 2, Val());
      if (ev.failed()) return -1;
      return ev.truthy(r) ? 1 : 0;
    });
  }
  if (!ok) return Val();
  Array* result = ev.new_array(a.arr->size);
  for (Val v : items) ev.push(result, v);
  return Val::array(result);
}

Val fn_shuffle(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (a.undef()) return a;
  if (a.arr->size <= 1) return a;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Array* result = ev.new_array(a.arr->size);
  for (uint32_t i = 0; i < a.arr->size; ++i) ev.push(result, a.arr->data[i]);
  std::shuffle(result->data, result->data + result->size, rng);
  return Val::array(result);
}

Val fn_distinct(Evaluator& ev, Val* args, int nargs, Val) {
  Val a = arg(args, nargs, 0);
  if (!a.is_arr()) return a;
  if (a.arr->size <= 1) return a;
  Array* result = ev.new_seq();
  for (uint32_t i = 0; i < a.arr->size; ++i) {
    bool seen = false;
    for (uint32_t j = 0; j < result->size && !seen; ++j) {
      seen = ev.deep_equal(result->data[j], a.arr->data[i]);
    }
    if (!seen) ev.push(result, a.arr->data[i]);
  }
  return Val::array(result);
}

Val fn_clone(Evaluator& ev, Val* args, int nargs, Val) {
  return ev.deep_clone(arg(args, nargs, 0));
}

// ---- encodings ----
Val fn_base64encode(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  return ev.str(base64_encode(s.sv()));
}

Val fn_base64decode(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = arg(args, nargs, 0);
  if (s.undef()) return s;
  auto decoded = base64_decode(s.sv());
  if (!decoded) return ev.fail("D3137", -1, "invalid base64");
  return ev.str(*decoded);
}

Val encode_uri(Evaluator& ev, Val s, std::string_view unreserved) {
  if (s.undef()) return s;
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s.sv()) {
    if (std::isalnum(c) ||
        (c < 0x80 && unreserved.find(static_cast<char>(c)) != std::string_view::npos)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return ev.str(out);
}

Val fn_encode_url_component(Evaluator& ev, Val* args, int nargs, Val) {
  return encode_uri(ev, arg(args, nargs, 0), "-_.!~*'()");
}
Val fn_encode_url(Evaluator& ev, Val* args, int nargs, Val) {
  return encode_uri(ev, arg(args, nargs, 0), "-_.!~*'();/?:@&=+$,#");
}

Val decode_uri(Evaluator& ev, Val s, std::string_view reserved) {
  if (s.undef()) return s;
  std::string_view v = s.sv();
  std::string out;
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size() + 0 || hexval(v[i + 1]) < 0 || hexval(v[i + 2]) < 0) {
      return ev.fail("D3140", -1, std::string(v));
    }
    unsigned char c = static_cast<unsigned char>(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
    if (c < 0x80 && reserved.find(static_cast<char>(c)) != std::string_view::npos) {
      out += v.substr(i, 3);
    } else {
      out += static_cast<char>(c);
    }
    i += 2;
  }
  // the decoded bytes must be UTF-8
  for (size_t i = 0; i < out.size();) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    int extra = c < 0x80             ? 0
                : (c & 0xE0) == 0xC0 ? 1
                : (c & 0xF0) == 0xE0 ? 2
                : (c & 0xF8) == 0xF0 ? 3
                                     : -1;
    if (extra < 0 || i + extra >= out.size() + (extra == 0 ? 1 : 0)) {
      if (extra != 0) return ev.fail("D3140", -1, std::string(v));
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= out.size() || (static_cast<unsigned char>(out[i + k]) & 0xC0) != 0x80) {
        return ev.fail("D3140", -1, std::string(v));
      }
    }
    i += extra + 1;
  }
  return ev.str(out);
}

Val fn_decode_url_component(Evaluator& ev, Val* args, int nargs, Val) {
  return decode_uri(ev, arg(args, nargs, 0), "");
}
Val fn_decode_url(Evaluator& ev, Val* args, int nargs, Val) {
  return decode_uri(ev, arg(args, nargs, 0), ";/?:@&=+$,#");
}

Val fn_eval(Evaluator& ev, Val* args, int nargs, Val context) {
  Val e = arg(args, nargs, 0);
  if (e.undef()) return e;
  Val focus = nargs > 1 && !args[1].undef() ? args[1] : context;
  return ev.eval_text(e.sv(), focus, ev.current_env());
}

}  // namespace

Val fn_round_exported(Evaluator& ev, Val* args, int nargs, Val context) {
  return fn_round(ev, args, nargs, context);
}

const std::vector<BuiltinInfo>& builtin_table() {
  static const std::vector<BuiltinInfo> table = {
      {"sum", fn_sum, "<a<n>:n>", 1},
      {"count", fn_count, "<a:n>", 1},
      {"max", fn_max, "<a<n>:n>", 1},
      {"min", fn_min, "<a<n>:n>", 1},
      {"average", fn_average, "<a<n>:n>", 1},
      {"string", fn_string, "<x-b?:s>", 1},
      {"substring", fn_substring, "<s-nn?:s>", 3},
      {"substringBefore", fn_substring_before, "<s-s:s>", 2},
      {"substringAfter", fn_substring_after, "<s-s:s>", 2},
      {"lowercase", fn_lowercase, "<s-:s>", 1},
      {"uppercase", fn_uppercase, "<s-:s>", 1},
      {"length", fn_length, "<s-:n>", 1},
      {"trim", fn_trim, "<s-:s>", 1},
      {"pad", fn_pad, "<s-ns?:s>", 3},
      {"match", fn_match, "<s-f<s:o>n?:a<o>>", 3},
      {"contains", fn_contains, "<s-(sf):b>", 2},
      {"replace", fn_replace, "<s-(sf)(sf)n?:s>", 4},
      {"split", fn_split, "<s-(sf)n?:a<s>>", 3},
      {"join", fn_join, "<a<s>s?:s>", 2},
      {"formatNumber", fn_format_number, "<n-so?:s>", 3},
      {"formatBase", fn_format_base, "<n-n?:s>", 2},
      {"formatInteger", fn_format_integer, "<n-s:s>", 2},
      {"parseInteger", fn_parse_integer, "<s-s:n>", 2},
      {"number", fn_number, "<(nsb)-:n>", 1},
      {"floor", fn_floor, "<n-:n>", 1},
      {"ceil", fn_ceil, "<n-:n>", 1},
      {"round", fn_round, "<n-n?:n>", 2},
      {"abs", fn_abs, "<n-:n>", 1},
      {"sqrt", fn_sqrt, "<n-:n>", 1},
      {"power", fn_power, "<n-n:n>", 2},
      {"random", fn_random, "<:n>", 0},
      {"boolean", fn_boolean, "<x-:b>", 1},
      {"not", fn_not, "<x-:b>", 1},
      {"map", fn_map, "<af>", 2},
      {"zip", fn_zip, "<a+>", 0},
      {"filter", fn_filter, "<af>", 2},
      {"single", fn_single, "<af?>", 2},
      {"reduce", fn_reduce, "<afj?:j>", 3},
      {"sift", fn_sift, "<o-f?:o>", 2},
      {"keys", fn_keys, "<x-:a<s>>", 1},
      {"lookup", fn_lookup, "<x-s:x>", 2},
      {"append", fn_append, "<xx:a>", 2},
      {"exists", fn_exists, "<x:b>", 1},
      {"spread", fn_spread, "<x-:a<o>>", 1},
      {"merge", fn_merge, "<a<o>:o>", 1},
      {"reverse", fn_reverse, "<a:a>", 1},
      {"each", fn_each, "<o-f:a>", 2},
      {"error", fn_error, "<s?:x>", 1},
      {"assert", fn_assert, "<bs?:x>", 2},
      {"type", fn_type, "<x:s>", 1},
      {"sort", fn_sort, "<af?:a>", 2},
      {"shuffle", fn_shuffle, "<a:a>", 1},
      {"distinct", fn_distinct, "<x:x>", 1},
      {"base64encode", fn_base64encode, "<s-:s>", 1},
      {"base64decode", fn_base64decode, "<s-:s>", 1},
      {"encodeUrlComponent", fn_encode_url_component, "<s-:s>", 1},
      {"encodeUrl", fn_encode_url, "<s-:s>", 1},
      {"decodeUrlComponent", fn_decode_url_component, "<s-:s>", 1},
      {"decodeUrl", fn_decode_url, "<s-:s>", 1},
      {"eval", fn_eval, "<sx?:x>", 2},
      {"toMillis", fn_to_millis, "<s-s?:n>", 2},
      {"fromMillis", fn_from_millis, "<n-s?s?:s>", 3},
      {"clone", fn_clone, "<(oa)-:o>", 1},
      {"now", fn_now, "<s?s?:s>", 2},
      {"millis", fn_millis, "<:n>", 0},
  };
  return table;
}

const Signature* builtin_signature(size_t index) {
  static const std::vector<Signature> signatures = [] {
    std::vector<Signature> out;
    for (const BuiltinInfo& info : builtin_table()) {
      Signature sig;
      std::string code;
      int offset = 0;
      parse_signature(info.signature, sig, code, offset);
      out.push_back(std::move(sig));
    }
    return out;
  }();
  return &signatures[index];
}

Val regex_match_object(Evaluator& ev, const RE2* re, std::string_view subject, size_t from,
                       const Node* node) {
  if (from > 0 && from >= subject.size()) return Val();
  int ngroups = re->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups) + 1);
  if (!re->Match(subject, from, subject.size(), RE2::UNANCHORED, groups.data(), ngroups + 1)) {
    return Val();
  }
  size_t start = static_cast<size_t>(groups[0].data() - subject.data());
  size_t end = start + groups[0].size();
  if (from > 0 && start == end) return ev.fail("D1004", node ? node->position : -1);
  Object* o = ev.new_object(5);
  ev.set(o, "match", Val::string(std::string_view(groups[0].data(), groups[0].size())));
  ev.set(o, "start", Val::number(static_cast<double>(cp_index(subject, start))));
  ev.set(o, "end", Val::number(static_cast<double>(cp_index(subject, end))));
  Array* g = ev.new_array(static_cast<uint32_t>(ngroups));
  for (int i = 1; i <= ngroups; ++i) {
    ev.push(g, Val::string(groups[i].data() ? std::string_view(groups[i].data(), groups[i].size())
                                            : std::string_view()));
  }
  ev.set(o, "groups", Val::array(g));
  Function* next = ev.new_function(FnKind::kNext);
  next->regex = re;
  next->subject = subject;
  next->offset = end;
  next->node = node;
  ev.set(o, "next", Val::function(next));
  return Val::object(o);
}

}  // namespace canonry::expr
