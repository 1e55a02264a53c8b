# Warnings are errors in our own code; third-party headers are included as system headers.
function(stackhouse_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
    -Wimplicit-fallthrough -Wno-missing-field-initializers)
endfunction()
