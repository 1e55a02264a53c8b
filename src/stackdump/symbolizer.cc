#include "stackdump/symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace stackhouse::stackdump::detail {
namespace {

// Default search path for separate debug files (".debug" beside the object, /usr/lib/debug).
char* debuginfoPath = nullptr;

const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &debuginfoPath,
};

const char* baseName(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

// The name of a subprogram or inlined-subroutine DIE, following abstract origins: the linkage
// name demangled when there is one (it carries namespaces and parameters), else the plain name.
std::string dieFunctionName(Dwarf_Die* die) {
  Dwarf_Attribute attribute;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attribute) != nullptr) {
      if (const char* linkage = dwarf_formstring(&attribute)) return demangle(linkage);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attribute) != nullptr) {
    if (const char* plain = dwarf_formstring(&attribute)) return plain;
  }
  return {};
}

bool udataAttribute(Dwarf_Die* die, int name, Dwarf_Word& value) {
  Dwarf_Attribute attribute;
  return dwarf_attr(die, name, &attribute) != nullptr && dwarf_formudata(&attribute, &value) == 0;
}

// The DIEs physically enclosing `address`, innermost first: inlined subroutines, lexical
// blocks, the subprogram, the unit. dwarf_getscopes alone is not enough: past the innermost
// inlined subroutine it lists the scopes of that function's abstract definition, not the
// functions it was inlined into. So it only finds the innermost scope, and
// dwarf_getscopes_die walks the physical parents from there (as eu-addr2line -i does).
int enclosingScopes(Dwarf_Die* cu, Dwarf_Addr address, Dwarf_Die** chain) {
  *chain = nullptr;
  Dwarf_Die* scopes = nullptr;
  const int count = dwarf_getscopes(cu, address, &scopes);
  int result = 0;
  for (int i = 0; i < count; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
      result = dwarf_getscopes_die(&scopes[i], chain);
      break;
    }
  }
  std::free(scopes);
  return result > 0 ? result : 0;
}

// Expands the calls inlined at `address` (a DWARF address of `cu`, already adjusted for return
// addresses) into one Location each. `innermost` holds the line table's answer, which belongs
// to the innermost inlined body; each DW_TAG_inlined_subroutine names its function and gives,
// through DW_AT_call_file/DW_AT_call_line, the location in the function around it.
void expandInlines(Dwarf_Die* cu, Dwarf_Addr address, Location innermost, std::string symbol,
                   std::vector<Location>& out) {
  Dwarf_Die* chain = nullptr;
  const int count = enclosingScopes(cu, address, &chain);
  Dwarf_Files* files = nullptr;
  size_t fileCount = 0;
  if (dwarf_getsrcfiles(cu, &files, &fileCount) != 0) files = nullptr;

  Location current = std::move(innermost);
  std::string subprogramName;
  for (int i = 0; i < count; ++i) {
    const int tag = dwarf_tag(&chain[i]);
    if (tag == DW_TAG_subprogram) {
      subprogramName = dieFunctionName(&chain[i]);
      break;
    }
    if (tag != DW_TAG_inlined_subroutine) continue;  // lexical blocks
    current.function = dieFunctionName(&chain[i]);
    current.inlined = true;
    out.push_back(current);
    Location caller;
    Dwarf_Word file = 0;
    Dwarf_Word line = 0;
    if (files != nullptr && udataAttribute(&chain[i], DW_AT_call_file, file)) {
      if (const char* name = dwarf_filesrc(files, file, nullptr, nullptr)) caller.file = name;
    }
    if (udataAttribute(&chain[i], DW_AT_call_line, line)) caller.line = static_cast<int>(line);
    current = std::move(caller);
  }
  std::free(chain);
  // The machine frame's own function: its ELF symbol when there is one (the name the linker
  // and other tools show), else the DWARF name of the enclosing subprogram.
  current.function = !symbol.empty() ? std::move(symbol) : std::move(subprogramName);
  current.inlined = false;
  out.push_back(std::move(current));
}

}  // namespace

std::string demangle(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string result(demangled);
  std::free(demangled);
  return result;
}

Symbolizer::~Symbolizer() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

void Symbolizer::refresh() {
  if (dwfl_ == nullptr) dwfl_ = dwfl_begin(&kCallbacks);
  if (dwfl_ == nullptr) return;
  dwfl_report_begin(dwfl_);
  dwfl_linux_proc_report(dwfl_, getpid());
  dwfl_report_end(dwfl_, nullptr, nullptr);
}

FrameDescription Symbolizer::describe(const Frame& frame) {
  const std::uintptr_t key = frame.pc * 2 + (frame.exact ? 1 : 0);
  if (auto it = cache_.find(key); it != cache_.end()) {
    // Still the same module at that address? (A library unloaded and another loaded in its
    // place would make the cached description lie.) A binary search, no DWARF.
    Dwfl_Module* module =
        dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, frame.exact ? frame.pc : frame.pc - 1) : nullptr;
    const char* name = module != nullptr ? dwfl_module_info(module, nullptr, nullptr, nullptr,
                                                            nullptr, nullptr, nullptr, nullptr)
                                         : nullptr;
    if ((name == nullptr && it->second.module.empty()) ||
        (name != nullptr && baseName(name) == it->second.module)) {
      return it->second;
    }
    cache_.erase(it);
  }
  // Bounded: a long-lived process dumping many different stacks keeps at most this many.
  if (cache_.size() >= 65536) cache_.clear();
  return cache_.emplace(key, describeUncached(frame)).first->second;
}

FrameDescription Symbolizer::describeUncached(const Frame& frame) {
  FrameDescription description;
  // A return address points after the call; the call itself is one byte earlier.
  const Dwarf_Addr address = frame.exact ? frame.pc : frame.pc - 1;
  Dwfl_Module* module = dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, address) : nullptr;
  if (module == nullptr) {
    description.locations.emplace_back();
    return description;
  }
  Dwarf_Addr start = 0;
  const char* moduleName =
      dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
  description.module = moduleName != nullptr ? baseName(moduleName) : "";
  Dwarf_Addr bias = 0;
  if (dwfl_module_getelf(module, &bias) == nullptr) bias = start;
  description.moduleOffset = frame.pc - bias;

  std::string symbol;
  if (const char* name = dwfl_module_addrname(module, address)) {
    // Versioned ELF symbols read "name@@VERSION"; the version is noise here.
    symbol = demangle(std::string(name).substr(0, std::strcspn(name, "@")).c_str());
  }
  // Line information only when a compilation unit really covers the address: libdwfl may
  // otherwise answer with the nearest unit's last line (seen: _start, which has no DWARF,
  // reported at a line of basic_string.h).
  Dwarf_Addr cuBias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(module, address, &cuBias);
  if (cu == nullptr || dwarf_haspc(cu, address - cuBias) <= 0) {
    description.locations.push_back({.function = std::move(symbol)});
    return description;
  }
  Location innermost;
  if (Dwfl_Line* line = dwfl_module_getsrc(module, address)) {
    int lineNumber = 0;
    if (const char* file = dwfl_lineinfo(line, nullptr, &lineNumber, nullptr, nullptr, nullptr)) {
      innermost.file = file;
      innermost.line = lineNumber;
    }
  }
  expandInlines(cu, address - cuBias, std::move(innermost), std::move(symbol),
                description.locations);
  return description;
}

}  // namespace stackhouse::stackdump::detail
