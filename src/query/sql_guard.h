// A lexical check of user SQL before it reaches the read-only connection.
//
// The read connection runs with readonly = 1, which already blocks writes, DDL, file() and url().
// This check is the second line: it gives a clear refusal for what the API never serves, and
// keeps working if a future engine version loosens readonly. It accepts one statement starting
// with SELECT, WITH, SHOW, DESCRIBE/DESC, EXPLAIN or EXISTS, and refuses table functions that
// reach outside the store (file, url, s3, remote, mysql, ...), INTO OUTFILE, and SETTINGS that
// try to change readonly. String literals, quoted identifiers and comments are skipped, so a
// value like 'file(' inside a string is not mistaken for a call.
#pragma once

#include <string_view>

#include "common/status.h"

namespace stackhouse::query {

// OK, or kPermissionDenied naming what was refused, or kInvalidArgument for empty input.
Status checkReadOnlySql(std::string_view sql);

}  // namespace stackhouse::query
